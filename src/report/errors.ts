import { AnalysisError } from '../analysis/errors.js';

/**
 * A run directory (or one of its files) that the report cannot use: the message names the file
 * and what is wrong. An AnalysisError, so the CLI exits 2 on it as on the analyses' own.
 */
export class ReportError extends AnalysisError {
  override name = 'ReportError';
}
