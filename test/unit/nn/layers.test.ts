// Layers: construction checks, parameter naming, train/eval, initialisation statistics, printing.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { Activation, BasicBlock, BatchNorm, Conv2d, Flatten, Linear, Sequential } from '../../../src/nn/index.js';
import { Rng } from '../../../src/tensor/rng.js';
import { activation } from '../../../src/tensor/ops/activation.js';
import { add } from '../../../src/tensor/ops/elementwise.js';
import { meanSquaredError } from '../../../src/tensor/ops/loss.js';
import { Tensor, noGrad } from '../../../src/tensor/tensor.js';
import { gradError, randomTensor } from '../../util/gradcheck.js';

before(() => setBackend(referenceBackend));

test('hyperparameters are checked with the value in the message', () => {
  const rng = new Rng(1);
  assert.throws(() => new Linear(0, 3, rng), /Linear: expected inFeatures >= 1, got 0/);
  assert.throws(() => new Conv2d(3, 8, 3, rng, { stride: 0 }), /Conv2d: expected stride >= 1, got 0/);
  assert.throws(() => new BatchNorm(4, { momentum: 2 }), /BatchNorm: expected 0 <= momentum <= 1, got 2/);
});

test('dotted parameter and buffer names, as in checkpoints', () => {
  const rng = new Rng(1);
  const model = new Sequential(new Linear(4, 3, rng), new Activation('relu'), new Sequential(new Linear(3, 2, rng, { bias: false }), new BatchNorm(2)));
  assert.deepEqual(model.namedParameters().map(([n]) => n), ['0.weight', '0.bias', '2.0.weight', '2.1.weight', '2.1.bias']);
  assert.deepEqual(model.namedBuffers().map(([n]) => n), ['2.1.runningMean', '2.1.runningVar']);
  const block = new BasicBlock(4, 8, 2, rng);
  assert.ok(block.namedParameters().some(([n]) => n === 'shortcut.0.weight'));
});

test('He initialisation has the variance 2 / fanIn', () => {
  const layer = new Linear(2000, 500, new Rng(3));
  let sum = 0, sq = 0;
  for (const v of layer.weight.data) {
    sum += v;
    sq += v * v;
  }
  const n = layer.weight.size;
  const variance = sq / n - (sum / n) ** 2;
  assert.ok(Math.abs(variance / (2 / 2000) - 1) < 0.02, `variance ratio ${variance / (2 / 2000)}`);
  assert.ok(layer.bias!.data.every((b) => b === 0));
});

test('eval mode uses running statistics; train() switches every child', () => {
  const bnorm = new BatchNorm(2);
  const model = new Sequential(new Flatten(), bnorm);
  model.eval();
  assert.equal(bnorm.training, false);
  const y = noGrad(() => model.forward(Tensor.from([1, 2, 3, 4], [2, 2])));
  // running mean 0, running var 1: y = x / sqrt(1 + eps)
  assert.ok(Math.abs(y.data[3]! - 4 / Math.sqrt(1 + 1e-5)) < 1e-6);
  model.train();
  assert.equal(bnorm.training, true);
});

test('a residual block is differentiable end to end', () => {
  const rng = new Rng(4);
  const block = new BasicBlock(2, 3, 2, rng, 'elu');
  const x = randomTensor([2, 4, 4, 2], rng);
  const params = block.parameters();
  assert.ok(gradError(([x]) => block.forward(x!), [x, ...params]) < 1e-2);
});

test('BatchNorm then ReLU runs fused in Sequential and BasicBlock: the same outputs and gradients as layer by layer', () => {
  const rng = new Rng(9);
  const x = randomTensor([2, 4, 4, 8], rng);
  const target = randomTensor([2, 2, 2, 16], rng, false);
  // + 0: a masked gradient may be -0 one way and 0 the other
  const gradsOf = (params: Tensor[], forward: () => Tensor) => {
    for (const p of params) p.grad = null;
    const y = forward();
    meanSquaredError(y, target).backward();
    return { y: Array.from(y.data), grads: params.map((p) => Array.from(p.grad ?? [], (v) => v + 0)) };
  };
  const block = new BasicBlock(8, 16, 2, rng);
  const seq = new Sequential(new Conv2d(8, 16, 3, rng, { stride: 2, padding: 1 }), new BatchNorm(16), new Activation('relu'));
  for (const [model, byHand] of [
    [seq, () => seq.layers.reduce((y, layer) => layer.forward(y), x)],
    [block, () => {
      const h = activation('relu', block.bn1.forward(block.conv1.forward(x)));
      const skip = block.shortcut![1]!.forward(block.shortcut![0].forward(x));
      return activation('relu', add(block.bn2.forward(block.conv2.forward(h)), skip));
    }],
  ] as const) {
    const params = [x, ...model.parameters()];
    const fused = gradsOf(params, () => model.forward(x));
    assert.ok(fused.y.some((v) => v === 0) && fused.y.some((v) => v > 0));
    assert.deepEqual(fused, gradsOf(params, byHand));
  }
});

test('printing shows the structure', () => {
  const model = new Sequential(new Conv2d(3, 8, 3, new Rng(1), { padding: 1 }), new Activation('elu'));
  assert.equal(model.toString(), 'Sequential(\n  (0): Conv2d(3, 8, kernelSize=3, stride=1, padding=1, bias=true)\n  (1): Activation(elu, alpha=1)\n)');
});
