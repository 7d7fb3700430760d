// Inter-class and intra-class distances on hand-made points with answers worked out by hand,
// against a plain float64 oracle on random points, and the accumulator's order checks.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ClassDistanceAccumulator, classDistances, meanPairwiseDistance } from '../../../src/analysis/class_distances.js';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { Rng } from '../../../src/tensor/rng.js';

before(() => setBackend(referenceBackend));

const close = (actual: number, expected: number, what: string, tol = 1e-6): void =>
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: expected ${expected}, got ${actual}`);

/** The definition, literally, in float64: the oracle. */
function oracle(x: ArrayLike<number>, labels: ArrayLike<number>, d: number): { inter: number; intra: number } {
  const classes = [...new Set(Array.from(labels))];
  const centroid = (c: number): number[] => {
    const rows = Array.from(labels).flatMap((l, i) => (l === c ? [i] : []));
    return Array.from({ length: d }, (_, j) => rows.reduce((s, i) => s + x[i * d + j]!, 0) / rows.length);
  };
  const dist = (a: ArrayLike<number>, b: ArrayLike<number>): number => Math.sqrt(Array.from({ length: d }, (_, j) => (a[j]! - b[j]!) ** 2).reduce((s, v) => s + v, 0));
  const mu = new Map(classes.map((c) => [c, centroid(c)]));
  const intra = classes.reduce((sum, c) => {
    const rows = Array.from(labels).flatMap((l, i) => (l === c ? [i] : []));
    return sum + rows.reduce((s, i) => s + dist(Array.from(x).slice(i * d, (i + 1) * d), mu.get(c)!), 0) / rows.length;
  }, 0) / classes.length;
  let inter = 0, pairs = 0;
  for (let a = 0; a < classes.length; a++) {
    for (let b = a + 1; b < classes.length; b++) {
      inter += dist(mu.get(classes[a]!)!, mu.get(classes[b]!)!);
      pairs++;
    }
  }
  return { inter: inter / pairs, intra };
}

test('two classes of two points on a line: intra 1, inter 10, ratio 10', () => {
  // class 0: (0,0), (2,0) → centroid (1,0); class 1: (10,0), (12,0) → centroid (11,0)
  const r = classDistances(Float32Array.of(0, 0, 2, 0, 10, 0, 12, 0), Int32Array.of(0, 0, 1, 1), 2, 2);
  assert.deepEqual(r, { inter: 10, intra: 1, ratio: 10, classes: 2, samples: 4, features: 2 });
});

test('unequal classes: intra is the mean of per-class means, not the mean over points', () => {
  // class 0: (0,0), (6,0), (0,6) → centroid (2,2), distances √8, √20, √20; class 1: (10,10) alone → 0
  const x = Float32Array.of(0, 0, 6, 0, 10, 10, 0, 6);
  const labels = Int32Array.of(0, 0, 1, 0);
  const r = classDistances(x, labels, 2, 2);
  const class0 = (Math.sqrt(8) + 2 * Math.sqrt(20)) / 3;
  close(r.intra, class0 / 2, 'intra');
  close(r.inter, 8 * Math.SQRT2, 'inter ||(2,2) − (10,10)||');
  close(r.ratio!, (8 * Math.SQRT2) / (class0 / 2), 'ratio');
  const perPoint = (Math.sqrt(8) + 2 * Math.sqrt(20)) / 4;
  assert.ok(Math.abs(r.intra - perPoint) > 0.1, 'a mean over points would weigh the big class more');
});

test('three classes at the corners 4·e_c of R^3, each spread ±1 along its own axis: inter 4√2, intra 1', () => {
  const x: number[] = [], labels: number[] = [];
  for (let c = 0; c < 3; c++) {
    for (const offset of [-1, 1]) {
      const p = [0, 0, 0];
      p[c] = 4 + offset;
      x.push(...p);
      labels.push(c);
    }
  }
  const r = classDistances(Float32Array.from(x), Int32Array.from(labels), 3, 3);
  close(r.inter, 4 * Math.SQRT2, 'inter');
  close(r.intra, 1, 'intra');
  close(r.ratio!, 4 * Math.SQRT2, 'ratio');
});

test('classes with no points are left out; identical points give intra 0 and a null ratio', () => {
  const r = classDistances(Float32Array.of(1, 1, 1, 1, 4, 5), Int32Array.of(3, 3, 0), 5, 2);
  assert.equal(r.classes, 2);
  assert.equal(r.intra, 0);
  assert.equal(r.inter, 5);
  assert.equal(r.ratio, null);
});

test('random points: the kernels agree with the float64 oracle, whatever the batch size', () => {
  const rng = new Rng(7);
  const n = 61, d = 13, classes = 4;
  const x = Float32Array.from({ length: n * d }, () => rng.normal() * 3 + 1);
  const labels = Int32Array.from({ length: n }, () => rng.int(classes));
  const want = oracle(x, labels, d);
  for (const batch of [1, 7, 64]) {
    const r = classDistances(x, labels, classes, d, batch);
    close(r.inter, want.inter, `inter, batches of ${batch}`, 1e-5);
    close(r.intra, want.intra, `intra, batches of ${batch}`, 1e-5);
  }
});

test('scaling every point by 3 scales both distances by 3 and keeps the ratio; a shift changes nothing', () => {
  const rng = new Rng(3);
  const x = Float32Array.from({ length: 40 * 5 }, () => rng.normal());
  const labels = Int32Array.from({ length: 40 }, (_, i) => i % 3);
  const base = classDistances(x, labels, 3, 5);
  const scaled = classDistances(x.map((v) => 3 * v), labels, 3, 5);
  const shifted = classDistances(x.map((v, i) => v + (i % 5) * 10), labels, 3, 5);
  close(scaled.inter, 3 * base.inter, 'inter × 3', 1e-5);
  close(scaled.intra, 3 * base.intra, 'intra × 3', 1e-5);
  close(scaled.ratio!, base.ratio!, 'ratio', 1e-5);
  close(shifted.ratio!, base.ratio!, 'ratio after a shift', 1e-4);
});

test('meanPairwiseDistance: the corners of a right triangle (0,0), (1,0), (0,1) → (2 + √2)/3', () => {
  close(meanPairwiseDistance(Float32Array.of(0, 0, 1, 0, 0, 1), 3, 2), (2 + Math.SQRT2) / 3, 'mean');
  assert.throws(() => meanPairwiseDistance(Float32Array.of(1, 2), 1, 2), /at least 2 rows, got 1/);
  assert.throws(() => meanPairwiseDistance(Float32Array.of(1, 2, 3), 2, 2), /expected 2 × 2 = 4 floats, got 3/);
});

test('the accumulator refuses batches out of order, pass 2 before pass 1 ends, and early results', () => {
  const labels = Int32Array.of(0, 1, 0, 1);
  const acc = new ClassDistanceAccumulator(labels, 2, 2);
  assert.throws(() => acc.addToCentroids(new Float32Array(4), 2), /expected the batch starting at point 0, got 2/);
  assert.throws(() => acc.addToCentroids(new Float32Array(3), 0), /whole number of 2-float rows, got 3 floats/);
  acc.addToCentroids(Float32Array.of(0, 0, 1, 1), 0);
  assert.throws(() => acc.addToDistances(Float32Array.of(0, 0), 0), /the centroids have 2 of 4 points; finish pass 1 first/);
  assert.throws(() => acc.addToCentroids(new Float32Array(6), 2), /points 2\.\.4 exceed the 4 labels/);
  acc.addToCentroids(Float32Array.of(2, 0, 1, 3), 2);
  assert.throws(() => acc.result(), /pass 2 has 0 of 4 points/);
  acc.addToDistances(Float32Array.of(0, 0, 1, 1, 2, 0, 1, 3), 0);
  const r = acc.result();
  close(r.intra, 1, 'intra'); // class 0: (0,0),(2,0) around (1,0); class 1: (1,1),(1,3) around (1,2)
  close(r.inter, 2, 'inter ||(1,0) − (1,2)||');
});

test('labels out of range, a single class and zero features are errors that say so', () => {
  assert.throws(() => new ClassDistanceAccumulator(Int32Array.of(0, 5), 3, 2), /labels in 0\.\.2, got 5 at point 1/);
  assert.throws(() => new ClassDistanceAccumulator(Int32Array.of(1, 1, 1), 3, 2), /at least 2 classes, got 1/);
  assert.throws(() => new ClassDistanceAccumulator(Int32Array.of(0, 1), 3, 0), /features >= 1, got 0/);
  assert.throws(() => classDistances(new Float32Array(5), Int32Array.of(0, 1), 2, 2), /2 points × 2 features = 4 floats, got 5/);
});
