// releaseGraph: a finished graph's buffers go back to the free list, each once, leaves and kept
// tensors never; and BP and AL steps that release their graphs (as bpStep and ALLayer.trainStep
// do) train exactly like steps that do not, which they could not if a released buffer were still
// in use.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { oneHot } from '../../../src/al/associated_net.js';
import { buildAssociatedNet } from '../../../src/al/decompositions.js';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { buildModel } from '../../../src/models/index.js';
import { Adam } from '../../../src/optim/adam.js';
import { activation } from '../../../src/tensor/ops/activation.js';
import { meanSquaredError, softmaxCrossEntropy } from '../../../src/tensor/ops/loss.js';
import { Rng } from '../../../src/tensor/rng.js';
import { Tensor, gradBuffer, releaseGraph } from '../../../src/tensor/tensor.js';
import { bpStep } from '../../../src/train/bp_trainer.js';
import { randomTensor } from '../../util/gradcheck.js';

before(() => setBackend(referenceBackend));

test('releaseGraph hands every op output buffer out once, a reshaped view with it, never a leaf', () => {
  const rng = new Rng(3);
  // an odd length no other test uses, so the free list holds only this graph's buffers of it
  const x = randomTensor([7, 13], rng);
  const y = activation('elu', x);
  const z = activation('sigmoid', y.reshape([13, 7]));
  const loss = meanSquaredError(z, randomTensor([13, 7], rng, false));
  loss.backward();
  const outputs = new Set([y.storage.buffer, z.storage.buffer]);
  releaseGraph(loss);
  assert.equal(z.node, null);
  const handedOut = new Set<ArrayBufferLike>();
  for (let i = 0; i < 6; i++) {
    const b = gradBuffer(91);
    assert.ok(!handedOut.has(b.buffer), 'a buffer handed out twice');
    assert.notEqual(b.buffer, x.storage.buffer, 'a leaf was released');
    handedOut.add(b.buffer);
  }
  for (const b of outputs) assert.ok(handedOut.has(b), 'an op output was not released');
});

test('BP steps that release their graph train bit-identically to steps that keep it', () => {
  const run = (release: boolean): Float32Array[] => {
    const rng = new Rng(5);
    const model = buildModel('cnn', { inputShape: [8, 8, 1], classes: 10, rng });
    const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
    for (let step = 0; step < 3; step++) {
      const x = randomTensor([4, 8, 8, 1], rng, false);
      const labels = Int32Array.from({ length: 4 }, () => rng.int(10));
      if (release) {
        bpStep(model, optimizer, x, labels);
      } else {
        optimizer.zeroGrad();
        softmaxCrossEntropy(model.forward(x), labels).backward();
        optimizer.step();
      }
    }
    return model.parameters().map((p: Tensor) => p.data.slice());
  };
  const kept = run(false);
  const released = run(true);
  released.forEach((p, i) => assert.deepEqual(p, kept[i], `parameter ${i}`));
});

test('releaseGraph leaves the buffers of the tensors it is told to keep', () => {
  const rng = new Rng(4);
  // another odd length of its own
  const x = randomTensor([5, 19], rng);
  const y = activation('elu', x);
  const z = activation('sigmoid', y);
  const loss = meanSquaredError(z, randomTensor([5, 19], rng, false));
  loss.backward();
  releaseGraph(loss, [y.detach()]);
  const handedOut = new Set(Array.from({ length: 4 }, () => gradBuffer(95).buffer));
  assert.ok(handedOut.has(z.storage.buffer), 'an op output was not released');
  assert.ok(!handedOut.has(y.storage.buffer), 'a kept tensor was released');
});

test('AL steps that release their graphs train bit-identically to steps that keep them, and hand on s, t and b(s) intact', () => {
  const build = () => buildAssociatedNet({ model: 'mlp', inputShape: [4, 4, 1], classes: 3, rng: new Rng(6), layers: 3, tWidth: 16, lr: 1e-2 });
  const batches = (() => {
    const rng = new Rng(7);
    return Array.from({ length: 3 }, () => ({ x: randomTensor([6, 4, 4, 1], rng, false), labels: Int32Array.from({ length: 6 }, () => rng.int(3)) }));
  })();
  const released = build();
  for (const { x, labels } of batches) {
    let s = x, t = oneHot(labels, 3);
    let handedOn: { index: number; tensors: Tensor[]; copies: Float32Array[] } | null = null;
    for (const layer of released.layers) {
      const out = layer.trainStep(s, t);
      // this step reused the buffers the previous layer released: what that layer handed on must be intact
      if (handedOn) handedOn.tensors.forEach((v, i) => assert.deepEqual(v.data, handedOn!.copies[i], `layer ${handedOn!.index}: output ${i} changed under the next layer's step`));
      handedOn = { index: layer.index, tensors: [out.s, out.t, out.bridged], copies: [out.s, out.t, out.bridged].map((v) => v.data.slice()) };
      s = out.s;
      t = out.t;
    }
  }
  const kept = build();
  for (const { x, labels } of batches) {
    let s = x, t = oneHot(labels, 3);
    for (const layer of kept.layers) {
      const { f, b, g, h } = layer.parts;
      const sIn = s.detach(), tIn = t.detach();
      layer.forwardOptimizer.zeroGrad();
      layer.targetOptimizer.zeroGrad();
      const sOut = f.forward(sIn), tOut = g.forward(tIn);
      meanSquaredError(b.forward(sOut), tOut.detach()).backward();
      meanSquaredError(h.forward(tOut), tIn).backward();
      layer.forwardOptimizer.step();
      layer.targetOptimizer.step();
      s = sOut.detach();
      t = tOut.detach();
    }
  }
  const params = (net: typeof kept) => net.layers.flatMap((l) => l.namedParameters().map(([, p]) => p.data.slice()));
  const want = params(kept);
  params(released).forEach((p, i) => assert.deepEqual(p, want[i], `parameter ${i}`));
});
