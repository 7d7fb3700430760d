// One error type for everything that can be wrong with a dataset on disk, so that callers (the CLI
// in particular) can tell "your data files are bad or missing" apart from bugs and print the
// message as it is: the message always starts with the file's full path.

export class DataError extends Error {
  /** Full path of the file at fault (or the path we looked for, when it is missing). */
  readonly file: string;
  /** The problem alone, without the path, for callers that format their own messages. */
  readonly problem: string;

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.name = 'DataError';
    this.file = file;
    this.problem = problem;
  }
}
