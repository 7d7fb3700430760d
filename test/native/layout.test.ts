// The native kernels on the blocked image layout (nChw8c with AVX2, nChw16c with AVX-512)
// against the same native kernels on NHWC: reorder round trips and index formula, convolutions
// with x and y in either layout, batch norm over blocked images, max and global average pooling,
// and the errors for channel counts that do not fill whole blocks. Channel counts are multiples
// of 16 so every case is valid on either block size. Convolution kernels differ between layouts
// (summation order), so results are compared with the tolerance of conv.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Conv2dAttrs, PoolAttrs } from '../../src/backend/kernel_names.js';
import { nativeBackend as N } from '../../src/backend/native_backend.js';
import { assertClose, randoms } from './native_check.js';

const rnd = randoms(404);
const B = N.channelBlock;

function toBlocked(x: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const y = new Float32Array(x.length);
  N.reorderImages(x, y, { n, h, w, c, toBlocked: true });
  return y;
}

function toPlain(x: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const y = new Float32Array(x.length);
  N.reorderImages(x, y, { n, h, w, c, toBlocked: false });
  return y;
}

test(`reorderImages: blocked element order is [n, c/${B}, h, w, ${B}], and the round trip is exact`, () => {
  assert.ok(B === 8 || B === 16, `channelBlock ${B}`);
  const [n, h, w, c] = [2, 3, 5, 32];
  const x = Float32Array.from({ length: n * h * w * c }, (_, i) => i);
  const blocked = toBlocked(x, n, h, w, c);
  for (let ni = 0; ni < n; ni++) {
    for (let p = 0; p < h * w; p++) {
      for (let ci = 0; ci < c; ci++) {
        assert.equal(blocked[((ni * (c / B) + Math.floor(ci / B)) * h * w + p) * B + (ci % B)], (ni * h * w + p) * c + ci);
      }
    }
  }
  assert.deepEqual(toPlain(blocked, n, h, w, c), x);
});

function conv(n: number, h: number, w: number, c: number, o: number, k: number, stride: number, pad: number): Conv2dAttrs {
  const outH = Math.floor((h + 2 * pad - k) / stride) + 1;
  const outW = Math.floor((w + 2 * pad - k) / stride) + 1;
  return { n, h, w, c, o, kh: k, kw: k, strideH: stride, strideW: stride, padH: pad, padW: pad, outH, outW };
}

test('conv2d with x and y blocked or NHWC, in every combination, matches NHWC', () => {
  for (const a of [conv(2, 9, 7, 16, 32, 3, 1, 1), conv(3, 8, 8, 32, 16, 3, 2, 1), conv(2, 6, 6, 16, 16, 1, 1, 0)]) {
    const { n, h, w, c, o, kh, kw, outH, outW } = a;
    const x = rnd.normal(n * h * w * c), weight = rnd.normal(o * c * kh * kw), bias = rnd.normal(o);
    const dy = rnd.normal(n * outH * outW * o);
    const y0 = new Float32Array(dy.length), dx0 = new Float32Array(x.length), dw0 = new Float32Array(weight.length), db0 = new Float32Array(o);
    N.conv2dForward(x, weight, bias, y0, a);
    N.conv2dBackwardData(dy, weight, dx0, a);
    N.conv2dBackwardWeights(x, dy, dw0, db0, a);
    for (const xBlocked of [false, true]) {
      for (const yBlocked of [false, true]) {
        const b: Conv2dAttrs = { ...a, xBlocked, yBlocked };
        const what = `x ${xBlocked ? 'blocked' : 'nhwc'}, y ${yBlocked ? 'blocked' : 'nhwc'} ${JSON.stringify(a)}`;
        const xs = xBlocked ? toBlocked(x, n, h, w, c) : x;
        const dys = yBlocked ? toBlocked(dy, n, outH, outW, o) : dy;
        const y = new Float32Array(dy.length).fill(Number.NaN);
        N.conv2dForward(xs, weight, bias, y, b);
        assertClose(yBlocked ? toPlain(y, n, outH, outW, o) : y, y0, `forward ${what}`, { terms: c * kh * kw });
        const dx = new Float32Array(x.length).fill(Number.NaN);
        N.conv2dBackwardData(dys, weight, dx, b);
        assertClose(xBlocked ? toPlain(dx, n, h, w, c) : dx, dx0, `backward data ${what}`, { terms: o * kh * kw });
        const dw = new Float32Array(weight.length).fill(Number.NaN), db = new Float32Array(o).fill(Number.NaN);
        N.conv2dBackwardWeights(xs, dys, dw, db, b);
        assertClose(dw, dw0, `backward weights ${what}`, { terms: n * outH * outW });
        assertClose(db, db0, `backward bias ${what}`, { terms: n * outH * outW });
      }
    }
  }
});

test('batch norm over blocked images matches NHWC: training, inference and backward', () => {
  const [n, h, w, c] = [4, 5, 3, 32];
  const rows = n * h * w;
  const x = rnd.normal(rows * c), dy = rnd.normal(rows * c), gamma = rnd.normal(c), beta = rnd.normal(c);
  const plain = { rows, c, eps: 1e-5 }, blocked = { rows, c, eps: 1e-5, images: n };
  const xb = toBlocked(x, n, h, w, c), dyb = toBlocked(dy, n, h, w, c);
  const y0 = new Float32Array(x.length), m0 = new Float32Array(c), v0 = new Float32Array(c);
  const y1 = new Float32Array(x.length), m1 = new Float32Array(c), v1 = new Float32Array(c);
  N.batchNormForwardTraining(x, gamma, beta, y0, m0, v0, plain);
  N.batchNormForwardTraining(xb, gamma, beta, y1, m1, v1, blocked);
  assertClose(toPlain(y1, n, h, w, c), y0, 'training y', { terms: rows });
  assertClose(m1, m0, 'mean', { terms: rows });
  assertClose(v1, v0, 'variance', { terms: rows });
  N.batchNormForwardInference(x, gamma, beta, m0, v0, y0, plain);
  N.batchNormForwardInference(xb, gamma, beta, m0, v0, y1, blocked);
  assertClose(toPlain(y1, n, h, w, c), y0, 'inference y');
  const dx0 = new Float32Array(x.length), dg0 = new Float32Array(c), db0 = new Float32Array(c);
  const dx1 = new Float32Array(x.length), dg1 = new Float32Array(c), db1 = new Float32Array(c);
  N.batchNormBackward(x, dy, gamma, m0, v0, dx0, dg0, db0, plain);
  N.batchNormBackward(xb, dyb, gamma, m0, v0, dx1, dg1, db1, blocked);
  assertClose(toPlain(dx1, n, h, w, c), dx0, 'dx', { terms: rows });
  assertClose(dg1, dg0, 'dGamma', { terms: rows });
  assertClose(db1, db0, 'dBeta', { terms: rows });
});

test('max pooling and global average pooling over blocked images match NHWC', () => {
  const [n, h, w, c] = [3, 6, 4, 32];
  const a: PoolAttrs = { n, h, w, c, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, outH: 3, outW: 2 };
  const ab: PoolAttrs = { ...a, blocked: true };
  const x = rnd.normal(n * h * w * c), dy = rnd.normal(n * 3 * 2 * c);
  const y0 = new Float32Array(dy.length), y1 = new Float32Array(dy.length);
  const ws0 = new Uint8Array(N.maxPool2dWorkspaceBytes(a)), ws1 = new Uint8Array(N.maxPool2dWorkspaceBytes(ab));
  N.maxPool2dForward(x, y0, ws0, a);
  N.maxPool2dForward(toBlocked(x, n, h, w, c), y1, ws1, ab);
  assert.deepEqual(toPlain(y1, n, 3, 2, c), y0);
  const dx0 = new Float32Array(x.length), dx1 = new Float32Array(x.length);
  N.maxPool2dBackward(dy, ws0, dx0, a);
  N.maxPool2dBackward(toBlocked(dy, n, 3, 2, c), ws1, dx1, ab);
  assert.deepEqual(toPlain(dx1, n, h, w, c), dx0);

  const g0 = new Float32Array(n * c), g1 = new Float32Array(n * c);
  N.globalAvgPoolForward(x, g0, { n, h, w, c });
  N.globalAvgPoolForward(toBlocked(x, n, h, w, c), g1, { n, h, w, c, blocked: true });
  assertClose(g1, g0, 'global average', { terms: h * w });
  const gdy = rnd.normal(n * c);
  const gdx0 = new Float32Array(x.length), gdx1 = new Float32Array(x.length);
  N.globalAvgPoolBackward(gdy, gdx0, { n, h, w, c });
  N.globalAvgPoolBackward(gdy, gdx1, { n, h, w, c, blocked: true });
  assertClose(toPlain(gdx1, n, h, w, c), gdx0, 'global average backward');
});

test('blocked operands whose channels do not fill whole blocks are refused, naming the attribute', () => {
  const a = { ...conv(1, 4, 4, 3, 16, 3, 1, 1), xBlocked: true };
  const x = new Float32Array(4 * 4 * 3), wt = new Float32Array(16 * 3 * 9), y = new Float32Array(4 * 4 * 16);
  assert.throws(() => N.conv2dForward(x, wt, null, y, a), new RegExp(`conv2dForward: xBlocked needs c to be a multiple of ${B}, got c = 3`));
  assert.throws(() => N.conv2dForward(x, wt, null, y, { ...conv(1, 4, 4, 3, 12, 3, 1, 1), yBlocked: true }), /yBlocked needs o to be a multiple/);
  assert.throws(() => N.batchNormForwardTraining(new Float32Array(24), new Float32Array(12), new Float32Array(12), new Float32Array(24), new Float32Array(12), new Float32Array(12), { rows: 2, c: 12, eps: 1e-5, images: 1 }), /blocked images need/);
  const bn = (rows: number, images: number): void =>
    N.batchNormForwardTraining(new Float32Array(rows * 16), new Float32Array(16), new Float32Array(16), new Float32Array(rows * 16), new Float32Array(16), new Float32Array(16), { rows, c: 16, eps: 1e-5, images });
  assert.throws(() => bn(5, 2), /batchNormForwardTraining: blocked images need rows to be a multiple of images, got rows = 5, images = 2/);
  assert.doesNotThrow(() => bn(6, 2));
  assert.throws(() => N.reorderImages(new Float32Array(12), new Float32Array(12), { n: 1, h: 1, w: 1, c: 12, toBlocked: true }), /reorderImages: the blocked layout needs c to be a multiple/);
});
