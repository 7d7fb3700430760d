// A stage given a state or a configuration that does not fit what it built.
export class StageConfigError extends Error {
  override name = 'StageConfigError';
}

/** A stage lost its connection to its downstream neighbour: the coordinator blames that neighbour. */
export class DownstreamLostError extends Error {
  override name = 'DownstreamLostError';
}
