// The lecture's MLP: 5 hidden layers 1024 × 1024 × 5120 × 1024 × 1024 (the 5120-wide layer is
// the authors' "addition layer for bridge"), then a linear classifier.
import { Activation, Flatten, Linear, Sequential, type Layer } from '../nn/index.js';
import type { ModelSpec } from './common.js';

export const MLP_HIDDEN = [1024, 1024, 5120, 1024, 1024] as const;

export function buildMlp(spec: ModelSpec, hidden: readonly number[] = MLP_HIDDEN): Sequential {
  const act = spec.activation ?? 'relu';
  const [h, w, c] = spec.inputShape;
  const layers: Layer[] = [new Flatten()];
  let width = h * w * c;
  for (const units of hidden) {
    layers.push(new Sequential(new Linear(width, units, spec.rng), new Activation(act)));
    width = units;
  }
  layers.push(new Linear(width, spec.classes, spec.rng));
  return new Sequential(...layers);
}
