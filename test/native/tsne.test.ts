// Barnes–Hut t-SNE (native/tsne*.cc, src/analysis/tsne.ts): the perplexity calibration, the joint
// P, the gradient against the exact O(n^2) oracle (test/util/tsne_exact.ts, itself checked by
// finite differences), a known cluster structure, determinism, the KL going down, and bad input.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { TsneRun, tsne, type TsneProgress } from '../../src/analysis/tsne.js';
import { loadNative } from '../../src/backend/load_native.js';
import { Rng } from '../../src/tensor/rng.js';
import { exactGradient, exactKl, type Csr } from '../util/tsne_exact.js';

const addon = loadNative();
const threads = addon.getNumThreads();
after(() => addon.setNumThreads(threads));

function normal(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

/** `clusters` Gaussian blobs of `per` points in `dims` dims: centres ~N(0, 8^2), spread 1. */
function blobs(clusters: number, per: number, dims: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const centres = Float32Array.from({ length: clusters * dims }, () => rng.normal() * 8);
  const x = new Float32Array(clusters * per * dims);
  const labels = new Int32Array(clusters * per);
  // Interleaved, so that cluster membership is not the index order.
  for (let i = 0; i < clusters * per; i++) {
    const c = i % clusters;
    labels[i] = c;
    for (let d = 0; d < dims; d++) x[i * dims + d] = centres[c * dims + d]! + rng.normal();
  }
  return { x, labels };
}

/** Affinities and joint P straight from the addon. */
function jointP(x: Float32Array, n: number, dims: number, perplexity: number): { p: Csr; neighbours: Int32Array; condP: Float32Array; k: number } {
  const k = Math.floor(3 * perplexity);
  const neighbours = new Int32Array(n * k);
  const condP = new Float32Array(n * k);
  addon.tsneAffinities(x, neighbours, condP, { n, dims, k, perplexity });
  const rowPtr = new Int32Array(n + 1);
  const cols = new Int32Array(2 * n * k);
  const vals = new Float32Array(2 * n * k);
  const nnz = addon.tsneJointP(neighbours, condP, rowPtr, cols, vals, { n, k });
  return { p: { rowPtr, cols: cols.subarray(0, nnz), vals: vals.subarray(0, nnz) }, neighbours, condP, k };
}

function nativeGradient(p: Csr, y: Float32Array, n: number, theta: number, exaggeration = 1): { grad: Float32Array; kl: number } {
  const grad = new Float32Array(2 * n);
  const kl = addon.tsneGradient(y, p.rowPtr, p.cols, p.vals, grad, { n, theta, exaggeration });
  return { grad, kl };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (tolerance ${tolerance})`);
  }
}

/** Fraction of each point's k nearest 2-D neighbours that share its label. */
function knnAgreement(y: Float32Array, labels: Int32Array, k: number): number {
  const n = labels.length;
  let agree = 0;
  for (let i = 0; i < n; i++) {
    const order = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i);
    const d = (j: number): number => (y[2 * i]! - y[2 * j]!) ** 2 + (y[2 * i + 1]! - y[2 * j + 1]!) ** 2;
    order.sort((a, b) => d(a) - d(b));
    for (const j of order.slice(0, k)) if (labels[j] === labels[i]) agree++;
  }
  return agree / (n * k);
}

// ***** affinities *****

test('each conditional row has the requested perplexity over the true nearest neighbours', () => {
  const n = 40, dims = 6;
  const x = normal(n * dims, 11);
  for (const perplexity of [1.5, 5, 12.5]) {
    const { neighbours, condP, k } = jointP(x, n, dims, perplexity);
    for (let i = 0; i < n; i++) {
      // Brute force in float64: the k nearest, ascending, never i itself.
      const d2 = (j: number): number => {
        let s = 0;
        for (let f = 0; f < dims; f++) s += (x[i * dims + f]! - x[j * dims + f]!) ** 2;
        return s;
      };
      const expected = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i).sort((a, b) => d2(a) - d2(b)).slice(0, k);
      assert.deepEqual(Array.from(neighbours.subarray(i * k, (i + 1) * k)), expected, `neighbours of ${i}`);
      const row = condP.subarray(i * k, (i + 1) * k);
      let sum = 0, entropyBits = 0;
      for (const p of row) {
        sum += p;
        if (p > 0) entropyBits -= p * Math.log2(p);
      }
      assert.ok(Math.abs(sum - 1) < 1e-5, `row ${i} sums to ${sum}`);
      assert.ok(Math.abs(2 ** entropyBits - perplexity) < 1e-3, `row ${i}: perplexity ${2 ** entropyBits}, wanted ${perplexity}`);
      for (let t = 1; t < k; t++) assert.ok(row[t]! <= row[t - 1]!, `row ${i}: p must not grow with distance`);
    }
  }
});

test('the joint P is (p_j|i + p_i|j) / 2n: symmetric, summing to 1, on the union of both k-NN graphs', () => {
  const n = 50, dims = 4;
  const { p, neighbours, condP, k } = jointP(normal(n * dims, 12), n, dims, 4);
  const expected = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = neighbours[i * k + t]!;
      for (const key of [i * n + j, j * n + i]) expected.set(key, (expected.get(key) ?? 0) + condP[i * k + t]! / (2 * n));
    }
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let e = p.rowPtr[i]!; e < p.rowPtr[i + 1]!; e++) {
      const j = p.cols[e]!;
      if (e > p.rowPtr[i]!) assert.ok(j > p.cols[e - 1]!, 'columns ascend within a row');
      assert.ok(Math.abs(p.vals[e]! - expected.get(i * n + j)!) < 1e-7, `P[${i}, ${j}]`);
      total += p.vals[e]!;
    }
  }
  assert.equal(p.rowPtr[n], expected.size);
  assert.ok(Math.abs(total - 1) < 1e-5, `P sums to ${total}`);
});

test('identical input points give finite, uniform affinities', () => {
  const n = 12, dims = 3;
  const { condP, p } = jointP(new Float32Array(n * dims).fill(2.5), n, dims, 3);
  for (const v of condP) assert.ok(Math.abs(v - 1 / 9) < 1e-6, `p = ${v}`);
  for (const v of p.vals) assert.ok(Number.isFinite(v));
});

// ***** gradient *****

test('the exact oracle gradient matches finite differences of the exact KL', () => {
  const n = 20;
  const { p } = jointP(normal(n * 5, 13), n, 5, 4);
  const y = Array.from(normal(2 * n, 14, 2));
  const grad = exactGradient(p, y, n);
  const h = 1e-5;
  for (const c of [0, 1, 7, 22, 39]) {
    const plus = y.slice(), minus = y.slice();
    plus[c] += h;
    minus[c] -= h;
    const fd = (exactKl(p, plus, n) - exactKl(p, minus, n)) / (2 * h);
    assert.ok(Math.abs(fd - grad[c]!) < 1e-6 * Math.max(1, Math.abs(fd)), `coordinate ${c}: fd ${fd}, analytic ${grad[c]}`);
  }
});

test('Barnes–Hut with theta = 0 gives the exact gradient and KL; theta = 0.5 stays close', () => {
  const n = 120;
  const { p } = jointP(normal(n * 8, 15), n, 8, 10);
  const y = normal(2 * n, 16, 3);
  const exact = exactGradient(p, y, n);
  const scale = maxAbs(exact);
  const zero = nativeGradient(p, y, n, 0);
  assertClose(zero.grad, exact, 1e-5 * scale, 'theta 0');
  const kl = exactKl(p, y, n);
  assert.ok(Math.abs(zero.kl - kl) < 1e-6 * kl, `KL ${zero.kl} vs exact ${kl}`);

  const approx = nativeGradient(p, y, n, 0.5);
  let err = 0, norm = 0;
  for (let c = 0; c < 2 * n; c++) {
    err += (approx.grad[c]! - exact[c]!) ** 2;
    norm += exact[c]! ** 2;
  }
  assert.ok(Math.sqrt(err / norm) < 0.02, `theta 0.5: relative gradient error ${Math.sqrt(err / norm)}`);
  assert.ok(Math.abs(approx.kl - kl) < 0.01 * kl, `theta 0.5: KL ${approx.kl} vs ${kl}`);
});

test('exaggeration scales only the attractive part: g(12) = 12 g(1) - 11 g(0)', () => {
  const n = 60;
  const { p } = jointP(normal(n * 5, 17), n, 5, 6);
  const y = normal(2 * n, 18, 2);
  const g = (alpha: number): Float32Array => nativeGradient(p, y, n, 0.5, alpha).grad;
  const [g0, g1, g12] = [g(0), g(1), g(12)];
  const combined = g1.map((v, c) => 12 * v - 11 * g0[c]!);
  assertClose(g12, combined, 1e-5 * maxAbs(g12), 'g(12)');
  assertClose(nativeGradient(p, y, n, 0, 12).grad, exactGradient(p, y, n, 12), 1e-5 * maxAbs(g12), 'exact g(12)');
});

test('coincident embedding points are handled exactly (the quadtree stops splitting them)', () => {
  const n = 30;
  const { p } = jointP(normal(n * 4, 19), n, 4, 5);
  const y = normal(2 * n, 20);
  for (const i of [3, 8, 9, 21]) {
    y[2 * i] = 0.25;
    y[2 * i + 1] = -1.5;
  }
  const exact = exactGradient(p, y, n);
  assertClose(nativeGradient(p, y, n, 0).grad, exact, 1e-5 * maxAbs(exact), 'coincident');
});

test('one descent step: gains by delta-bar-delta, momentum, learning rate, then re-centring', () => {
  const n = 40;
  const { p } = jointP(normal(n * 5, 29), n, 5, 5);
  const y0 = normal(2 * n, 30);
  const u0 = normal(2 * n, 31, 0.1);
  u0[0] = 0; // sign 0 differs from the gradient's: the gain grows
  const gains0 = Float32Array.from(normal(2 * n, 32), (v) => 0.5 + Math.abs(v));
  const attrs = { n, theta: 0.5, exaggeration: 4, momentum: 0.7, learningRate: 50, minGain: 0.01 };
  const { grad } = nativeGradient(p, y0, n, attrs.theta, attrs.exaggeration);
  gains0[5] = 0.011;
  u0[5] = 0.01 * grad[5]!; // same sign: the gain shrinks, to the floor

  const expected = new Float64Array(2 * n);
  const expectedGains = new Float64Array(2 * n);
  const mean = [0, 0];
  for (let c = 0; c < 2 * n; c++) {
    const g = grad[c]!;
    const gain = Math.sign(g) !== Math.sign(u0[c]!) ? gains0[c]! + 0.2 : Math.max(gains0[c]! * 0.8, 0.01);
    expectedGains[c] = gain;
    expected[c] = y0[c]! + attrs.momentum * u0[c]! - attrs.learningRate * gain * g;
    mean[c % 2]! += expected[c]! / n;
  }
  for (let c = 0; c < 2 * n; c++) expected[c] -= mean[c % 2]!;

  const y = y0.slice(), update = u0.slice(), gains = gains0.slice();
  addon.tsneIterate(y, update, gains, p.rowPtr, p.cols, p.vals, { ...attrs, iterations: 1 });
  assertClose(gains, expectedGains, 1e-6, 'gains');
  assertClose(y, expected, 1e-5 * maxAbs(expected), 'y');
  assert.equal(expectedGains[5], 0.01);
});

// ***** whole runs *****

test('well-separated Gaussian clusters stay together and apart in 2-D', () => {
  const clusters = 4, per = 100, dims = 30;
  const { x, labels } = blobs(clusters, per, dims, 21);
  const n = clusters * per;
  const y = tsne(x, n, dims, { perplexity: 30, iterations: 500, seed: 3 });
  assert.equal(y.length, 2 * n);
  const agreement = knnAgreement(y, labels, 10);
  assert.ok(agreement > 0.99, `10-NN agreement ${agreement}`);

  // Separated: the closest pair of centroids is several times farther apart than the points
  // of any cluster lie from their own centroid on average.
  const centroid = new Float64Array(2 * clusters);
  for (let i = 0; i < n; i++) {
    centroid[2 * labels[i]!] += y[2 * i]! / per;
    centroid[2 * labels[i]! + 1] += y[2 * i + 1]! / per;
  }
  const spread = new Float64Array(clusters);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    spread[c] += Math.hypot(y[2 * i]! - centroid[2 * c]!, y[2 * i + 1]! - centroid[2 * c + 1]!) / per;
  }
  let closest = Infinity;
  for (let a = 0; a < clusters; a++) {
    for (let b = a + 1; b < clusters; b++) {
      closest = Math.min(closest, Math.hypot(centroid[2 * a]! - centroid[2 * b]!, centroid[2 * a + 1]! - centroid[2 * b + 1]!));
    }
  }
  assert.ok(closest > 3 * Math.max(...spread), `closest centroids ${closest}, largest mean radius ${Math.max(...spread)}`);
});

test('same seed: identical output, however the run is chunked; another seed differs', () => {
  const { x } = blobs(3, 50, 10, 22);
  const n = 150, dims = 10;
  const options = { perplexity: 10, iterations: 300, seed: 9 };
  const a = tsne(x, n, dims, options);
  const b = tsne(x, n, dims, options);
  const run = new TsneRun(x, n, dims, options);
  while (!run.done) run.step(7); // crosses the end of the exaggeration phase mid-chunk
  assert.deepEqual(b, a);
  assert.deepEqual(run.embedding, a);
  assert.notDeepEqual(tsne(x, n, dims, { ...options, seed: 10 }), a);
});

test('the thread count does not change the result', () => {
  // Large enough for the native code to use a thread team (it stays serial below 2048 points).
  const { x } = blobs(5, 420, 8, 28);
  const n = 2100, dims = 8;
  const options = { perplexity: 10, iterations: 30, exaggerationIterations: 15, seed: 2 };
  addon.setNumThreads(2);
  const two = tsne(x, n, dims, options);
  addon.setNumThreads(1);
  const one = tsne(x, n, dims, options);
  addon.setNumThreads(threads);
  assert.deepEqual(one, two);
});

test('the KL divergence goes down: monotonically once the exaggeration ends', () => {
  const { x } = blobs(3, 60, 20, 23);
  const n = 180;
  const run = new TsneRun(x, n, 20, { perplexity: 15, iterations: 600, theta: 0, seed: 4 });
  const initial = exactKl(run.p, run.embedding, n);
  const curve: number[] = [];
  while (!run.done) {
    const reported = run.step(50);
    curve.push(exactKl(run.p, run.embedding, n));
    assert.ok(Number.isFinite(reported));
  }
  const late = curve.slice(250 / 50 - 1); // from the end of the exaggeration phase
  for (let t = 1; t < late.length; t++) assert.ok(late[t]! <= late[t - 1]! + 1e-6, `KL rose: ${late.join(', ')}`);
  assert.ok(curve.at(-1)! < 0.5 * initial, `KL ${initial} -> ${curve.at(-1)}`);
  // With theta = 0 the reported KL is exact (at the start of the last step).
  const before = run.embedding;
  const reported = run.kl;
  run.step(0);
  assert.deepEqual(run.embedding, before);
  assert.equal(run.kl, reported);
});

test('progress is reported every progressEvery steps and after the last', () => {
  const { x } = blobs(2, 20, 5, 24);
  const seen: TsneProgress[] = [];
  tsne(x, 40, 5, { perplexity: 5, iterations: 120, progressEvery: 50, onProgress: (p) => seen.push(p) });
  assert.deepEqual(seen.map((p) => [p.iteration, p.iterations]), [[50, 120], [100, 120], [120, 120]]);
  for (const p of seen) assert.ok(Number.isFinite(p.kl) && p.kl > 0);
});

// ***** bad input *****

test('bad arguments: a RangeError naming the argument', () => {
  const x = normal(10 * 5, 25);
  const cases: [() => unknown, RegExp][] = [
    [() => tsne(normal(15, 1), 3, 5), /^tsne: expected an integer >= 4 for n, got 3$/],
    [() => tsne(x, 10, 5, { perplexity: 4 }), /^tsne: expected 3·perplexity below the number of points n = 10 .* for perplexity, got 4$/],
    [() => tsne(x, 10, 5, { perplexity: 0.5 }), /for perplexity, got 0.5$/],
    [() => tsne(x.subarray(1), 10, 5, { perplexity: 2 }), /^tsne: expected n \* dims = 10 \* 5 = 50 values for points, got 49 values$/],
    [() => tsne(new Float64Array(50) as unknown as Float32Array, 10, 5), /^tsne: expected a Float32Array for points, got \[object Float64Array\]$/],
    [() => tsne(x, 10, 2.5, { perplexity: 2 }), /for dims, got 2.5$/],
    [() => tsne(x, 10, 5, { perplexity: 2, theta: -1 }), /for theta, got -1$/],
    [() => tsne(x, 10, 5, { perplexity: 2, iterations: 0 }), /for iterations, got 0$/],
    [() => tsne(x, 10, 5, { perplexity: 2, seed: 1.5 }), /for seed, got 1.5$/],
    [() => tsne(x, 10, 5, { perplexity: 2, learningRate: 0 }), /for learningRate, got 0$/],
    [() => tsne(x, 10, 5, { perplexity: 2, earlyExaggeration: Number.NaN }), /for earlyExaggeration, got NaN$/],
    [() => tsne(x, 10, 5, { perplexity: 2, progressEvery: 0 }), /for progressEvery, got 0$/],
  ];
  for (const [call, message] of cases) assert.throws(call, (e: unknown) => e instanceof RangeError && message.test(e.message), String(message));

  const bad = x.slice();
  bad[7] = Number.NaN;
  assert.throws(() => tsne(bad, 10, 5, { perplexity: 2 }), { name: 'RangeError', message: 'tsne: expected finite values for points, got NaN at index 7 (point 1, feature 2)' });
  bad[7] = Number.POSITIVE_INFINITY;
  assert.throws(() => tsne(bad, 10, 5, { perplexity: 2 }), /got Infinity at index 7/);
  assert.throws(() => new TsneRun(x, 10, 5, { perplexity: 2 }).step(-1), /for count, got -1$/);
});

test('the addon guards its buffers and indices itself', () => {
  const n = 10;
  const { p, neighbours, condP, k } = jointP(normal(n * 3, 26), n, 3, 2);
  const y = normal(2 * n, 27);
  const grad = new Float32Array(2 * n);
  const attrs = { n, theta: 0.5, exaggeration: 1 };
  assert.throws(() => addon.tsneGradient(y.subarray(1), p.rowPtr, p.cols, p.vals, grad, attrs), /^Error: tsneGradient: y holds 19 elements, the shape needs 20$/);
  const cols = p.cols.slice();
  cols[3] = n;
  assert.throws(() => addon.tsneGradient(y, p.rowPtr, cols, p.vals, grad, attrs), /tsneGradient: cols\[3\] is outside \[0, n\)/);
  assert.throws(() => addon.tsneGradient(y, p.rowPtr, p.cols, p.vals, grad, { ...attrs, theta: -1 }), /tsneGradient: expected a finite number >= 0.* theta/);
  const bad = neighbours.slice();
  bad[0] = -1;
  const out = { rowPtr: new Int32Array(n + 1), cols: new Int32Array(2 * n * k), vals: new Float32Array(2 * n * k) };
  assert.throws(() => addon.tsneJointP(bad, condP, out.rowPtr, out.cols, out.vals, { n, k }), /tsneJointP: neighbours\[0\] is outside \[0, n\)/);
  assert.throws(() => addon.tsneAffinities(normal(30, 1), neighbours, condP, { n, dims: 3, k: n, perplexity: 2 }), /tsneAffinities: k must be below n/);
});
