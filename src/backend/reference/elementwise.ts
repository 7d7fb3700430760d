// Elementwise kernels: activations (forward from x, backward from the forward output y) and the
// two vector updates. Every one works index by index, so outputs may alias inputs.
//
// NaN policy: a NaN in any input gives NaN in the matching output, backward passes included, so a
// diverged step shows up in the loss instead of being masked to 0.
import type { Activation, F32 } from '../kernel_names.js';
import { requireSameLength } from './check.js';

function checkKind(kernel: string, kind: Activation): void {
  if (kind !== 'relu' && kind !== 'elu' && kind !== 'sigmoid' && kind !== 'tanh') throw new RangeError(`${kernel}: unknown activation '${String(kind)}'`);
}

/**
 * relu:    y = max(x, 0)                                 (Math.max keeps NaN)
 * elu:     y = x > 0 ? x : alpha * (exp(x) - 1)          (expm1 for accuracy near 0)
 * sigmoid: y = 1 / (1 + exp(-x))                         (exp overflow gives 1/inf = 0, the right limit)
 * tanh:    y = tanh(x)
 */
export function activationForward(kind: Activation, x: F32, y: F32, alpha: number): void {
  checkKind('activationForward', kind);
  const n = x.length;
  requireSameLength('activationForward', 'y', y, n, 'x');
  if (kind === 'relu') for (let i = 0; i < n; i++) y[i] = Math.max(x[i], 0);
  else if (kind === 'elu') for (let i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : alpha * Math.expm1(x[i]);
  else if (kind === 'tanh') for (let i = 0; i < n; i++) y[i] = Math.tanh(x[i]);
  else for (let i = 0; i < n; i++) y[i] = 1 / (1 + Math.exp(-x[i]));
}

/**
 * From y = f(x):
 * relu:    dx = dy * (y > 0)          (a NaN y gives NaN, not 0)
 * elu:     dx = dy * (y > 0 ? 1 : y + alpha)      since d/dx alpha*(e^x - 1) = alpha*e^x = y + alpha
 * sigmoid: dx = dy * y * (1 - y)
 * tanh:    dx = dy * (1 - y * y)
 */
export function activationBackward(kind: Activation, y: F32, dy: F32, dx: F32, alpha: number): void {
  checkKind('activationBackward', kind);
  const n = y.length;
  requireSameLength('activationBackward', 'dy', dy, n, 'y');
  requireSameLength('activationBackward', 'dx', dx, n, 'y');
  if (kind === 'relu') for (let i = 0; i < n; i++) dx[i] = dy[i] * (y[i] > 0 ? 1 : y[i] <= 0 ? 0 : NaN);
  else if (kind === 'elu') for (let i = 0; i < n; i++) dx[i] = dy[i] * (y[i] > 0 ? 1 : y[i] + alpha);
  else if (kind === 'tanh') for (let i = 0; i < n; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
  else for (let i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);
}

/** out = a + b */
export function add(a: F32, b: F32, out: F32): void {
  const n = a.length;
  requireSameLength('add', 'b', b, n, 'a');
  requireSameLength('add', 'out', out, n, 'a');
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
}

/**
 * y = alpha * x + beta * y. As in BLAS, beta = 0 overwrites y without reading it, so a stale NaN
 * in a reused buffer does not survive being "zeroed" (NaN in x still propagates).
 */
export function axpby(alpha: number, x: F32, beta: number, y: F32): void {
  const n = x.length;
  requireSameLength('axpby', 'y', y, n, 'x');
  if (beta === 0) for (let i = 0; i < n; i++) y[i] = alpha * x[i];
  else for (let i = 0; i < n; i++) y[i] = alpha * x[i] + beta * y[i];
}
