// Native batch norm over [rows, c] against the reference backend: training forward (y, batch
// mean, biased variance), inference forward, backward (dx, dGamma, dBeta); the ReLU fused in,
// against the native batch norm followed by the native ReLU, plain and on blocked images.
// Tolerance: |native - reference| <= 1e-5 |reference| + 1e-6 rows for the statistics and the
// sums behind dGamma/dBeta/dx (inputs ~N(0, 1) with a per-channel offset), 1e-5 + 1e-5 |ref| for y.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { BatchNormAttrs } from '../../src/backend/kernel_names.js';
import { nativeBackend as N } from '../../src/backend/native_backend.js';
import { referenceBackend as R } from '../../src/backend/reference_backend.js';
import { assertClose, randoms } from './native_check.js';

const rnd = randoms(404);
const SHAPES: BatchNormAttrs[] = [
  { rows: 1000, c: 3, eps: 1e-5 },
  { rows: 128 * 4 * 4, c: 16, eps: 1e-5 },
  { rows: 7, c: 33, eps: 1e-3 },
  { rows: 2, c: 1, eps: 0.1 },
];

function inputs(a: BatchNormAttrs): { x: Float32Array; gamma: Float32Array; beta: Float32Array; dy: Float32Array } {
  const x = rnd.normal(a.rows * a.c);
  // channels with different means and scales, as after a convolution
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * (1 + (i % a.c) * 0.25) + (i % a.c) - 1;
  return { x, gamma: rnd.normal(a.c), beta: rnd.normal(a.c), dy: rnd.normal(a.rows * a.c) };
}

test('batchNorm training forward matches the reference: y, batch mean and biased variance', () => {
  for (const a of SHAPES) {
    const { x, gamma, beta } = inputs(a);
    const out = () => ({ y: new Float32Array(a.rows * a.c), mean: new Float32Array(a.c), variance: new Float32Array(a.c) });
    const n = out();
    const r = out();
    N.batchNormForwardTraining(x, gamma, beta, n.y, n.mean, n.variance, a);
    R.batchNormForwardTraining(x, gamma, beta, r.y, r.mean, r.variance, a);
    const what = JSON.stringify(a);
    assertClose(n.mean, r.mean, `mean ${what}`, { absPerTerm: 1e-6, terms: a.rows });
    assertClose(n.variance, r.variance, `variance ${what}`, { absPerTerm: 1e-6, terms: a.rows });
    assertClose(n.y, r.y, `y ${what}`, { rel: 1e-5, absPerTerm: 1e-5 });
  }
});

test('batchNorm inference forward matches the reference with given statistics', () => {
  for (const a of SHAPES) {
    const { x, gamma, beta } = inputs(a);
    const mean = rnd.normal(a.c);
    const variance = rnd.normal(a.c).map((v) => v * v + 0.1);
    const yN = new Float32Array(a.rows * a.c);
    const yR = new Float32Array(a.rows * a.c);
    N.batchNormForwardInference(x, gamma, beta, mean, variance, yN, a);
    R.batchNormForwardInference(x, gamma, beta, mean, variance, yR, a);
    assertClose(yN, yR, `inference ${JSON.stringify(a)}`, { rel: 1e-5, absPerTerm: 1e-5 });
  }
});

test('batchNorm backward matches the reference: dx, dGamma, dBeta', () => {
  for (const a of SHAPES) {
    const { x, gamma, beta, dy } = inputs(a);
    const y = new Float32Array(a.rows * a.c);
    const mean = new Float32Array(a.c);
    const variance = new Float32Array(a.c);
    R.batchNormForwardTraining(x, gamma, beta, y, mean, variance, a);
    const grads = () => ({ dx: new Float32Array(a.rows * a.c), dGamma: new Float32Array(a.c), dBeta: new Float32Array(a.c) });
    const n = grads();
    const r = grads();
    N.batchNormBackward(x, dy, gamma, mean, variance, n.dx, n.dGamma, n.dBeta, a);
    R.batchNormBackward(x, dy, gamma, mean, variance, r.dx, r.dGamma, r.dBeta, a);
    const what = JSON.stringify(a);
    assertClose(n.dBeta, r.dBeta, `dBeta ${what}`, { absPerTerm: 1e-6, terms: a.rows });
    assertClose(n.dGamma, r.dGamma, `dGamma ${what}`, { absPerTerm: 1e-6, terms: a.rows });
    // dx subtracts two row averages from dy: the error of those sums divided by rows, times gamma/std
    assertClose(n.dx, r.dx, `dx ${what}`, { rel: 1e-4, absPerTerm: 1e-5 });
  }
});

test('batchNorm with relu fused equals batch norm then ReLU: training and inference forward, backward from the workspace, plain and blocked', () => {
  const block = N.channelBlock;
  const shapes: BatchNormAttrs[] = [...SHAPES, { rows: 4 * 6 * 6, c: 2 * block, eps: 1e-5, images: 4 }];
  for (const a of shapes) {
    const what = JSON.stringify(a);
    const size = a.rows * a.c;
    const fusedAttrs = { ...a, relu: true };
    const { x, gamma, beta, dy } = inputs(a);
    const stats = () => ({ mean: new Float32Array(a.c), variance: new Float32Array(a.c) });

    // separate: batch norm, then ReLU forward; ReLU backward from its output, then batch norm backward
    const s = stats();
    const bn = new Float32Array(size);
    const y = new Float32Array(size);
    N.batchNormForwardTraining(x, gamma, beta, bn, s.mean, s.variance, a);
    N.activationForward('relu', bn, y, 0);
    const dBn = new Float32Array(size);
    N.activationBackward('relu', y, dy, dBn, 0);
    const grads = () => ({ dx: new Float32Array(size), dGamma: new Float32Array(a.c), dBeta: new Float32Array(a.c) });
    const g = grads();
    N.batchNormBackward(x, dBn, gamma, s.mean, s.variance, g.dx, g.dGamma, g.dBeta, a);

    const f = stats();
    const yFused = new Float32Array(size);
    const workspace = new Uint8Array(N.batchNormWorkspaceBytes(fusedAttrs));
    N.batchNormForwardTraining(x, gamma, beta, yFused, f.mean, f.variance, fusedAttrs, workspace);
    assert.ok(y.some((v) => v === 0) && y.some((v) => v > 0), `the relu cuts some outputs and keeps others ${what}`);
    assert.deepEqual(yFused, y, `y ${what}`);
    assert.deepEqual(f.mean, s.mean, `mean ${what}`);
    const gf = grads();
    N.batchNormBackward(x, dy, gamma, f.mean, f.variance, gf.dx, gf.dGamma, gf.dBeta, fusedAttrs, workspace);
    assertClose(gf.dBeta, g.dBeta, `dBeta ${what}`, { absPerTerm: 1e-6, terms: a.rows });
    assertClose(gf.dGamma, g.dGamma, `dGamma ${what}`, { absPerTerm: 1e-6, terms: a.rows });
    assertClose(gf.dx, g.dx, `dx ${what}`, { rel: 1e-4, absPerTerm: 1e-5 });

    const yInference = new Float32Array(size);
    const yInferenceFused = new Float32Array(size);
    N.batchNormForwardInference(x, gamma, beta, s.mean, s.variance, yInference, a);
    N.activationForward('relu', yInference, yInference, 0);
    N.batchNormForwardInference(x, gamma, beta, s.mean, s.variance, yInferenceFused, fusedAttrs);
    assertClose(yInferenceFused, yInference, `inference ${what}`, { rel: 1e-6, absPerTerm: 1e-6 });
  }
});

test('batchNorm with relu: both backends ask for the workspace with relu, refuse it without, and check its size', () => {
  const a: BatchNormAttrs = { rows: 64, c: 8, eps: 1e-5 };
  const { x, gamma, beta, dy } = inputs(a);
  for (const B of [N, R]) {
    const y = new Float32Array(a.rows * a.c), mean = new Float32Array(a.c), variance = new Float32Array(a.c);
    const dx = new Float32Array(a.rows * a.c), dGamma = new Float32Array(a.c), dBeta = new Float32Array(a.c);
    const relu = { ...a, relu: true };
    const bytes = B.batchNormWorkspaceBytes(relu);
    assert.ok(bytes > 0, `${B.name}: ${bytes} bytes`);
    assert.equal(B.batchNormWorkspaceBytes(a), 0, B.name);
    assert.throws(() => B.batchNormForwardTraining(x, gamma, beta, y, mean, variance, relu), /^Error: batchNormForwardTraining: relu needs the workspace \(batchNormWorkspaceBytes bytes\)$/, B.name);
    assert.throws(() => B.batchNormBackward(x, dy, gamma, mean, variance, dx, dGamma, dBeta, relu), /^Error: batchNormBackward: relu needs the workspace/, B.name);
    assert.throws(() => B.batchNormForwardTraining(x, gamma, beta, y, mean, variance, a, new Uint8Array(bytes)), /^Error: batchNormForwardTraining: a workspace is only used with relu$/, B.name);
    assert.throws(() => B.batchNormForwardTraining(x, gamma, beta, y, mean, variance, relu, new Uint8Array(bytes - 1)), /batchNormForwardTraining: workspace holds/, B.name);
  }
});
