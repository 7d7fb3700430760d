// The paper's MLP: 5 hidden layers 1024 × 1024 × 5120 × 1024 × 1024 (the 5120-wide layer is
// the authors' "addition layer for bridge"), then a linear classifier. The authors' variant
// widens it to n, n, 5n, n, n with n = 3000 on colour images, as their CIFAR code does. Other
// widths come from spec.hidden (`al train --hidden`): 1024 x 5, for one, is the size of the
// prediction path of AL's MLP (f1, f2, the last bridge, h2, h1), a BP of the same size.
import { Flatten, Sequential } from '../nn/index.js';
import { authorsWidth, denseHead, type ModelSpec } from './common.js';

export const MLP_HIDDEN = [1024, 1024, 5120, 1024, 1024] as const;

export function buildMlp(spec: ModelSpec): Sequential {
  const act = spec.activation ?? 'relu';
  const [h, w, c] = spec.inputShape;
  const n = authorsWidth('mlp', spec.inputShape, spec.classes);
  const hidden = spec.hidden ?? (spec.variant === 'authors' ? [n, n, 5 * n, n, n] : MLP_HIDDEN);
  return new Sequential(new Flatten(), ...denseHead(h * w * c, hidden, spec.classes, spec.rng, act));
}
