// A stage given a state or a configuration that does not fit what it built.
export class StageConfigError extends Error {
  override name = 'StageConfigError';
}
