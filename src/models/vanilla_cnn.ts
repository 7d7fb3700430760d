// The paper's Vanilla CNN, as the authors' code builds it: four 3×3 convolutions with 32
// kernels (the fourth with stride 2), four with 64 (the fourth with stride 2), all padded to keep
// the size, each followed by the activation (fused into the convolution's kernel), then fully
// connected 1280 × 256 × 256 × 256 × 256 and the classifier.
// 28×28 inputs end the convolutions at 7×7×64, 32×32 inputs at 8×8×64. The authors' variant
// widens the dense layers to 2500 × 500 × ... with 100 classes, as their CIFAR-100 code does.
import { Conv2d, Flatten, Sequential, type Layer } from '../nn/index.js';
import { windowOutput } from '../tensor/ops/conv.js';
import { authorsDenseHead, authorsWidth, denseHead, type ModelSpec } from './common.js';

export const CNN_DENSE = [1280, 256, 256, 256, 256] as const;

export function buildVanillaCnn(spec: ModelSpec): Sequential {
  const act = spec.activation ?? 'relu';
  let [h, w, c] = spec.inputShape;
  const layers: Layer[] = [];
  for (const channels of [32, 64]) {
    for (let i = 0; i < 4; i++) {
      const stride = i === 3 ? 2 : 1;
      layers.push(new Sequential(new Conv2d(c, channels, 3, spec.rng, { stride, padding: 1, activation: act })));
      c = channels;
      h = windowOutput(h, 3, stride, 1);
      w = windowOutput(w, 3, stride, 1);
    }
  }
  const head = spec.variant === 'authors'
    ? authorsDenseHead(h * w * c, authorsWidth('cnn', spec.inputShape, spec.classes), spec.classes, spec.rng, act)
    : denseHead(h * w * c, CNN_DENSE, spec.classes, spec.rng, act);
  return new Sequential(...layers, new Flatten(), ...head);
}
