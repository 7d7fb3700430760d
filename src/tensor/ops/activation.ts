// Pointwise activations. Backward is computed from the output y, so the input need not be kept.
// Elementwise, so the output keeps the input's layout.
import { backend } from '../../backend/backend.js';
import type { Activation } from '../../backend/kernel_names.js';
import { Tensor, fromOp } from '../tensor.js';

export function activation(kind: Activation, x: Tensor, alpha = kind === 'elu' ? 1 : 0): Tensor {
  const b = backend();
  const y = Tensor.empty(x.shape, x.layout);
  b.activationForward(kind, x.storage, y.storage, alpha);
  return fromOp(kind, y, [x], (dy) => {
    // in place: dy is the engine's own and dies with this closure (Tensor.backward), so writing
    // dx over it spares a buffer and the memory traffic of filling a fresh one
    b.activationBackward(kind, y.storage, dy, dy, alpha);
    return [dy];
  });
}

export const relu = (x: Tensor): Tensor => activation('relu', x);
export const elu = (x: Tensor, alpha = 1): Tensor => activation('elu', x, alpha);
export const sigmoid = (x: Tensor): Tensor => activation('sigmoid', x);
export const tanh = (x: Tensor): Tensor => activation('tanh', x);
