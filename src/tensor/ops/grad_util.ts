// Accumulation of parameter gradients written by an op's backward closure directly (instead of
// being returned to the autograd loop), for kernels that produce them separately from dx.
import { backend } from '../../backend/backend.js';
import { freeGradBuffer, type Tensor } from '../tensor.js';

/**
 * t.grad += g for a g from gradBuffer: t takes g over when it has no gradient yet; otherwise, and
 * when t takes no gradient at all (a kernel wrote g beside ones that were wanted), g is given back.
 */
export function addInto(t: Tensor, g: Float32Array): void {
  if (!t.requiresGrad) {
    freeGradBuffer(g);
    return;
  }
  if (t.grad === null) {
    t.grad = g;
    return;
  }
  backend().add(t.grad, g, t.grad);
  freeGradBuffer(g);
}
