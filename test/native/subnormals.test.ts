// Every kernel flushes subnormal floats to zero, on every thread that computes it: the calling
// thread, each member of its OpenMP team (a matmul split over two threads), and a worker thread. A
// thread that kept subnormals would give a result that differs in its last bits between a
// pipelined and a sequential run, and run many times slower on them. JavaScript on those threads
// keeps IEEE arithmetic between the calls.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { setBackend } from '../../src/backend/backend.js';
import { nativeBackend } from '../../src/backend/native_backend.js';

setBackend(nativeBackend);

const TINY = 2 ** -70; // normal; 64 products of two, 2^-134, are subnormal (below 2^-126)

/** Arithmetic on double subnormals, as JavaScript does it: all true under IEEE, all false flushed. */
const ieee = (): boolean[] => {
  const tiny = Number.parseFloat('5e-324'); // parsed at run time: no compiler folds what follows
  return [tiny > 0, tiny * 3 === 1.5e-323, tiny + 1e-310 > 1e-310];
};

test('axpby gives zero where the exact result is subnormal, and keeps the smallest normal', () => {
  const x = new Float32Array([2 ** -126, 2 ** -126, 1]);
  const y = new Float32Array(3);
  nativeBackend.axpby(0.5, x, 0, y); // 2^-127: subnormal
  assert.deepEqual(Array.from(y), [0, 0, 0.5]);
  nativeBackend.axpby(1, x, 0, y);
  assert.deepEqual(Array.from(y), [2 ** -126, 2 ** -126, 1]);
  assert.deepEqual(ieee(), [true, true, true], 'JavaScript after the call');
});

test('a matmul over two OpenMP threads flushes on both: no row keeps a subnormal', () => {
  nativeBackend.setNumThreads(2);
  try {
    const m = 512, k = 64, n = 64;
    const a = new Float32Array(m * k).fill(TINY), b = new Float32Array(k * n).fill(TINY), out = new Float32Array(m * n).fill(7);
    nativeBackend.matmul(a, b, null, out, { m, k, n, transA: false, transB: false, accumulate: false });
    const kept = out.findIndex((v) => v !== 0);
    assert.equal(kept, -1, `row ${Math.floor(kept / n)} holds ${out[kept]}`);
    // the same data scaled into the normal range is computed, not zeroed
    a.fill(1);
    nativeBackend.matmul(a, b, null, out, { m, k, n, transA: false, transB: false, accumulate: false });
    assert.equal(out[0], 64 * TINY);
    assert.deepEqual(ieee(), [true, true, true], 'JavaScript after the call');
  } finally {
    nativeBackend.setNumThreads(1);
  }
});

test('a worker thread that loads the addon flushes too', async () => {
  const loader = fileURLToPath(new URL('../../src/backend/load_native.js', import.meta.url));
  const code = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(loader)}).then(({ loadNative }) => {
      const y = new Float32Array(1);
      loadNative().axpby(0.5, new Float32Array([2 ** -126]), 0, y);
      const tiny = Number.parseFloat('5e-324');
      parentPort.postMessage([y[0], tiny > 0, tiny * 3 === 1.5e-323]);
    });`;
  const worker = new Worker(code, { eval: true });
  const value = await new Promise<unknown>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.deepEqual(value, [0, true, true], 'flushed in the kernel, IEEE in the worker\'s JavaScript');
});
