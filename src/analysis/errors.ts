/** A run directory's file that an analysis cannot use: the message names the file and what is wrong. */
export class AnalysisError extends Error {
  override name = 'AnalysisError';
}
