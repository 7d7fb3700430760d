// The addon's own C++ kernels (native/own_kernels.cc) against the reference backend on random data:
// shapes that are not multiples of the vector width, tiny and large; error messages; NaN.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { AdamAttrs, Backend, SgdAttrs } from '../../src/backend/kernel_names.js';
import { loadNative } from '../../src/backend/load_native.js';
import { referenceBackend as R } from '../../src/backend/reference_backend.js';
import { Rng } from '../../src/tensor/rng.js';

type OwnKernels = Pick<Backend, 'sumRows' | 'gatherRows' | 'scatterAddRows' | 'add' | 'axpby' | 'softmaxCrossEntropy' | 'meanSquaredError' | 'argmaxRows' | 'adamStep' | 'sgdStep'>;

// The addon exports each own kernel under its Backend method name with the method's arguments, so
// the kernels are called on it directly, with no TS-side checks in front of the C++ ones.
const N: OwnKernels = loadNative();

const rng = new Rng(20240611);
const randn = (n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, () => rng.normal() * scale);

/** |actual - expected| <= abs + rel |expected| elementwise; NaN must meet NaN. */
function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, abs: number, rel: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) assert.ok(Number.isNaN(a), `${what}[${i}]: expected NaN, got ${a}`);
    else assert.ok(Math.abs(a - e) <= abs + rel * Math.abs(e), `${what}[${i}]: native ${a}, reference ${e}`);
  }
}

/** The native call throws with the same message the reference gives for the same arguments. */
function assertSameError(what: string, native: () => unknown, reference: () => unknown): void {
  let expected = '';
  try {
    reference();
  } catch (e) {
    expected = (e as Error).message;
  }
  assert.notEqual(expected, '', `${what}: the reference should have thrown`);
  assert.throws(native, { message: expected }, what);
}

// rows x cols pairs: tiny, odd, not multiples of 8 or 16, and large.
const SHAPES: [number, number][] = [[1, 1], [1, 7], [3, 17], [37, 45], [129, 1000], [4099, 33]];

test('sumRows matches the reference', () => {
  for (const [rows, cols] of SHAPES) {
    const x = randn(rows * cols);
    const a = new Float32Array(cols);
    const b = new Float32Array(cols);
    N.sumRows(x, a, rows, cols);
    R.sumRows(x, b, rows, cols);
    assertNear(a, b, 0, 1e-7, `sumRows ${rows}x${cols}`);
  }
});

test('add and axpby match the reference, also in place', () => {
  for (const n of [1, 15, 17, 1000, 100_003]) {
    const a = randn(n);
    const b = randn(n);
    const outN = new Float32Array(n);
    const outR = new Float32Array(n);
    N.add(a, b, outN);
    R.add(a, b, outR);
    assert.deepEqual(outN, outR, `add ${n}`);
    const inPlace = a.slice();
    N.add(inPlace, b, inPlace);
    assert.deepEqual(inPlace, outR, `add in place ${n}`);

    for (const beta of [0, 1, -0.75]) {
      const yN = b.slice();
      const yR = b.slice();
      N.axpby(1.5, a, beta, yN);
      R.axpby(1.5, a, beta, yR);
      assertNear(yN, yR, 1e-7, 1e-6, `axpby beta=${beta} ${n}`);
    }
  }
});

test('softmaxCrossEntropy matches the reference: loss, gradient, no-gradient call, gradient in place', () => {
  for (const [rows, cols] of SHAPES) {
    const logits = randn(rows * cols, 3);
    const labels = Int32Array.from({ length: rows }, () => rng.int(cols));
    const gN = new Float32Array(rows * cols);
    const gR = new Float32Array(rows * cols);
    const lossN = N.softmaxCrossEntropy(logits, labels, gN, rows, cols);
    const lossR = R.softmaxCrossEntropy(logits, labels, gR, rows, cols);
    assert.ok(Math.abs(lossN - lossR) <= 1e-6 * (1 + Math.abs(lossR)), `loss ${rows}x${cols}: native ${lossN}, reference ${lossR}`);
    // Gradient entries are at most 1/rows in size; compare on that scale.
    assertNear(gN, gR, 1e-6 / rows, 1e-5, `grad ${rows}x${cols}`);
    assert.equal(N.softmaxCrossEntropy(logits, labels, null, rows, cols), lossN);
    const inPlace = logits.slice();
    assert.equal(N.softmaxCrossEntropy(inPlace, labels, inPlace, rows, cols), lossN);
    assert.deepEqual(inPlace, gN, `grad in place ${rows}x${cols}`);
  }
});

test('meanSquaredError matches the reference', () => {
  for (const n of [1, 15, 17, 1000, 100_003]) {
    const p = randn(n);
    const t = randn(n);
    const gN = new Float32Array(n);
    const gR = new Float32Array(n);
    const lossN = N.meanSquaredError(p, t, gN);
    const lossR = R.meanSquaredError(p, t, gR);
    assert.ok(Math.abs(lossN - lossR) <= 1e-6 * lossR, `loss ${n}: native ${lossN}, reference ${lossR}`);
    assertNear(gN, gR, 0, 1e-6, `grad ${n}`);
    assert.equal(N.meanSquaredError(p, t, null), lossN);
  }
});

test('gatherRows and scatterAddRows match the reference exactly, repeated and untouched rows included', () => {
  for (const [rows, cols, count] of [[1, 1, 1], [3, 5, 7], [10, 1024, 128], [4, 17, 0]] as const) {
    const x = randn(rows * cols);
    // every row but the last taken, some many times
    const index = Int32Array.from({ length: count }, () => rng.int(Math.max(rows - 1, 1)));
    const [a, b] = [new Float32Array(count * cols), new Float32Array(count * cols)];
    N.gatherRows(x, index, a, rows, cols);
    R.gatherRows(x, index, b, rows, cols);
    assert.deepEqual(a, b, `gatherRows ${rows}x${cols} by ${count}`);
    const dy = randn(count * cols);
    // stale values in the outputs must not survive: both overwrite
    const [c, d] = [new Float32Array(rows * cols).fill(NaN), new Float32Array(rows * cols).fill(NaN)];
    N.scatterAddRows(dy, index, c, rows, cols);
    R.scatterAddRows(dy, index, d, rows, cols);
    assert.deepEqual(c, d, `scatterAddRows ${rows}x${cols} by ${count}`);
    if (rows > 1) assert.ok(c.subarray((rows - 1) * cols).every((v) => v === 0), 'a row no one took is zero');
  }
});

test('argmaxRows matches the reference, ties and NaN included', () => {
  for (const [rows, cols] of SHAPES) {
    // Few distinct values, so ties are common; some NaN.
    const x = Float32Array.from({ length: rows * cols }, () => (rng.next() < 0.01 ? NaN : rng.int(5)));
    const a = new Int32Array(rows);
    const b = new Int32Array(rows);
    N.argmaxRows(x, a, rows, cols);
    R.argmaxRows(x, b, rows, cols);
    assert.deepEqual(a, b, `argmaxRows ${rows}x${cols}`);
  }
});

test('adamStep matches the reference over 3 steps (plain, L2, AdamW)', () => {
  const modes: [number, boolean][] = [[0, false], [0.01, false], [0.01, true]];
  for (const n of [1, 17, 1000, 100_003]) {
    for (const [weightDecay, decoupled] of modes) {
      const pN = randn(n);
      const pR = pN.slice();
      const [mN, vN, mR, vR] = [new Float32Array(n), new Float32Array(n), new Float32Array(n), new Float32Array(n)];
      for (let step = 1; step <= 3; step++) {
        const g = randn(n);
        const attrs: AdamAttrs = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, decoupled, step };
        N.adamStep(pN, g, mN, vN, attrs);
        R.adamStep(pR, g, mR, vR, attrs);
      }
      const what = `adam n=${n} wd=${weightDecay} decoupled=${decoupled}`;
      assertNear(pN, pR, 1e-6, 1e-6, `${what} param`);
      assertNear(mN, mR, 1e-7, 1e-6, `${what} m`);
      assertNear(vN, vR, 1e-8, 1e-6, `${what} v`);
    }
  }
});

test('adamStep stores a moment that decays below the smallest normal float as zero, natively and in the reference', () => {
  // a zero gradient (a dead unit) decays m by beta1 and v by beta2 each step; the first of these
  // moments becomes subnormal after this step, the second stays normal, and the parameter keeps its value
  const smallest = 2 ** -126;
  const attrs: AdamAttrs = { lr: 1e-3, beta1: 0.5, beta2: 0.5, eps: 1e-8, weightDecay: 0, decoupled: false, step: 5 };
  for (const [name, B] of [['native', N], ['reference', R]] as const) {
    const p = Float32Array.of(0.25, 0.25);
    const m = Float32Array.of(smallest * 1.5, smallest * 4), v = Float32Array.of(smallest * 1.5, smallest * 4);
    B.adamStep(p, new Float32Array(2), m, v, attrs);
    assert.deepEqual([...m], [0, smallest * 2], `${name} m`);
    assert.deepEqual([...v], [0, smallest * 2], `${name} v`);
    assert.deepEqual([...p], [0.25, 0.25], `${name} param`);
  }
});

test('sgdStep matches the reference over 3 steps (plain, momentum, Nesterov)', () => {
  const modes: [number, boolean][] = [[0, false], [0.9, false], [0.9, true]];
  for (const n of [1, 17, 1000, 100_003]) {
    for (const [momentum, nesterov] of modes) {
      const pN = randn(n);
      const pR = pN.slice();
      // With momentum 0 the buffer is ignored and may be empty.
      const bN = new Float32Array(momentum === 0 ? 0 : n);
      const bR = new Float32Array(momentum === 0 ? 0 : n);
      for (let t = 0; t < 3; t++) {
        const g = randn(n);
        const attrs: SgdAttrs = { lr: 0.05, momentum, weightDecay: 1e-3, nesterov };
        N.sgdStep(pN, g, bN, attrs);
        R.sgdStep(pR, g, bR, attrs);
      }
      // Float32 rounding of O(1) intermediates: absolute, since the buffer may cancel to near 0.
      assertNear(pN, pR, 1e-6, 1e-6, `sgd n=${n} momentum=${momentum} nesterov=${nesterov} param`);
      assertNear(bN, bR, 1e-6, 1e-6, `sgd n=${n} momentum=${momentum} nesterov=${nesterov} buffer`);
    }
  }
});

test('too-short or mismatched buffers and bad labels fail with the reference message', () => {
  const f = (n: number): Float32Array => new Float32Array(n);
  const adam: AdamAttrs = { lr: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step: 1 };
  const sgd: SgdAttrs = { lr: 1, momentum: 0.9, weightDecay: 0, nesterov: false };
  const calls: [string, (B: OwnKernels) => unknown][] = [
    ['sumRows x', (B) => B.sumRows(f(11), f(4), 3, 4)],
    ['sumRows out', (B) => B.sumRows(f(12), f(3), 3, 4)],
    ['add', (B) => B.add(f(4), f(3), f(4))],
    ['axpby', (B) => B.axpby(1, f(4), 1, f(5))],
    ['softmaxCrossEntropy logits', (B) => B.softmaxCrossEntropy(f(5), new Int32Array(2), null, 2, 3)],
    ['softmaxCrossEntropy labels', (B) => B.softmaxCrossEntropy(f(6), new Int32Array(1), null, 2, 3)],
    ['softmaxCrossEntropy grad', (B) => B.softmaxCrossEntropy(f(6), new Int32Array(2), f(5), 2, 3)],
    ['softmaxCrossEntropy label', (B) => B.softmaxCrossEntropy(f(6), Int32Array.of(0, 3), f(6), 2, 3)],
    ['softmaxCrossEntropy negative label', (B) => B.softmaxCrossEntropy(f(6), Int32Array.of(-2, 0), null, 2, 3)],
    ['meanSquaredError', (B) => B.meanSquaredError(f(4), f(3), null)],
    ['argmaxRows', (B) => B.argmaxRows(f(6), new Int32Array(1), 2, 3)],
    ['gatherRows x', (B) => B.gatherRows(f(5), Int32Array.of(0), f(3), 2, 3)],
    ['gatherRows out', (B) => B.gatherRows(f(6), Int32Array.of(0, 1), f(5), 2, 3)],
    ['gatherRows index', (B) => B.gatherRows(f(6), Int32Array.of(0, 2), f(6), 2, 3)],
    ['gatherRows negative index', (B) => B.gatherRows(f(6), Int32Array.of(-1), f(3), 2, 3)],
    ['scatterAddRows dy', (B) => B.scatterAddRows(f(5), Int32Array.of(0, 1), f(6), 2, 3)],
    ['scatterAddRows out', (B) => B.scatterAddRows(f(6), Int32Array.of(0, 1), f(5), 2, 3)],
    ['scatterAddRows index', (B) => B.scatterAddRows(f(6), Int32Array.of(1, 2), f(6), 2, 3)],
    ['adamStep v', (B) => B.adamStep(f(4), f(4), f(4), f(3), adam)],
    ['sgdStep momentumBuffer', (B) => B.sgdStep(f(4), f(4), f(0), sgd)],
  ];
  for (const [what, call] of calls) {
    assertSameError(what, () => call(N), () => call(R));
  }
  // The label check runs before anything is written.
  const grad = f(6).fill(7);
  assert.throws(() => N.softmaxCrossEntropy(f(6), Int32Array.of(0, 3), grad, 2, 3));
  assert.deepEqual([...grad], [7, 7, 7, 7, 7, 7]);
});

test('NaN inputs reach the outputs', () => {
  const sums = new Float32Array(2);
  N.sumRows(Float32Array.of(1, NaN, 2, 3), sums, 2, 2);
  assert.ok(!Number.isNaN(sums[0]) && Number.isNaN(sums[1]));

  const out = new Float32Array(2);
  N.add(Float32Array.of(NaN, 1), Float32Array.of(1, 1), out);
  assert.ok(Number.isNaN(out[0]));
  const y = Float32Array.of(1, 1);
  N.axpby(1, Float32Array.of(NaN, 1), 0, y);
  assert.ok(Number.isNaN(y[0]) && y[1] === 1);

  const grad = new Float32Array(4);
  assert.ok(Number.isNaN(N.softmaxCrossEntropy(Float32Array.of(1, 2, NaN, 0), Int32Array.of(0, 1), grad, 2, 2)));
  assert.ok(!Number.isNaN(grad[0]) && Number.isNaN(grad[2]) && Number.isNaN(grad[3]));
  assert.ok(Number.isNaN(N.meanSquaredError(Float32Array.of(0, NaN), Float32Array.of(0, 0), null)));

  const idx = new Int32Array(1);
  N.argmaxRows(Float32Array.of(1, 9, NaN, NaN), idx, 1, 4);
  assert.equal(idx[0], 2);

  const p = Float32Array.of(1, 1);
  N.adamStep(p, Float32Array.of(NaN, 1), new Float32Array(2), new Float32Array(2), { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step: 1 });
  assert.ok(Number.isNaN(p[0]) && !Number.isNaN(p[1]));
  const q = Float32Array.of(1, 1);
  N.sgdStep(q, Float32Array.of(NaN, 1), new Float32Array(2), { lr: 0.1, momentum: 0.9, weightDecay: 0, nesterov: true });
  assert.ok(Number.isNaN(q[0]) && !Number.isNaN(q[1]));
});
