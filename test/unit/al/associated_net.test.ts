// Locality of AL (no gradient crosses a layer), independence of the layers' updates, prediction
// from every exit layer, and the effective / affiliated parameter split.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ALConfigError, oneHot } from '../../../src/al/associated_net.js';
import { buildAssociatedNet } from '../../../src/al/decompositions.js';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { Rng } from '../../../src/tensor/rng.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { randomTensor } from '../../util/gradcheck.js';

before(() => setBackend(referenceBackend));

const small = (seed = 1, layers = 3) => buildAssociatedNet({ model: 'mlp', inputShape: [3, 3, 1], classes: 4, rng: new Rng(seed), layers, tWidth: 5, lr: 1e-2 });
const labels = Int32Array.from([0, 3, 1, 2, 2]);

test("the gradient of layer i's losses is exactly zero outside layer i", () => {
  const net = small();
  const x = randomTensor([5, 3, 3, 1], new Rng(9), false);
  for (let i = 0; i < net.depth; i++) {
    for (const p of [...net.effectiveParameters(), ...net.affiliatedParameters()]) p.grad = null;
    // Inputs of layer i built WITH a graph through the layers below, so only the layer's own
    // detachment can keep the gradient from flowing down.
    let s: Tensor = x, t: Tensor = oneHot(labels, 4);
    for (let j = 0; j < i; j++) {
      s = net.layers[j]!.parts.f.forward(s);
      t = net.layers[j]!.parts.g.forward(t);
    }
    assert.ok(i === 0 || (s.requiresGrad && t.requiresGrad));
    net.layers[i]!.trainStep(s, t);
    net.layers.forEach((layer, j) => {
      for (const [name, p] of layer.namedParameters()) {
        if (j === i) assert.ok(p.grad !== null && p.grad.some((g) => g !== 0), `layer ${i + 1} ${name} has no gradient`);
        else assert.ok(p.grad === null || p.grad.every((g) => g === 0), `layer ${j + 1} ${name} got a gradient from layer ${i + 1}'s losses`);
      }
    });
  }
});

test("a layer's update does not change when another layer's loss is changed", () => {
  const x = randomTensor([5, 3, 3, 1], new Rng(9), false);
  const a = small(3), b = small(3);
  // Change layer 2's losses only: its bridge and decoder weights (neither feeds another layer).
  for (const p of [...b.layers[1]!.parts.b.parameters(), ...b.layers[1]!.parts.h.parameters()]) p.data.forEach((v, i, d) => (d[i] = v * 1.5 + 0.1));
  const la = a.trainStep(x, labels).losses, lb = b.trainStep(x, labels).losses;
  assert.notEqual(la[1]!.associatedLoss, lb[1]!.associatedLoss);
  assert.notEqual(la[1]!.autoencoderLoss, lb[1]!.autoencoderLoss);
  for (const i of [0, 2]) {
    assert.deepEqual(la[i], lb[i]);
    const pa = a.layers[i]!.namedParameters(), pb = b.layers[i]!.namedParameters();
    pa.forEach(([name, p], k) => assert.deepEqual(p.data, pb[k]![1].data, `layer ${i + 1} ${name}`));
  }
});

test('prediction from each exit layer; effective + affiliated = all parameters', () => {
  const net = small(4, 3);
  const x = randomTensor([2, 3, 3, 1], new Rng(1), false);
  for (let k = 1; k <= 3; k++) assert.deepEqual(net.predict(x, k).shape, [2, 4]);
  assert.throws(() => net.predict(x, 4), (e: unknown) => e instanceof ALConfigError && /expected an exit layer from 1 to 3, got 4/.test(e.message));
  const all = net.namedParameters().length;
  assert.equal(net.effectiveParameters().length + net.affiliatedParameters().length, all);
  // f1 f2 f3, h1 h2 h3 and b3 (2 dense layers) are effective: each dense has weight + bias
  assert.equal(net.effectiveParameters().length, 2 * (3 + 3 + 2));
});

test('oneHot checks labels', () => {
  assert.deepEqual([...oneHot(Int32Array.from([1, 0]), 3).data], [0, 1, 0, 1, 0, 0]);
  assert.throws(() => oneHot(Int32Array.from([3]), 3), /expected labels in 0..2, got 3 at row 0/);
});
