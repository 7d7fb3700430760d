// The paper's MLP: 5 hidden layers 1024 × 1024 × 5120 × 1024 × 1024 (the 5120-wide layer is
// the authors' "addition layer for bridge"), then a linear classifier.
import { Flatten, Sequential } from '../nn/index.js';
import { denseHead, type ModelSpec } from './common.js';

export const MLP_HIDDEN = [1024, 1024, 5120, 1024, 1024] as const;

export function buildMlp(spec: ModelSpec, hidden: readonly number[] = MLP_HIDDEN): Sequential {
  const act = spec.activation ?? 'relu';
  const [h, w, c] = spec.inputShape;
  return new Sequential(new Flatten(), ...denseHead(h * w * c, hidden, spec.classes, spec.rng, act));
}
