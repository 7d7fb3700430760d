// Native pooling against the reference backend: max pool 2x2 stride 2 on even and odd image
// sizes (the last row/column dropped), an overlapping 3x3 stride 2 window with padding, ties,
// and global average pooling. Max pooling is exact (it copies values); average pooling sums h*w
// values: tolerance 1e-6 |reference| + 1e-7 h*w.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { ImageAttrs, Window2dAttrs } from '../../src/backend/kernel_names.js';
import { nativeBackend as N } from '../../src/backend/native_backend.js';
import { referenceBackend as R } from '../../src/backend/reference_backend.js';
import { assertClose, randoms } from './native_check.js';

const rnd = randoms(303);

function pool(n: number, h: number, w: number, c: number, k: number, stride: number, pad: number): Window2dAttrs {
  const outH = Math.floor((h + 2 * pad - k) / stride) + 1;
  const outW = Math.floor((w + 2 * pad - k) / stride) + 1;
  return { n, h, w, c, kh: k, kw: k, strideH: stride, strideW: stride, padH: pad, padW: pad, outH, outW };
}

const MAX_SHAPES: Window2dAttrs[] = [
  pool(2, 8, 8, 16, 2, 2, 0),
  pool(3, 7, 9, 3, 2, 2, 0), // odd sizes
  pool(2, 5, 5, 1, 2, 2, 0),
  pool(2, 9, 7, 8, 3, 2, 1), // overlapping windows, padding
];

function maxPoolBoth(a: Window2dAttrs, x: Float32Array, dy: Float32Array): { yN: Float32Array; yR: Float32Array; dxN: Float32Array; dxR: Float32Array } {
  const { n, h, w, c, outH, outW } = a;
  const yN = new Float32Array(n * outH * outW * c);
  const yR = new Float32Array(yN.length);
  const wsN = new Uint8Array(N.maxPool2dWorkspaceBytes(a));
  const wsR = new Uint8Array(R.maxPool2dWorkspaceBytes(a));
  N.maxPool2dForward(x, yN, wsN, a);
  R.maxPool2dForward(x, yR, wsR, a);
  const dxN = new Float32Array(n * h * w * c).fill(Number.NaN);
  const dxR = new Float32Array(dxN.length);
  N.maxPool2dBackward(dy, wsN, dxN, a);
  R.maxPool2dBackward(dy, wsR, dxR, a);
  return { yN, yR, dxN, dxR };
}

test('maxPool2d forward and backward match the reference (even, odd, overlapping)', () => {
  for (const a of MAX_SHAPES) {
    const x = rnd.normal(a.n * a.h * a.w * a.c);
    const dy = rnd.normal(a.n * a.outH * a.outW * a.c);
    const { yN, yR, dxN, dxR } = maxPoolBoth(a, x, dy);
    assert.deepEqual(yN, yR, `forward ${JSON.stringify(a)}`);
    // Overlapping windows add two dy values into one dx in some order: 1 float32 rounding.
    assertClose(dxN, dxR, `backward ${JSON.stringify(a)}`, { rel: 1e-6, absPerTerm: 0 });
  }
});

test('maxPool2d ties go to the first element of the window, as in the reference', () => {
  const a = pool(2, 6, 6, 4, 2, 2, 0);
  const x = rnd.ints(a.n * a.h * a.w * a.c, 2); // values 0 and 1: most windows tie
  const dy = rnd.normal(a.n * a.outH * a.outW * a.c);
  const { yN, yR, dxN, dxR } = maxPoolBoth(a, x, dy);
  assert.deepEqual(yN, yR);
  assert.deepEqual(dxN, dxR);
});

test('maxPool2dWorkspaceBytes is positive and a short workspace is rejected by name', () => {
  const a = MAX_SHAPES[0]!;
  const bytes = N.maxPool2dWorkspaceBytes(a);
  assert.ok(bytes > 0);
  const x = new Float32Array(a.n * a.h * a.w * a.c);
  const y = new Float32Array(a.n * a.outH * a.outW * a.c);
  assert.throws(() => N.maxPool2dForward(x, y, new Uint8Array(bytes - 1), a), /^RangeError: maxPool2dForward: .*workspace|^Error: maxPool2dForward: workspace/);
});

test('globalAvgPool forward and backward match the reference', () => {
  const shapes: ImageAttrs[] = [{ n: 2, h: 8, w: 8, c: 16 }, { n: 3, h: 7, w: 5, c: 3 }, { n: 1, h: 1, w: 1, c: 9 }, { n: 4, h: 4, w: 4, c: 130 }];
  for (const a of shapes) {
    const { n, h, w, c } = a;
    const x = rnd.normal(n * h * w * c);
    const yN = new Float32Array(n * c);
    const yR = new Float32Array(n * c);
    N.globalAvgPoolForward(x, yN, a);
    R.globalAvgPoolForward(x, yR, a);
    assertClose(yN, yR, `forward ${JSON.stringify(a)}`, { rel: 1e-6, absPerTerm: 1e-7, terms: h * w });
    const dy = rnd.normal(n * c);
    const dxN = new Float32Array(n * h * w * c);
    const dxR = new Float32Array(n * h * w * c);
    N.globalAvgPoolBackward(dy, dxN, a);
    R.globalAvgPoolBackward(dy, dxR, a);
    assertClose(dxN, dxR, `backward ${JSON.stringify(a)}`, { rel: 1e-6, absPerTerm: 0 });
  }
});
