// Per-layer code measures: spread and nearest-code accuracy on hand-made codes with answers worked
// out by hand, invariance to scaling the codes (what the raw loss lacks), and layerCodeRows
// against a literal float64 oracle on a small AL network.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { oneHot } from '../../../src/al/associated_net.js';
import { buildAssociatedNet } from '../../../src/al/decompositions.js';
import { classCodes, CodeAccumulator, codeSpread, layerCodeRows } from '../../../src/analysis/layer_codes.js';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import type { Split } from '../../../src/data/dataset.js';
import { Rng } from '../../../src/tensor/rng.js';
import { Tensor, noGrad } from '../../../src/tensor/tensor.js';

before(() => setBackend(referenceBackend));

const close = (actual: number, expected: number, what: string, tol = 1e-6): void =>
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: expected ${expected}, got ${actual}`);

// three classes in two features: (0, 0), (1, 0), (0, 2)
const codes = Float32Array.from([0, 0, 1, 0, 0, 2]);

test('code spread: the mean per-feature squared distance over pairs of distinct classes', () => {
  // pairs: (1 + 0) / 2 = 0.5, (0 + 4) / 2 = 2, (1 + 4) / 2 = 2.5; mean 5 / 3
  close(codeSpread(codes, 3, 2), 5 / 3, 'spread');
  assert.equal(codeSpread(Float32Array.from([0.3, 0.3, 0.3, 0.3]), 2, 2), 0, 'codes that coincide');
  assert.throws(() => codeSpread(codes, 1, 6), /codeSpread: expected at least 2 classes, got 1/);
  assert.throws(() => codeSpread(codes, 3, 3), /codeSpread: expected 3 × 3 = 9 floats, got 6/);
});

test('nearest-code accuracy and the associated loss on points with known answers', () => {
  const a = new CodeAccumulator(codes, 3, 2);
  // (0.1, 0) of class 0: nearest 0, right; own distance (0.01 + 0) / 2
  // (0.9, 0.1) of class 0: nearest 1, wrong; own (0.81 + 0.01) / 2
  a.add(Float32Array.from([0.1, 0, 0.9, 0.1]), [0, 0]);
  // (0, 1.9) of class 2: nearest 2, right; own (0 + 0.01) / 2
  // (0.4, 0) of class 1: nearest 0 (0.08 against 0.18), wrong; own (0.36 + 0) / 2
  a.add(Float32Array.from([0, 1.9, 0.4, 0]), Int32Array.from([2, 1]));
  const r = a.result();
  assert.equal(r.samples, 4);
  assert.equal(r.nearestCodeAccuracy, 0.5);
  close(r.associated, (0.005 + 0.41 + 0.005 + 0.18) / 4, 'associated');
});

test('a point halfway between two codes goes to the lower class', () => {
  const a = new CodeAccumulator(codes, 3, 2);
  a.add(Float32Array.from([0.5, 0, 0.5, 0]), [0, 1]);
  assert.equal(a.result().nearestCodeAccuracy, 0.5);
});

test('scaling codes and points by 10 scales the raw loss by 100 and leaves the normalised loss and the accuracy', () => {
  const points = Float32Array.from([0.1, 0, 0.9, 0.1, 0, 1.9, 0.4, 0]);
  const labels = [0, 0, 2, 1];
  const measure = (scale: number): { raw: number; normalised: number; accuracy: number } => {
    const c = codes.map((v) => v * scale), p = points.map((v) => v * scale);
    const a = new CodeAccumulator(c, 3, 2);
    a.add(p, labels);
    const r = a.result();
    return { raw: r.associated, normalised: r.associated / codeSpread(c, 3, 2), accuracy: r.nearestCodeAccuracy };
  };
  const one = measure(1), ten = measure(10);
  close(ten.raw, 100 * one.raw, 'raw');
  close(ten.normalised, one.normalised, 'normalised');
  assert.equal(ten.accuracy, one.accuracy);
});

test('bad points and labels are errors naming the accumulator', () => {
  const a = new CodeAccumulator(codes, 3, 2);
  assert.throws(() => a.add(Float32Array.from([0, 0, 0]), [0, 1]), /CodeAccumulator: expected 2 × 2 floats, got 3/);
  assert.throws(() => a.add(Float32Array.from([0, 0]), [3]), /CodeAccumulator: expected labels in 0\.\.2, got 3/);
  assert.throws(() => new CodeAccumulator(codes, 3, 3), /CodeAccumulator: expected 3 × 3 codes, got 6 floats/);
});

test('layerCodeRows equals the definitions computed literally in float64, whatever the batch size', () => {
  const classes = 4, width = 5;
  const net = buildAssociatedNet({ model: 'mlp', inputShape: [3, 3, 1], classes, rng: new Rng(3), layers: 3, tWidth: width, lr: 1e-2 });
  const rng = new Rng(5);
  const n = 13;
  const split: Split = {
    images: Float32Array.from({ length: n * 9 }, () => rng.normal()), labels: Int32Array.from({ length: n }, (_, i) => i % classes),
    n, shape: [3, 3, 1], classes,
  };
  const rows = layerCodeRows(net, split, 4);
  assert.deepEqual(layerCodeRows(net, split, 500), rows);
  // the oracle
  net.train(false);
  const { bridged, t } = noGrad(() => {
    let s = new Tensor(split.images, [n, 3, 3, 1]);
    let code = oneHot(Int32Array.from([0, 1, 2, 3]), classes);
    const bridged: Float32Array[] = [], t: Float32Array[] = [];
    for (const layer of net.layers) {
      s = layer.encode(s);
      bridged.push(Float32Array.from(layer.bridge(s).data));
      code = layer.parts.g.forward(code);
      t.push(Float32Array.from(code.data));
    }
    return { bridged, t };
  });
  net.train(true);
  assert.deepEqual(classCodes(net), t);
  const sq = (a: Float32Array, i: number, b: Float32Array, j: number): number => {
    let sum = 0;
    for (let f = 0; f < width; f++) sum += (a[i * width + f]! - b[j * width + f]!) ** 2;
    return sum / width;
  };
  for (let k = 0; k < 3; k++) {
    let loss = 0, hits = 0, spread = 0;
    for (let i = 0; i < n; i++) {
      const distances = [0, 1, 2, 3].map((c) => sq(bridged[k]!, i, t[k]!, c));
      loss += distances[split.labels[i]!]!;
      if (distances.indexOf(Math.min(...distances)) === split.labels[i]) hits++;
    }
    for (let a = 0; a < classes; a++) for (let b = a + 1; b < classes; b++) spread += sq(t[k]!, a, t[k]!, b);
    spread /= 6;
    const r = rows[k]!;
    assert.equal(r.layer, k + 1);
    assert.equal(r.features, width);
    close(r.associated, loss / n, `layer ${k + 1} associated`);
    close(r.spread, spread, `layer ${k + 1} spread`);
    close(r.normalised!, loss / n / spread, `layer ${k + 1} normalised`);
    assert.equal(r.nearestCodeAccuracy, hits / n, `layer ${k + 1} nearest-code accuracy`);
  }
});
