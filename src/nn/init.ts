// Weight initialisers. All draw from an explicit Rng so that a seed fixes every weight.
// Normal draws go through the backend's kernel (Rng.fillNormal): a wide AL net draws tens of millions.
import type { Rng } from '../tensor/rng.js';
import { Tensor, type Shape } from '../tensor/tensor.js';

/** He et al. 2015 (https://arxiv.org/abs/1502.01852): N(0, 2 / fanIn), suited to ReLU/ELU. */
export function heNormal(shape: Shape, fanIn: number, rng: Rng): Tensor {
  const t = Tensor.zeros(shape, true);
  rng.fillNormal(t.data, Math.sqrt(2 / fanIn));
  return t;
}

/** Glorot & Bengio 2010: U(-a, a) with a = sqrt(6 / (fanIn + fanOut)), suited to sigmoid. */
export function glorotUniform(shape: Shape, fanIn: number, fanOut: number, rng: Rng): Tensor {
  const t = Tensor.zeros(shape, true);
  const a = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < t.size; i++) t.data[i] = (2 * rng.next() - 1) * a;
  return t;
}

export function constant(shape: Shape, value: number): Tensor {
  const t = Tensor.zeros(shape, true);
  t.data.fill(value);
  return t;
}

export type Initializer = 'he' | 'glorot' | 'near-identity';

/**
 * The identity on the leading diagonal plus He-normal noise scaled by `noise`: a layer that starts
 * by passing its input on (slightly perturbed so units differ). AL's square code maps g and h start
 * this way so that class codes keep their spread through depth instead of contracting.
 */
export function nearIdentity(shape: Shape, fanIn: number, rng: Rng, noise = 0.05): Tensor {
  const t = heNormal(shape, fanIn, rng);
  const [rows, cols] = [shape[0]!, shape[1]!];
  for (let i = 0; i < t.size; i++) t.data[i]! *= noise;
  for (let i = 0; i < Math.min(rows, cols); i++) t.data[i * cols + i]! += 1;
  return t;
}
