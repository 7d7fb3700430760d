// The reference backend against hand-computed outputs, then every backward kernel against central
// finite differences of its forward kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { Activation, Conv2dAttrs, Window2dAttrs } from '../../../src/backend/kernel_names.js';
import { referenceBackend as B } from '../../../src/backend/reference_backend.js';
import { Rng } from '../../../src/tensor/rng.js';

const f32 = (...xs: number[]): Float32Array => Float32Array.from(xs);

/** |actual - expected| <= tol * (1 + |expected|) elementwise (NaN only matches NaN). */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) assert.ok(Number.isNaN(a), `${what}[${i}]: expected NaN, got ${a}`);
    else assert.ok(Math.abs(a - e) <= tol * (1 + Math.abs(e)), `${what}[${i}]: got ${a}, expected ${e}`);
  }
}

function window(n: number, h: number, w: number, c: number, k: [number, number], s: [number, number], p: [number, number]): Window2dAttrs {
  const outH = Math.floor((h + 2 * p[0] - k[0]) / s[0]) + 1;
  const outW = Math.floor((w + 2 * p[1] - k[1]) / s[1]) + 1;
  return { n, h, w, c, kh: k[0], kw: k[1], strideH: s[0], strideW: s[1], padH: p[0], padW: p[1], outH, outW };
}

// ***** dense *****

test('matmul: every transA / transB / bias / accumulate combination', () => {
  // a = [[1,2,3],[4,5,6]] (2x3), b = [[7,8],[9,10],[11,12]] (3x2), a@b = [[58,64],[139,154]].
  const a = f32(1, 2, 3, 4, 5, 6);
  const aT = f32(1, 4, 2, 5, 3, 6);
  const b = f32(7, 8, 9, 10, 11, 12);
  const bT = f32(7, 9, 11, 8, 10, 12);
  const product = [58, 64, 139, 154];
  const bias = f32(1, -1);
  const before = [10, 20, 30, 40];
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      for (const withBias of [false, true]) {
        for (const accumulate of [false, true]) {
          // Without accumulate, out's old contents (NaN here) must not be read.
          const out = accumulate ? f32(...before) : new Float32Array(4).fill(NaN);
          B.matmul(transA ? aT : a, transB ? bT : b, withBias ? bias : null, out, { m: 2, k: 3, n: 2, transA, transB, accumulate });
          const expected = product.map((v, i) => v + (withBias ? bias[i % 2]! : 0) + (accumulate ? before[i]! : 0));
          assert.deepEqual([...out], expected, `transA=${transA} transB=${transB} bias=${withBias} accumulate=${accumulate}`);
        }
      }
    }
  }
});

test('matmul and sumRows: too-short buffers name the kernel and the buffer', () => {
  assert.throws(() => B.matmul(f32(1, 2, 3, 4, 5), f32(1, 2, 3, 4, 5, 6), null, new Float32Array(4), { m: 2, k: 3, n: 2, transA: false, transB: false, accumulate: false }),
    { name: 'RangeError', message: 'matmul: a holds 5 elements, the shape needs 6' });
  assert.throws(() => B.sumRows(f32(1, 2, 3), new Float32Array(2), 2, 2), /^RangeError: sumRows: x holds 3 elements, the shape needs 4$/);
});

test('sumRows sums over rows', () => {
  const out = new Float32Array(2);
  B.sumRows(f32(1, 2, 3, 4, 5, 6), out, 3, 2);
  assert.deepEqual([...out], [9, 12]);
});

// ***** convolution *****

test('conv2d: 2x2 kernel, stride 1, no padding, with bias', () => {
  // x = 1..9 as a 3x3 image; w = [[1,0],[0,-1]] gives x[i,j] - x[i+1,j+1] = -4, plus bias 0.5.
  const attrs: Conv2dAttrs = { ...window(1, 3, 3, 1, [2, 2], [1, 1], [0, 0]), o: 1 };
  const y = new Float32Array(4);
  B.conv2dForward(f32(1, 2, 3, 4, 5, 6, 7, 8, 9), f32(1, 0, 0, -1), f32(0.5), y, attrs);
  assert.deepEqual([...y], [-3.5, -3.5, -3.5, -3.5]);
});

test('conv2d: 3x3 ones kernel, stride 2, padding 1, forward and both backward passes', () => {
  const attrs: Conv2dAttrs = { ...window(1, 3, 3, 1, [3, 3], [2, 2], [1, 1]), o: 1 };
  assert.equal(attrs.outH, 2);
  const x = f32(1, 2, 3, 4, 5, 6, 7, 8, 9);
  const ones = new Float32Array(9).fill(1);
  const y = new Float32Array(4);
  B.conv2dForward(x, ones, null, y, attrs);
  // Each output sums the 2x2 block of the image its window covers.
  assert.deepEqual([...y], [1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9]);
  // With dy = 1, dx counts the windows covering each pixel.
  const dx = new Float32Array(9);
  B.conv2dBackwardData(f32(1, 1, 1, 1), ones, dx, attrs);
  assert.deepEqual([...dx], [1, 2, 1, 2, 4, 2, 1, 2, 1]);
  // dW[i, j] sums x over the pixels tap (i, j) reads: tap row 0 and 2 read image row 1, tap row 1 reads rows 0 and 2.
  const dW = new Float32Array(9);
  const dB = new Float32Array(1);
  B.conv2dBackwardWeights(x, f32(1, 1, 1, 1), dW, dB, attrs);
  assert.deepEqual([...dW], [5, 10, 5, 10, 20, 10, 5, 10, 5]);
  assert.deepEqual([...dB], [4]);
});

test('conv2d: channels are NHWC in x and OIHW in the weight', () => {
  // x[0,0,0,:] = [2, 3]; w[o, c] = [[1, 10], [100, 1000]]; y = [2 + 30, 200 + 3000].
  const y = new Float32Array(2);
  B.conv2dForward(f32(2, 3), f32(1, 10, 100, 1000), null, y, { ...window(1, 1, 1, 2, [1, 1], [1, 1], [0, 0]), o: 2 });
  assert.deepEqual([...y], [32, 3200]);
});

// ***** pooling *****

test('maxPool2d: ties go to the first in scan order, backward routes dy to the argmax', () => {
  const attrs = window(1, 4, 4, 1, [2, 2], [2, 2], [0, 0]);
  const x = f32(1, 3, 2, 4, 5, 5, 0, 0, -1, -2, 7, 7, -3, -4, 7, 6);
  assert.equal(B.maxPool2dWorkspaceBytes(attrs), 16);
  const ws = new Uint8Array(B.maxPool2dWorkspaceBytes(attrs));
  const y = new Float32Array(4);
  B.maxPool2dForward(x, y, ws, attrs);
  assert.deepEqual([...y], [5, 4, -1, 7]);
  assert.deepEqual([...new Int32Array(ws.buffer)], [4, 3, 8, 10]);
  const dx = new Float32Array(16).fill(NaN);
  B.maxPool2dBackward(f32(1, 2, 3, 4), ws, dx, attrs);
  const expected = new Array<number>(16).fill(0);
  [expected[4], expected[3], expected[8], expected[10]] = [1, 2, 3, 4];
  assert.deepEqual([...dx], expected);
});

test('maxPool2d: padding counts as -infinity, overlapping windows add their gradients, channels stay apart', () => {
  const padded = window(1, 2, 2, 1, [3, 3], [1, 1], [1, 1]);
  const y = new Float32Array(4);
  B.maxPool2dForward(f32(-5, -6, -7, -8), y, new Uint8Array(B.maxPool2dWorkspaceBytes(padded)), padded);
  assert.deepEqual([...y], [-5, -5, -5, -5]);

  const overlap = window(1, 1, 3, 1, [1, 2], [1, 1], [0, 0]);
  const ws = new Uint8Array(B.maxPool2dWorkspaceBytes(overlap));
  const y2 = new Float32Array(2);
  B.maxPool2dForward(f32(1, 3, 2), y2, ws, overlap);
  const dx = new Float32Array(3);
  B.maxPool2dBackward(f32(10, 20), ws, dx, overlap);
  assert.deepEqual([...y2], [3, 3]);
  assert.deepEqual([...dx], [0, 30, 0]);

  const twoChannels = window(1, 2, 2, 2, [2, 2], [2, 2], [0, 0]);
  const y3 = new Float32Array(2);
  B.maxPool2dForward(f32(1, 8, 4, 5, 3, 6, 2, 7), y3, new Uint8Array(8), twoChannels);
  assert.deepEqual([...y3], [4, 8]);
});

test('maxPool2d: a NaN in the window is the maximum (the first NaN)', () => {
  const attrs = window(1, 2, 2, 1, [2, 2], [2, 2], [0, 0]);
  const ws = new Uint8Array(4);
  const y = new Float32Array(1);
  B.maxPool2dForward(f32(1, NaN, 3, NaN), y, ws, attrs);
  assert.ok(Number.isNaN(y[0]));
  assert.deepEqual([...new Int32Array(ws.buffer)], [1]);
});

test('globalAvgPool forward and backward', () => {
  const attrs = { n: 1, h: 2, w: 2, c: 2 };
  const y = new Float32Array(2);
  B.globalAvgPoolForward(f32(1, 10, 2, 20, 3, 30, 4, 40), y, attrs);
  assert.deepEqual([...y], [2.5, 25]);
  const dx = new Float32Array(8);
  B.globalAvgPoolBackward(f32(4, 8), dx, attrs);
  assert.deepEqual([...dx], [1, 2, 1, 2, 1, 2, 1, 2]);
});

// ***** batch norm *****

test('batchNorm: training uses batch mean and biased variance, inference the given ones', () => {
  // Channel 0: [1, 2, 3, 4], mean 2.5, var 1.25. Channel 1: [0, 0, 2, 2], mean 1, var 1.
  const x = f32(1, 0, 2, 0, 3, 2, 4, 2);
  const attrs = { rows: 4, c: 2, eps: 0 };
  const y = new Float32Array(8);
  const mean = new Float32Array(2);
  const variance = new Float32Array(2);
  B.batchNormForwardTraining(x, f32(2, 1), f32(0, 0.5), y, mean, variance, attrs);
  assert.deepEqual([...mean], [2.5, 1]);
  assert.deepEqual([...variance], [1.25, 1]);
  const s = 2 / Math.sqrt(1.25);
  assertClose(y, [-1.5 * s, -0.5, -0.5 * s, -0.5, 0.5 * s, 1.5, 1.5 * s, 1.5], 1e-7, 'y');

  // Inference: mean 0, var [3, 0], eps 1 gives y = gamma * x / [2, 1] + beta.
  B.batchNormForwardInference(x, f32(2, 1), f32(0, 0.5), f32(0, 0), f32(3, 0), y, { rows: 4, c: 2, eps: 1 });
  assert.deepEqual([...y], [1, 0.5, 2, 0.5, 3, 2.5, 4, 2.5]);

  // A constant dy shifts every y equally, which the normalisation undoes: dx = 0, dgamma = 0.
  const dx = new Float32Array(8);
  const dGamma = new Float32Array(2);
  const dBeta = new Float32Array(2);
  B.batchNormBackward(x, new Float32Array(8).fill(3), f32(2, 1), mean, variance, dx, dGamma, dBeta, attrs);
  assertClose(dx, new Array(8).fill(0), 1e-7, 'dx');
  assertClose(dGamma, [0, 0], 1e-7, 'dGamma');
  assert.deepEqual([...dBeta], [12, 12]);
});

// ***** activations *****

test('activations forward and backward on known values', () => {
  const x = f32(-2, -0.5, 0, 1.5);
  const dy = f32(1, 2, 3, 4);
  const y = new Float32Array(4);
  const dx = new Float32Array(4);
  const alpha = 0.5;
  const elu = [alpha * (Math.exp(-2) - 1), alpha * (Math.exp(-0.5) - 1), 0, 1.5];
  const sig = [-2, -0.5, 0, 1.5].map((v) => 1 / (1 + Math.exp(-v)));
  const th = [-2, -0.5, 0, 1.5].map(Math.tanh);
  const cases: [Activation, number[], number[]][] = [
    ['relu', [0, 0, 0, 1.5], [0, 0, 0, 4]],
    ['elu', elu, elu.map((v, i) => dy[i]! * (v > 0 ? 1 : Math.fround(v) + alpha))],
    ['sigmoid', sig, sig.map((v, i) => dy[i]! * Math.fround(v) * (1 - Math.fround(v)))],
    ['tanh', th, th.map((v, i) => dy[i]! * (1 - Math.fround(v) ** 2))],
  ];
  for (const [kind, fwd, bwd] of cases) {
    B.activationForward(kind, x, y, alpha);
    assertClose(y, fwd, 1e-7, `${kind} forward`);
    B.activationBackward(kind, y, dy, dx, alpha);
    assertClose(dx, bwd, 1e-7, `${kind} backward`);
  }
});

test('activations: NaN propagates forward and backward (from y and from dy)', () => {
  for (const kind of ['relu', 'elu', 'sigmoid', 'tanh'] as const) {
    const y = new Float32Array(2);
    B.activationForward(kind, f32(NaN, 1), y, 1);
    assert.ok(Number.isNaN(y[0]) && !Number.isNaN(y[1]), `${kind} forward`);
    const dx = new Float32Array(2);
    B.activationBackward(kind, f32(NaN, 0.5), f32(1, NaN), dx, 1);
    assert.ok(Number.isNaN(dx[0]) && Number.isNaN(dx[1]), `${kind} backward`);
  }
});

test('add and axpby; axpby with beta 0 does not read y', () => {
  const a = f32(1, 2);
  B.add(a, f32(10, 20), a);
  assert.deepEqual([...a], [11, 22]);
  const y = f32(1, 2);
  B.axpby(2, f32(3, 4), -1, y);
  assert.deepEqual([...y], [5, 6]);
  const stale = f32(NaN, 7);
  B.axpby(2, f32(3, 4), 0, stale);
  assert.deepEqual([...stale], [6, 8]);
  assert.throws(() => B.add(f32(1, 2), f32(1), new Float32Array(2)), /^RangeError: add: b holds 1 elements, a holds 2$/);
});

// ***** losses and argmax *****

test('softmaxCrossEntropy: known values, gradient, stability, no-gradient call', () => {
  // Row 0: logits [0, 0], label 1: loss ln 2. Row 1: [ln 3, 0], label 0: softmax [3/4, 1/4], loss -ln(3/4).
  const logits = f32(0, 0, Math.log(3), 0);
  const grad = new Float32Array(4);
  const loss = B.softmaxCrossEntropy(logits, Int32Array.of(1, 0), grad, 2, 2);
  assert.ok(Math.abs(loss - (Math.LN2 - Math.log(0.75)) / 2) < 1e-7);
  assertClose(grad, [0.25, -0.25, -0.125, 0.125], 1e-7, 'grad');
  assert.equal(B.softmaxCrossEntropy(logits, Int32Array.of(1, 0), null, 2, 2), loss);

  const big = new Float32Array(2);
  assert.ok(Math.abs(B.softmaxCrossEntropy(f32(1000, 0), Int32Array.of(1), big, 1, 2) - 1000) < 1e-9);
  assertClose(big, [1, -1], 1e-7, 'grad at large logits');
});

test('softmaxCrossEntropy: a label out of range names its row and label; NaN logits give NaN', () => {
  const logits = new Float32Array(6);
  assert.throws(() => B.softmaxCrossEntropy(logits, Int32Array.of(0, 1, 3), null, 3, 2),
    { name: 'RangeError', message: 'softmaxCrossEntropy: row 2 has label 3, outside [0, 2)' });
  assert.throws(() => B.softmaxCrossEntropy(logits, Int32Array.of(-1, 0, 0), null, 3, 2), /row 0 has label -1/);
  const grad = new Float32Array(4);
  const loss = B.softmaxCrossEntropy(f32(1, NaN, 0, 1), Int32Array.of(0, 1), grad, 2, 2);
  assert.ok(Number.isNaN(loss));
  assert.ok(Number.isNaN(grad[0]) && Number.isNaN(grad[1]) && !Number.isNaN(grad[2]));
});

test('meanSquaredError: value, gradient, NaN', () => {
  const grad = new Float32Array(3);
  assert.equal(B.meanSquaredError(f32(1, 2, 3), f32(1, 0, 5), grad), 8 / 3);
  assertClose(grad, [0, 4 / 3, -4 / 3], 1e-7, 'grad');
  assert.ok(Number.isNaN(B.meanSquaredError(f32(1, NaN), f32(1, 0), grad.subarray(0, 2))));
  assert.ok(Number.isNaN(grad[1]));
});

test('argmaxRows: first index on ties, first NaN wins', () => {
  const out = new Int32Array(5);
  B.argmaxRows(f32(1, 3, 3, 2, 1, 0, NaN, 5, NaN, 1, NaN, 9, -Infinity, -Infinity, -Infinity), out, 5, 3);
  assert.deepEqual([...out], [1, 0, 0, 1, 0]);
});

// ***** optimizers *****

test('adamStep over 3 steps matches the formulas (plain, L2, AdamW)', () => {
  const grads = [[0.5, -1, 2], [0.25, 0.5, -1], [-0.5, 1, 0.125]];
  for (const [weightDecay, decoupled] of [[0, false], [0.1, false], [0.1, true]] as const) {
    const param = f32(1, -2, 0.5);
    const m = new Float32Array(3);
    const v = new Float32Array(3);
    const lr = 0.01;
    const beta1 = 0.9;
    const beta2 = 0.999;
    const eps = 1e-8;
    // The same maths one scalar at a time, in float64.
    const p = [1, -2, 0.5];
    const mm = [0, 0, 0];
    const vv = [0, 0, 0];
    for (let step = 1; step <= 3; step++) {
      B.adamStep(param, f32(...grads[step - 1]!), m, v, { lr, beta1, beta2, eps, weightDecay, decoupled, step });
      for (let i = 0; i < 3; i++) {
        const g = grads[step - 1]![i]! + (decoupled ? 0 : weightDecay * p[i]!);
        if (decoupled) p[i] = p[i]! - lr * weightDecay * p[i]!;
        mm[i] = beta1 * mm[i]! + (1 - beta1) * g;
        vv[i] = beta2 * vv[i]! + (1 - beta2) * g * g;
        p[i] = p[i]! - (lr * mm[i]! / (1 - beta1 ** step)) / (Math.sqrt(vv[i]! / (1 - beta2 ** step)) + eps);
      }
    }
    assertClose(param, p, 1e-6, `adam wd=${weightDecay} decoupled=${decoupled}`);
  }
  // Constant gradient, no decay: mhat = g and vhat = g^2 exactly, so each step moves lr * sign(g).
  const param = f32(1);
  const m = new Float32Array(1);
  const v = new Float32Array(1);
  for (let step = 1; step <= 3; step++) B.adamStep(param, f32(-3), m, v, { lr: 0.125, beta1: 0.9, beta2: 0.999, eps: 0, weightDecay: 0, decoupled: false, step });
  assertClose(param, [1.375], 1e-6, 'adam sign steps');
  assert.throws(() => B.adamStep(param, f32(1), m, v, { lr: 1, beta1: 0.9, beta2: 0.999, eps: 0, weightDecay: 0, decoupled: false, step: 0 }), /^RangeError: adamStep: step/);
});

test('sgdStep over 3 steps: plain with weight decay, momentum, Nesterov', () => {
  // Plain SGD with decay: p <- p - lr (g + wd p).
  const plain = f32(2);
  let p = 2;
  for (let t = 0; t < 3; t++) {
    B.sgdStep(plain, f32(0.5), new Float32Array(0), { lr: 0.1, momentum: 0, weightDecay: 0.25, nesterov: false });
    p -= 0.1 * (0.5 + 0.25 * p);
  }
  assertClose(plain, [p], 1e-7, 'plain');
  // Constant g, momentum 0.9: buf = g, 1.9 g, 2.71 g; Nesterov steps by g + 0.9 buf = 1.9 g, 2.71 g, 3.439 g.
  for (const [nesterov, total] of [[false, 1 + 1.9 + 2.71], [true, 1.9 + 2.71 + 3.439]] as const) {
    const param = f32(1);
    const buf = new Float32Array(1);
    for (let t = 0; t < 3; t++) B.sgdStep(param, f32(2), buf, { lr: 0.01, momentum: 0.9, weightDecay: 0, nesterov });
    assertClose(param, [1 - 0.01 * 2 * total], 1e-6, `nesterov=${nesterov}`);
    assertClose(buf, [2.71 * 2], 1e-6, `buffer nesterov=${nesterov}`);
  }
});

// ***** finite-difference gradient checks *****
//
// Inputs lie on a grid of 2^-6 and the step is h = 2^-8, so x +- h is exact in float32 and the
// perturbation is exactly 2h. The scalar objective L = sum_i r_i y_i (r random, float32) is summed
// in float64. Error budget: float32 rounding of each output (~6e-8 relative) over <= ~100 outputs,
// divided by 2h = 2^-7, is ~1e-5; truncation is O(h^2) ~ 1e-5 (the largest error seen is 2.2e-5, batch
// norm dx; the linear kernels are exact on the grid). Tolerance: |analytic - fd| <= FD_TOL (1 + |fd|).
const H = 2 ** -8;
const FD_TOL = 2e-4;

function gridRandom(rng: Rng, n: number, scale = 1, avoidZero = false): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    do a[i] = Math.round(rng.normal() * scale * 64) / 64;
    while (avoidZero && a[i] === 0);
  }
  return a;
}

const dot = (r: Float32Array, y: Float32Array): number => r.reduce((s, v, i) => s + v * y[i]!, 0);

/** Central differences of loss() with respect to every element of x, against the analytic gradient. */
function fdCheck(what: string, x: Float32Array, loss: () => number, analytic: Float32Array): void {
  const numeric = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i]!;
    x[i] = x0 + H;
    const plus = loss();
    x[i] = x0 - H;
    const minus = loss();
    x[i] = x0;
    numeric[i] = (plus - minus) / (2 * H);
  }
  assertClose(analytic, numeric, FD_TOL, what);
}

test('gradcheck: linear layer via matmul (y = x W^T + b) and sumRows', () => {
  const rng = new Rng(1);
  const [batch, nIn, nOut] = [3, 4, 5];
  const x = gridRandom(rng, batch * nIn);
  const W = gridRandom(rng, nOut * nIn);
  const b = gridRandom(rng, nOut);
  const r = gridRandom(rng, batch * nOut);
  const y = new Float32Array(batch * nOut);
  const loss = (): number => {
    B.matmul(x, W, b, y, { m: batch, k: nIn, n: nOut, transA: false, transB: true, accumulate: false });
    return dot(r, y);
  };
  const dx = new Float32Array(batch * nIn);
  const dW = new Float32Array(nOut * nIn);
  const db = new Float32Array(nOut);
  B.matmul(r, W, null, dx, { m: batch, k: nOut, n: nIn, transA: false, transB: false, accumulate: false });
  B.matmul(r, x, null, dW, { m: nOut, k: batch, n: nIn, transA: true, transB: false, accumulate: false });
  B.sumRows(r, db, batch, nOut);
  fdCheck('dx', x, loss, dx);
  fdCheck('dW', W, loss, dW);
  fdCheck('db', b, loss, db);
});

test('gradcheck: conv2d backward data, weights and bias (stride 2x1, padding 1x0)', () => {
  const rng = new Rng(2);
  const attrs: Conv2dAttrs = { ...window(2, 5, 4, 3, [3, 2], [2, 1], [1, 0]), o: 2 };
  const x = gridRandom(rng, 2 * 5 * 4 * 3);
  const w = gridRandom(rng, 2 * 3 * 3 * 2);
  const bias = gridRandom(rng, 2);
  const yLen = 2 * attrs.outH * attrs.outW * 2;
  const r = gridRandom(rng, yLen);
  const y = new Float32Array(yLen);
  const loss = (): number => {
    B.conv2dForward(x, w, bias, y, attrs);
    return dot(r, y);
  };
  const dx = new Float32Array(x.length);
  const dW = new Float32Array(w.length);
  const dB = new Float32Array(2);
  B.conv2dBackwardData(r, w, dx, attrs);
  B.conv2dBackwardWeights(x, r, dW, dB, attrs);
  fdCheck('dx', x, loss, dx);
  fdCheck('dW', w, loss, dW);
  fdCheck('dBias', bias, loss, dB);
});

test('gradcheck: max pool (3x3 windows, stride 2, padding 1) and global average pool', () => {
  const rng = new Rng(3);
  const attrs = window(1, 4, 4, 2, [3, 3], [2, 2], [1, 1]);
  // Distinct values 1/16 apart (> 2h), so no perturbation changes which element wins.
  const x = Float32Array.from(rng.permutation(32), (v) => (v - 16) / 16);
  const r = gridRandom(rng, 8);
  const y = new Float32Array(8);
  const ws = new Uint8Array(B.maxPool2dWorkspaceBytes(attrs));
  const loss = (): number => {
    B.maxPool2dForward(x, y, ws, attrs);
    return dot(r, y);
  };
  loss();
  const dx = new Float32Array(32);
  B.maxPool2dBackward(r, ws, dx, attrs);
  fdCheck('max pool dx', x, loss, dx);

  const img = { n: 2, h: 3, w: 2, c: 3 };
  const xg = gridRandom(rng, 36);
  const rg = gridRandom(rng, 6);
  const yg = new Float32Array(6);
  const dxg = new Float32Array(36);
  B.globalAvgPoolBackward(rg, dxg, img);
  fdCheck('global average pool dx', xg, () => {
    B.globalAvgPoolForward(xg, yg, img);
    return dot(rg, yg);
  }, dxg);
});

test('gradcheck: batch norm backward dx, dgamma, dbeta (batch statistics)', () => {
  const rng = new Rng(4);
  const attrs = { rows: 6, c: 3, eps: 1e-3 };
  const x = gridRandom(rng, 18);
  const gamma = gridRandom(rng, 3);
  const beta = gridRandom(rng, 3);
  const r = gridRandom(rng, 18);
  const y = new Float32Array(18);
  const mean = new Float32Array(3);
  const variance = new Float32Array(3);
  const loss = (): number => {
    B.batchNormForwardTraining(x, gamma, beta, y, mean, variance, attrs);
    return dot(r, y);
  };
  loss();
  const dx = new Float32Array(18);
  const dGamma = new Float32Array(3);
  const dBeta = new Float32Array(3);
  B.batchNormBackward(x, r, gamma, mean, variance, dx, dGamma, dBeta, attrs);
  fdCheck('dx', x, loss, dx);
  fdCheck('dgamma', gamma, loss, dGamma);
  fdCheck('dbeta', beta, loss, dBeta);
});

test('gradcheck: relu, elu, sigmoid and tanh, backward from the output', () => {
  const rng = new Rng(5);
  for (const kind of ['relu', 'elu', 'sigmoid', 'tanh'] as const) {
    // Grid values are nonzero multiples of 2^-6 = 4h, so no perturbation crosses the kink at 0.
    const x = gridRandom(rng, 24, 1.5, true);
    const r = gridRandom(rng, 24);
    const y = new Float32Array(24);
    const alpha = 0.75;
    const loss = (): number => {
      B.activationForward(kind, x, y, alpha);
      return dot(r, y);
    };
    loss();
    const dx = new Float32Array(24);
    B.activationBackward(kind, y, r, dx, alpha);
    fdCheck(kind, x, loss, dx);
  }
});

test('gradcheck: softmax cross-entropy and mean squared error', () => {
  const rng = new Rng(6);
  const [rows, cols] = [4, 5];
  const logits = gridRandom(rng, rows * cols, 2);
  const labels = Int32Array.from({ length: rows }, () => rng.int(cols));
  const grad = new Float32Array(rows * cols);
  B.softmaxCrossEntropy(logits, labels, grad, rows, cols);
  fdCheck('softmax cross-entropy', logits, () => B.softmaxCrossEntropy(logits, labels, null, rows, cols), grad);

  const pred = gridRandom(rng, 15);
  const target = gridRandom(rng, 15);
  const g = new Float32Array(15);
  B.meanSquaredError(pred, target, g);
  fdCheck('mean squared error', pred, () => B.meanSquaredError(pred, target, null), g);
});
