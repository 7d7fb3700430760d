/** A tensor shape that does not fit an operation; the message names both shapes and the op. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
