// Thread counts are checked before they reach a backend: far above the cores the OpenMP runtime
// crashes the process instead of failing, so every entry refuses counts outside 1..MAX_THREADS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_THREADS, checkThreadCount } from '../../../src/backend/kernel_names.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';

test('checkThreadCount takes 1..MAX_THREADS and names the caller and argument otherwise', () => {
  assert.equal(checkThreadCount(1), 1);
  assert.equal(checkThreadCount(MAX_THREADS), MAX_THREADS);
  for (const bad of [0, -1, 1.5, MAX_THREADS + 1, 65536, 1e12, Number.NaN, Infinity, '4', undefined]) {
    assert.throws(() => checkThreadCount(bad, 'stage init', 'threads'),
      (e: unknown) => e instanceof RangeError && e.message === `stage init: expected an integer from 1 to ${MAX_THREADS} for threads, got ${String(bad)}`);
  }
});

test('the reference backend refuses 65536 threads and keeps its count', () => {
  referenceBackend.setNumThreads(3);
  assert.throws(() => referenceBackend.setNumThreads(65536), /setNumThreads: expected an integer from 1 to 1024 for n, got 65536/);
  assert.equal(referenceBackend.getNumThreads(), 3);
});
