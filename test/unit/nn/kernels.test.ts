// Weight decay on kernels only (which tensors decayedParameters selects, and optimizers that
// decay those alone), and the authors' form of the ResNet basic block against its formula.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { createOptimizer } from '../../../src/optim/factory.js';
import { Activation, BasicBlock, BatchNorm, Conv2d, Linear, Sequential, decayedParameters } from '../../../src/nn/index.js';
import { Adam } from '../../../src/optim/adam.js';
import { SGD } from '../../../src/optim/sgd.js';
import { activation } from '../../../src/tensor/ops/activation.js';
import { add } from '../../../src/tensor/ops/elementwise.js';
import { Rng } from '../../../src/tensor/rng.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { randomTensor } from '../../util/gradcheck.js';

before(() => setBackend(referenceBackend));

test('decayedParameters: conv and dense weights, or conv weights only; never biases or batch norm', () => {
  const rng = new Rng(1);
  const conv = new Conv2d(3, 4, 3, rng), linear = new Linear(8, 2, rng), bn = new BatchNorm(4);
  const block = new BasicBlock(4, 8, 2, rng, 'relu', { form: 'authors' });
  const model = new Sequential(conv, bn, new Activation('relu'), block, linear);
  assert.deepEqual(decayedParameters(model, 'kernels'), [conv.weight, block.conv1.weight, block.conv2.weight, block.shortcut![0].weight, linear.weight]);
  assert.deepEqual(decayedParameters(model, 'conv-kernels'), [conv.weight, block.conv1.weight, block.conv2.weight, block.shortcut![0].weight]);
  assert.deepEqual(decayedParameters([conv, linear], 'all'), [conv.weight, conv.bias, linear.weight, linear.bias]);
});

test('Adam and SGD decay only the given tensors: each moves as it would alone, with or without decay', () => {
  const makers = {
    Adam: (p: Tensor[], wd: number, decayed?: Tensor[]) => new Adam(p, { lr: 0.1, weightDecay: wd, ...(decayed ? { decayed } : {}) }),
    SGD: (p: Tensor[], wd: number, decayed?: Tensor[]) => new SGD(p, { lr: 0.1, momentum: 0.9, weightDecay: wd, ...(decayed ? { decayed } : {}) }),
  };
  for (const [name, make] of Object.entries(makers)) {
    const kernel = Tensor.from([1, -2], [2], true), bias = Tensor.from([3, 4], [2], true);
    const kernelAlone = Tensor.from([1, -2], [2], true), biasAlone = Tensor.from([3, 4], [2], true);
    const both = make([kernel, bias], 0.5, [kernel]);
    const decayedAlone = make([kernelAlone], 0.5), plainAlone = make([biasAlone], 0);
    for (let step = 0; step < 3; step++) {
      for (const [t, g] of [[kernel, [0.3, -0.1]], [kernelAlone, [0.3, -0.1]], [bias, [0.2, 0.2]], [biasAlone, [0.2, 0.2]]] as const) t.grad = Float32Array.from(g);
      both.step();
      decayedAlone.step();
      plainAlone.step();
    }
    assert.deepEqual(Array.from(kernel.data), Array.from(kernelAlone.data), `${name}: the decayed tensor`);
    assert.deepEqual(Array.from(bias.data), Array.from(biasAlone.data), `${name}: the other, undecayed`);
    assert.deepEqual(both.decays, [true, false]);
  }
  const a = Tensor.from([1], [1], true), b = Tensor.from([2], [1], true);
  assert.throws(() => new Adam([a], { decayed: [b] }), /Adam: expected the decayed tensors among the optimizer's parameters, got 1 that are not/);
  assert.throws(() => createOptimizer([a], { kind: 'adam', lr: 0.1, weightDecay: 0.5, decayOn: 'kernels' }), /createOptimizer: weight decay on 'kernels' needs the decayed tensors, got none/);
});

test("the authors' block: act(act(bn2(conv2(h))) + conv1x1(x)), the 1x1 conv with a bias and no batch norm", () => {
  const rng = new Rng(4);
  const x = randomTensor([2, 6, 6, 3], rng, false);
  for (const act of ['relu', 'elu'] as const) {
    const block = new BasicBlock(3, 8, 2, rng, act, { form: 'authors' });
    assert.deepEqual(block.children().map(([n]) => n), ['conv1', 'bn1', 'conv2', 'bn2', 'shortcut.0']);
    assert.ok(block.shortcut![0].bias !== null);
    block.shortcut![0].bias!.data.fill(0.25);
    const h = activation(act, block.bn1.forward(block.conv1.forward(x)));
    const main = activation(act, block.bn2.forward(block.conv2.forward(h)));
    const byHand = activation(act, add(main, block.shortcut![0].forward(x)));
    const out = block.forward(x);
    assert.deepEqual(out.shape, [2, 3, 3, 8]);
    out.data.forEach((v, i) => assert.ok(Math.abs(v - byHand.data[i]!) <= 1e-6, `${act} element ${i}: ${v} against ${byHand.data[i]}`));
  }
  const identity = new BasicBlock(4, 4, 1, rng, 'relu', { form: 'authors' });
  assert.equal(identity.shortcut, null);
});
