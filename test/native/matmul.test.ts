// Native matmul against the reference backend: every transA/transB combination, with and without
// bias and accumulation, on shapes that are not multiples of any vector width.
// Tolerance: |native - reference| <= 1e-5 |reference| + 2e-6 k (inputs ~N(0, 1), k = reduction length).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { MatMulAttrs } from '../../src/backend/kernel_names.js';
import { nativeBackend as N } from '../../src/backend/native_backend.js';
import { referenceBackend as R } from '../../src/backend/reference_backend.js';
import { assertClose, randoms } from './native_check.js';

const rnd = randoms(101);
const SHAPES: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [17, 33, 9], [64, 130, 48], [2, 300, 1]];

test('matmul matches the reference for every transA/transB, bias and accumulate combination', () => {
  for (const [m, k, n] of SHAPES) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const withBias of [false, true]) {
          for (const accumulate of [false, true]) {
            const attrs: MatMulAttrs = { m, k, n, transA, transB, accumulate };
            const a = rnd.normal(m * k);
            const b = rnd.normal(k * n);
            const bias = withBias ? rnd.normal(n) : null;
            const start = rnd.normal(m * n);
            const outN = start.slice();
            const outR = start.slice();
            N.matmul(a, b, bias, outN, attrs);
            R.matmul(a, b, bias, outR, attrs);
            assertClose(outN, outR, `matmul ${JSON.stringify(attrs)} bias=${withBias}`, { terms: k });
          }
        }
      }
    }
  }
});

test('matmul does not read out unless accumulating, and repeated calls reuse the primitive correctly', () => {
  const attrs: MatMulAttrs = { m: 5, k: 6, n: 7, transA: false, transB: true, accumulate: false };
  const expected = new Float32Array(35);
  for (let round = 0; round < 3; round++) {
    // new buffers each round: the cached primitive must follow the new pointers
    const a = rnd.normal(30);
    const b = rnd.normal(42);
    const out = new Float32Array(35).fill(Number.NaN);
    N.matmul(a, b, null, out, attrs);
    R.matmul(a, b, null, expected, attrs);
    assertClose(out, expected, `round ${round}`, { terms: 6 });
  }
});

test('matmul works on subarray views (offset into a larger buffer)', () => {
  const big = rnd.normal(1000);
  const a = big.subarray(3, 3 + 12);
  const b = big.subarray(101, 101 + 20);
  const attrs: MatMulAttrs = { m: 3, k: 4, n: 5, transA: false, transB: false, accumulate: false };
  const outN = new Float32Array(15);
  const outR = new Float32Array(15);
  N.matmul(a, b, null, outN, attrs);
  R.matmul(a, b, null, outR, attrs);
  assertClose(outN, outR, 'views', { terms: 4 });
});

test('matmul with a zero dimension follows the reference (k = 0 gives bias, or keeps out when accumulating)', () => {
  const bias = rnd.normal(3);
  const outN = rnd.normal(6);
  const outR = outN.slice();
  const attrs: MatMulAttrs = { m: 2, k: 0, n: 3, transA: false, transB: false, accumulate: true };
  N.matmul(new Float32Array(0), new Float32Array(0), bias, outN, attrs);
  R.matmul(new Float32Array(0), new Float32Array(0), bias, outR, attrs);
  assert.deepEqual(outN, outR);
});

test('matmul is right, and bit-identical, wherever b lies (b rows a multiple of 2 KB apart: the binding copies or splits into panels)', () => {
  // m >= 32 and n*4 a multiple of 2048: a 32-byte aligned b is copied 16 bytes off (n = 512, and
  // n = 1536 on 2 threads); on one thread a b of 1,024 columns or more goes through a scratch
  // buffer 512 columns at a time wherever it lies (n = 1536). Either way every placement must give
  // the same bits: a run resumed from a checkpoint must end byte-identical to one made in one go,
  // whatever addresses its weights got. k = 700: long enough that the kernels block the sum over k.
  const m = 40, k = 700;
  const before = N.getNumThreads();
  try {
    for (const n of [512, 1536]) {
      const attrs: MatMulAttrs = { m, k, n, transA: false, transB: false, accumulate: true };
      const b = rnd.normal(k * n);
      const a = rnd.normal(m * k);
      const bias = rnd.normal(n);
      const start = rnd.normal(m * n);
      const outR = start.slice();
      R.matmul(a, b, bias, outR, attrs);
      for (const threads of [1, 2]) {
        N.setNumThreads(threads);
        let first: Float32Array | null = null;
        for (let offset = 0; offset < 8; offset++) {
          const placed = new Float32Array(k * n + 8);
          placed.set(b, offset);
          const outN = start.slice();
          N.matmul(a, placed.subarray(offset, offset + k * n), bias, outN, attrs);
          const what = `n = ${n}, ${threads} thread(s)`;
          if (first === null) {
            assertClose(outN, outR, what, { terms: k });
            first = outN;
          } else {
            assert.deepEqual(outN, first, `${what}: b at +${offset * 4} bytes gives other bits than at +0`);
          }
        }
      }
    }
  } finally {
    N.setNumThreads(before);
  }
});

test('matmul with a wide plain b (dx = dy W of a layer with many inputs; AVX-512 computes it transposed) matches the reference', () => {
  // m >= 32, n >= 3072 and k n >= 2^20: with AVX-512 the binding computes C^T = B^T A^T and
  // transposes it back (adding it to out when accumulating); elsewhere the product is direct.
  const m = 36, k = 300, n = 3500;
  const before = N.getNumThreads();
  try {
    for (const accumulate of [false, true]) {
      const attrs: MatMulAttrs = { m, k, n, transA: false, transB: false, accumulate };
      const a = rnd.normal(m * k);
      const b = rnd.normal(k * n);
      const start = rnd.normal(m * n);
      const outR = start.slice();
      R.matmul(a, b, null, outR, attrs);
      for (const threads of [1, 2]) {
        N.setNumThreads(threads);
        const outN = start.slice();
        N.matmul(a, b, null, outN, attrs);
        assertClose(outN, outR, `accumulate = ${accumulate}, ${threads} thread(s)`, { terms: k });
      }
    }
  } finally {
    N.setNumThreads(before);
  }
});
