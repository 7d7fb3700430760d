// Elementwise arithmetic between tensors of the same shape (no broadcasting: the networks here
// never need it, and a silent broadcast would hide shape bugs).
import { backend } from '../../backend/backend.js';
import { ShapeError, shapeString } from '../errors.js';
import { Tensor, fromOp } from '../tensor.js';

/** a + b, in a's layout (b is reordered to it when they differ, e.g. a residual's identity). */
export function add(a: Tensor, b: Tensor): Tensor {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`add: expected equal shapes, got ${shapeString(a.shape)} and ${shapeString(b.shape)}`);
  }
  b = b.toLayout(a.layout);
  const y = Tensor.empty(a.shape, a.layout);
  backend().add(a.storage, b.storage, y.storage);
  return fromOp('add', y, [a, b], (dy) => [dy, dy]);
}

/** [n, ...] -> [n, product of the rest]. */
export function flatten(x: Tensor): Tensor {
  const n = x.shape[0] ?? 1;
  return x.reshape([n, n === 0 ? 0 : x.size / n]);
}
