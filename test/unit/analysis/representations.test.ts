// Representations of a network's layers and their class distances: the seeded test sample, what
// each probe returns (the same tensors as running the layers by hand, in evaluation mode), the
// two streamed passes agreeing with the distances of the materialised features, the targets'
// inter-class distance, and the accuracy of every exit layer.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { oneHot } from '../../../src/al/associated_net.js';
import { predictAL } from '../../../src/al/al_learner.js';
import { buildAssociatedNet } from '../../../src/al/decompositions.js';
import { classDistances, meanPairwiseDistance } from '../../../src/analysis/class_distances.js';
import { exitAccuracies } from '../../../src/analysis/exit_accuracy.js';
import { alProbe, collectFeatures, measureDistances, moduleName, sampleSplit, sequentialProbe, targetInterDistance, withInput } from '../../../src/analysis/representations.js';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import type { Split } from '../../../src/data/dataset.js';
import { Activation, BasicBlock, BatchNorm, Flatten, Linear, Sequential } from '../../../src/nn/index.js';
import { Rng } from '../../../src/tensor/rng.js';
import { Tensor, noGrad } from '../../../src/tensor/tensor.js';

before(() => setBackend(referenceBackend));

/** n images [3, 3, 1] whose pixels lean towards their class, so classes are separable. */
function split(n: number, classes: number, seed: number): Split {
  const rng = new Rng(seed);
  const labels = Int32Array.from({ length: n }, () => rng.int(classes));
  const images = Float32Array.from({ length: n * 9 }, (_, i) => rng.normal() * 0.3 + (i % 9 === labels[Math.floor(i / 9)]! ? 2 : 0));
  return { images, labels, n, shape: [3, 3, 1], classes };
}

/** Equal up to float32 rounding: the centroids are summed in another order when batches differ. */
const near = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

const net = (seed = 1, layers = 3) => buildAssociatedNet({ model: 'mlp', inputShape: [3, 3, 1], classes: 4, rng: new Rng(seed), layers, tWidth: 5, lr: 1e-2 });

test('sampleSplit: n distinct samples chosen by the seed, each image with its own label', () => {
  const s = split(50, 4, 2);
  const a = sampleSplit(s, 20, 5), b = sampleSplit(s, 20, 5), c = sampleSplit(s, 20, 6);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.images, c.images);
  assert.equal(a.n, 20);
  const seen = new Set<number>();
  for (let i = 0; i < a.n; i++) {
    const image = a.images.subarray(i * 9, (i + 1) * 9);
    const index = Array.from({ length: s.n }, (_, j) => j).find((j) => s.images.subarray(j * 9, (j + 1) * 9).every((v, p) => v === image[p]))!;
    assert.ok(index !== undefined && !seen.has(index), `sample ${i} is a distinct image of the split`);
    seen.add(index);
    assert.equal(a.labels[i], s.labels[index]);
  }
  assert.equal(sampleSplit(s, 50, 1).n, 50);
  assert.throws(() => sampleSplit(s, 51, 1), /expected 2 to 50 samples \(the split's size\), got 51/);
});

test('alProbe: s_k and b_k(s_k) are the encoders and bridges run by hand, for the chosen layers only', () => {
  const alNet = net();
  const x = new Tensor(split(6, 4, 3).images, [6, 3, 3, 1]);
  const probe = alProbe(alNet, [1, 3]);
  assert.deepEqual(probe.names, ['s1', 'b1(s1)', 's3', 'b3(s3)']);
  const out = probe.run(x);
  noGrad(() => {
    const s1 = alNet.layers[0]!.encode(x), s2 = alNet.layers[1]!.encode(s1), s3 = alNet.layers[2]!.encode(s2);
    assert.deepEqual([...out[0]!.data], [...s1.data]);
    assert.deepEqual([...out[1]!.data], [...alNet.layers[0]!.bridge(s1).data]);
    assert.deepEqual([...out[2]!.data], [...s3.data]);
    assert.deepEqual([...out[3]!.data], [...alNet.layers[2]!.bridge(s3).data]);
  });
  assert.throws(() => alProbe(alNet, [4]), /expected layers from 1 to 3, got 4/);
});

test('sequentialProbe: each top-level module output, in evaluation mode, named by its parts', () => {
  const rng = new Rng(4);
  const model = new Sequential(new Flatten(), new Sequential(new Linear(9, 6, rng), new BatchNorm(6), new Activation('relu')), new Linear(6, 4, rng));
  const s = split(12, 4, 5);
  // running statistics that differ from any batch's, so evaluation mode is visible
  model.train(true);
  noGrad(() => model.forward(new Tensor(s.images.map((v) => 3 * v + 1), [12, 3, 3, 1])));
  const probe = sequentialProbe(model, [2, 3]);
  assert.deepEqual(probe.names, ['2 Linear+BatchNorm+Activation', '3 Linear']);
  assert.equal(moduleName(model.layers[0]!), 'Flatten');
  assert.equal(moduleName(new Sequential(new BasicBlock(2, 2, 1, rng), new BasicBlock(2, 2, 1, rng))), 'BasicBlock+BasicBlock', 'blocks keep their name');
  const x = new Tensor(s.images, [12, 3, 3, 1]);
  const rows = measureDistances(probe, s, 5);
  assert.equal(model.training, true, 'training mode is restored');
  model.eval();
  const hidden = noGrad(() => model.layers[1]!.forward(model.layers[0]!.forward(x)));
  const logits = noGrad(() => model.layers[2]!.forward(hidden));
  model.train(true);
  const want = [classDistances(hidden.data, s.labels, 4, 6), classDistances(logits.data, s.labels, 4, 4)];
  rows.forEach((r, i) => {
    assert.ok(near(r.inter, want[i]!.inter) && near(r.intra, want[i]!.intra), `${r.name}: ${r.inter}/${r.intra} vs ${want[i]!.inter}/${want[i]!.intra}`);
    assert.equal(r.features, want[i]!.features);
  });
  assert.throws(() => sequentialProbe(model, [0]), /expected layers from 1 to 3, got 0/);
});

test('measureDistances streams two passes in batches: the same figures as on the materialised features', () => {
  const alNet = net(2);
  const s = split(23, 4, 6);
  const rows = measureDistances(withInput(alProbe(alNet, [1, 2, 3])), s, 4);
  assert.deepEqual(rows.map((r) => r.name), ['x (input)', 's1', 'b1(s1)', 's2', 'b2(s2)', 's3', 'b3(s3)']);
  const input = classDistances(s.images, s.labels, 4, 9);
  assert.ok(near(rows[0]!.ratio!, input.ratio!));
  alNet.train(false);
  const s2 = noGrad(() => alNet.layers[1]!.encode(alNet.layers[0]!.encode(new Tensor(s.images, [23, 3, 3, 1]))));
  alNet.train(true);
  const want = classDistances(s2.data, s.labels, 4, 5);
  assert.ok(near(rows[3]!.inter, want.inter) && near(rows[3]!.intra, want.intra));
  // the input leans towards its class's pixel: well separated, ratio above 1
  assert.ok(rows[0]!.ratio! > 1, `input ratio ${rows[0]!.ratio}`);
});

test('measureDistances keeps the features for pass 2 when they fit, else runs the forward again: same figures', () => {
  const alNet = net(5);
  const s = split(23, 4, 9);
  const counting = (): { probe: ReturnType<typeof alProbe>; calls: () => number } => {
    const inner = alProbe(alNet, [1, 2]);
    let calls = 0;
    return { probe: { ...inner, run: (x) => (calls++, inner.run(x)) }, calls: () => calls };
  };
  const kept = counting(), streamed = counting();
  const a = measureDistances(kept.probe, s, 5);
  const b = measureDistances(streamed.probe, s, 5, 0);
  assert.equal(kept.calls(), 5, 'one forward per batch of 5 over 23 points');
  assert.equal(streamed.calls(), 10, 'two passes of forwards');
  assert.deepEqual(a, b);
});

test('collectFeatures: one output of the probe for every point, batch by batch, in evaluation mode', () => {
  const rng = new Rng(6);
  const model = new Sequential(new Flatten(), new Sequential(new Linear(9, 6, rng), new BatchNorm(6), new Activation('relu')), new Linear(6, 4, rng));
  const s = split(23, 4, 10);
  model.train(true);
  noGrad(() => model.forward(new Tensor(s.images.map((v) => 2 * v - 1), [23, 3, 3, 1]))); // running stats unlike any batch's
  const got = collectFeatures(sequentialProbe(model, [2, 3]), s, 1, 5);
  assert.equal(model.training, true, 'training mode is restored');
  model.eval();
  const want = noGrad(() => model.forward(new Tensor(s.images, [23, 3, 3, 1])));
  model.train(true);
  assert.equal(got.features, 4);
  assert.equal(got.data.length, 23 * 4);
  assert.ok(got.data.every((v, i) => near(v, want.data[i]!)), 'the logits of all 23 points, over 5 batches');
  assert.throws(() => collectFeatures(sequentialProbe(model, [2]), s, 1), /collectFeatures: expected an output 0\.\.0, got 1/);
});

test("targetInterDistance: the mean distance between the classes' targets g_k(... g_1(e_c))", () => {
  const alNet = net(3);
  const classes = [0, 2, 3];
  const got = targetInterDistance(alNet, [2], classes);
  const t2 = noGrad(() => alNet.layers[1]!.parts.g.forward(alNet.layers[0]!.parts.g.forward(oneHot(Int32Array.from(classes), 4))));
  assert.deepEqual(got, [{ name: 't2', inter: meanPairwiseDistance(t2.data, 3, 5), features: 5 }]);
});

test('exitAccuracies: for every exit, the accuracy of predicting from that layer alone', () => {
  const alNet = net(4);
  const s = split(37, 4, 7);
  const rng = new Rng(8);
  for (let step = 0; step < 40; step++) {
    const idx = Array.from({ length: 8 }, () => rng.int(s.n));
    const x = new Tensor(Float32Array.from(idx.flatMap((i) => [...s.images.subarray(i * 9, (i + 1) * 9)])), [8, 3, 3, 1]);
    alNet.trainStep(x, Int32Array.from(idx.map((i) => s.labels[i]!)));
  }
  const got = exitAccuracies(alNet, s, 10);
  assert.equal(got.length, 3);
  got.forEach((accuracy, k) => {
    const predictions = predictAL(alNet, s, k + 1);
    assert.equal(accuracy, predictions.filter((p, i) => p === s.labels[i]).length / s.n, `exit ${k + 1}`);
  });
  assert.ok(got.some((a) => a > 0.4), `training on separable data beats chance (0.25) somewhere: ${got}`);
  assert.ok(new Set(got).size > 1, `after 40 steps the exits differ (so each is measured on its own): ${got}`);
  assert.equal(alNet.layers[0]!.parts.f.training, true, 'training mode is restored');
});
