// Accumulation of parameter gradients written by an op's backward closure directly (instead of
// being returned to the autograd loop), for kernels that produce them separately from dx.
import { backend } from '../../backend/backend.js';
import type { Tensor } from '../tensor.js';

/** t.grad += g; takes ownership of g when t has no gradient yet. */
export function addInto(t: Tensor, g: Float32Array): void {
  if (t.grad === null) t.grad = g;
  else backend().add(t.grad, g, t.grad);
}
