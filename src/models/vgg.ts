// The VGG of the AL paper's CIFAR code: conv-BN-act blocks 128, 256, pool, 256, 512, pool,
// 512, pool, 512, pool (3×3, padded), then dense-BN-act 1500 × 300 × 300 × 300 × 300 and the
// classifier. 32×32 inputs reach 2×2×512 before the dense layers, 28×28 inputs 1×1×512.
// The authors' variant: dense widths 5n, n, n, n, n (n = 500 with 100 classes), Glorot-uniform
// dense weights (their dense layers take TensorFlow's default initialiser) and TensorFlow's
// batch-norm settings.
import { Activation, BatchNorm, Conv2d, Flatten, Linear, MaxPool2d, Sequential, type Layer } from '../nn/index.js';
import type { Rng } from '../tensor/rng.js';
import type { Activation as ActivationKind } from '../backend/kernel_names.js';
import { authorsDenseHead, authorsWidth, TF_BATCH_NORM, type ModelSpec } from './common.js';
import type { BatchNormOptions } from '../nn/index.js';

export const VGG_CONV: readonly (number | 'pool')[] = [128, 256, 'pool', 256, 512, 'pool', 512, 'pool', 512, 'pool'];
export const VGG_DENSE = [1500, 300, 300, 300, 300] as const;

function convBn(inC: number, outC: number, rng: Rng, act: ActivationKind, batchNorm?: BatchNormOptions): Sequential {
  return new Sequential(new Conv2d(inC, outC, 3, rng, { padding: 1, bias: false }), new BatchNorm(outC, batchNorm), new Activation(act));
}

export function buildVgg(spec: ModelSpec): Sequential {
  const act = spec.activation ?? 'relu';
  const authors = spec.variant === 'authors';
  const batchNorm = authors ? TF_BATCH_NORM : undefined;
  let [h, w, c] = spec.inputShape;
  const layers: Layer[] = [];
  for (const item of VGG_CONV) {
    if (item === 'pool') {
      layers.push(new MaxPool2d(2));
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
    } else {
      layers.push(convBn(c, item, spec.rng, act, batchNorm));
      c = item;
    }
  }
  layers.push(new Flatten());
  if (authors) return new Sequential(...layers, ...authorsDenseHead(h * w * c, authorsWidth('vgg', spec.inputShape, spec.classes), spec.classes, spec.rng, act, batchNorm, { init: 'glorot' }));
  let width = h * w * c;
  for (const units of VGG_DENSE) {
    layers.push(new Sequential(new Linear(width, units, spec.rng, { bias: false }), new BatchNorm(units), new Activation(act)));
    width = units;
  }
  layers.push(new Linear(width, spec.classes, spec.rng));
  return new Sequential(...layers);
}
