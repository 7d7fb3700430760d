/** A training run that cannot go on (non-finite loss, bad configuration found mid-run). */
export class TrainingError extends Error {
  override name = 'TrainingError';
}
