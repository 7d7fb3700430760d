// Fused optimizer steps, PyTorch semantics, in place on float32 parameters and state.
import type { AdamAttrs, F32, SgdAttrs } from '../kernel_names.js';
import { requireSameLength } from './check.js';

/** The smallest normal float32. */
const FLT_MIN = 2 ** -126;

/** x as float32, or 0 if that is subnormal. */
const flushSubnormal = (x: number): number => {
  const f = Math.fround(x);
  return Math.abs(f) < FLT_MIN ? 0 : f;
};

/**
 * Adam / AdamW with bias correction, step t >= 1:
 *   coupled L2 (decoupled false, wd > 0): g += wd * p
 *   decoupled (AdamW):                     p *= 1 - lr * wd
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2   (a subnormal m or v is stored as 0)
 *   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 */
export function adamStep(param: F32, grad: F32, m: F32, v: F32, attrs: AdamAttrs): void {
  const { lr, beta1, beta2, eps, weightDecay, decoupled, step } = attrs;
  const n = param.length;
  requireSameLength('adamStep', 'grad', grad, n, 'param');
  requireSameLength('adamStep', 'm', m, n, 'param');
  requireSameLength('adamStep', 'v', v, n, 'param');
  if (!Number.isSafeInteger(step) || step < 1) throw new RangeError(`adamStep: step must be an integer >= 1, got ${step}`);
  const c1 = 1 - beta1 ** step;
  const c2 = 1 - beta2 ** step;
  for (let i = 0; i < n; i++) {
    let p = param[i];
    let g = grad[i];
    if (decoupled) p *= 1 - lr * weightDecay;
    else if (weightDecay > 0) g += weightDecay * p;
    // moments below the smallest normal float are stored as zero, as the native kernel does
    const mi = flushSubnormal(beta1 * m[i] + (1 - beta1) * g);
    const vi = flushSubnormal(beta2 * v[i] + (1 - beta2) * g * g);
    m[i] = mi;
    v[i] = vi;
    param[i] = p - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + eps);
  }
}

/**
 * SGD with optional momentum (dampening 0):
 *   g += wd * p;  if momentum != 0: buf = momentum * buf + g,  g = nesterov ? g + momentum * buf : buf
 *   p -= lr * g
 * A zero-initialised buffer makes the first step buf = g, as PyTorch's lazily created buffer does.
 */
export function sgdStep(param: F32, grad: F32, momentumBuffer: F32, attrs: SgdAttrs): void {
  const { lr, momentum, weightDecay, nesterov } = attrs;
  const n = param.length;
  requireSameLength('sgdStep', 'grad', grad, n, 'param');
  if (momentum !== 0) requireSameLength('sgdStep', 'momentumBuffer', momentumBuffer, n, 'param');
  for (let i = 0; i < n; i++) {
    let g = grad[i] + weightDecay * param[i];
    if (momentum !== 0) {
      const b = momentum * momentumBuffer[i] + g;
      momentumBuffer[i] = b;
      g = nesterov ? g + momentum * b : b;
    }
    param[i] = param[i] - lr * g;
  }
}
