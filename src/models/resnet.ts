// CIFAR ResNets (He et al. 2016, https://arxiv.org/abs/1512.03385): a 3×3 stem with 16 channels,
// three stages of n basic blocks with 16, 32 and 64 channels (stride 2 entering stages 2 and 3),
// global average pooling and a linear classifier. Depth 6n + 2: ResNet-20 has n = 3, ResNet-32 n = 5.
// Top-level children: stem, stage1, stage2, stage3, head, so that AL can cut at stage borders.
// The authors' variant: their block (BasicBlock form 'authors'), their head (global average
// pooling, then dense 5n, n, n, n, n with batch norm, n = 300 or 500 with 100 classes) and
// TensorFlow's batch-norm settings.
import { Activation, BasicBlock, BatchNorm, Conv2d, GlobalAvgPool, Linear, Sequential } from '../nn/index.js';
import { authorsDenseHead, authorsWidth, ModelError, TF_BATCH_NORM, type ModelSpec } from './common.js';

export function buildResnet(spec: ModelSpec, depth: number): Sequential {
  if ((depth - 2) % 6 !== 0 || depth < 8) throw new ModelError(`resnet: expected depth 6n + 2 (20, 32, ...), got ${depth}`);
  const blocks = (depth - 2) / 6;
  const act = spec.activation ?? 'relu';
  const authors = spec.variant === 'authors';
  const batchNorm = authors ? TF_BATCH_NORM : {};
  const stem = new Sequential(
    new Conv2d(spec.inputShape[2], 16, 3, spec.rng, { padding: 1, bias: false }),
    new BatchNorm(16, batchNorm),
    new Activation(act),
  );
  const stages: Sequential[] = [];
  let channels = 16;
  for (const [i, width] of [16, 32, 64].entries()) {
    const stage: BasicBlock[] = [];
    for (let b = 0; b < blocks; b++) {
      stage.push(new BasicBlock(channels, width, b === 0 && i > 0 ? 2 : 1, spec.rng, act, authors ? { form: 'authors', batchNorm } : {}));
      channels = width;
    }
    stages.push(new Sequential(...stage));
  }
  const head = authors
    ? new Sequential(new GlobalAvgPool(), ...authorsDenseHead(64, authorsWidth('resnet', spec.inputShape, spec.classes), spec.classes, spec.rng, act, batchNorm))
    : new Sequential(new GlobalAvgPool(), new Linear(64, spec.classes, spec.rng));
  return new Sequential(stem, ...stages, head);
}
