/** A tensor shape that does not fit an operation; the message names both shapes and the op. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

/**
 * A tensor read while its elements are elsewhere: a pipeline moved them to the stages that train
 * them (see Tensor.adopt) and has not brought them back, for example because the run failed.
 */
export class GivenAwayError extends Error {
  override name = 'GivenAwayError';
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
