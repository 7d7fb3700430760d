// Finite-difference gradient checks through autograd. The loss is an MSE against a fixed random
// target, so every output element gets a different weight in the gradient.
import { meanSquaredError } from '../../src/tensor/ops/loss.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';

export function randomTensor(shape: number[], rng: Rng, requiresGrad = true, scale = 1): Tensor {
  const t = Tensor.zeros(shape, requiresGrad);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.normal() * scale;
  return t;
}

/**
 * Largest |analytic - numeric| / max(1, |numeric|) over every element of every input.
 * Central differences with step h on float32 data: the reference backend accumulates in float64,
 * so with h = 1e-2 the error is dominated by O(h^2) curvature and float32 rounding, ~1e-3.
 */
export function gradError(f: (inputs: Tensor[]) => Tensor, inputs: Tensor[], seed = 7, h = 1e-2): number {
  const rng = new Rng(seed);
  const probe = f(inputs);
  const target = randomTensor([...probe.shape], rng, false);
  const loss = (): number => meanSquaredError(f(inputs), target).data[0]!;
  for (const t of inputs) t.grad = null;
  meanSquaredError(f(inputs), target).backward();
  let worst = 0;
  for (const t of inputs) {
    if (!t.requiresGrad) continue;
    const analytic = t.grad ?? new Float32Array(t.size);
    for (let i = 0; i < t.size; i++) {
      const saved = t.data[i]!;
      t.data[i] = saved + h;
      const up = loss();
      t.data[i] = saved - h;
      const down = loss();
      t.data[i] = saved;
      const numeric = (up - down) / (2 * h);
      worst = Math.max(worst, Math.abs(analytic[i]! - numeric) / Math.max(1, Math.abs(numeric)));
    }
  }
  return worst;
}
