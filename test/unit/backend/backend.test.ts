// Backend selection: an explicit setBackend wins; without one, the first backend() call selects
// the registered default once (the library's entry registers the native backend); a default that
// cannot load, or none at all, is an error naming setBackend(referenceBackend).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backend, hasBackend, setBackend, setDefaultBackend, withBackend, withoutWeightDraws } from '../../../src/backend/backend.js';
import type { Backend } from '../../../src/backend/kernel_names.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';

test('no backend set and no default registered: an error naming setBackend(referenceBackend)', () => {
  assert.equal(hasBackend(), false);
  assert.throws(() => backend(), /^Error: no compute backend selected: call setBackend\(referenceBackend\), or import the library's entry, whose default is the native backend$/);
});

test('a default that cannot load: its reason and the way out, and nothing selected', () => {
  setDefaultBackend(() => {
    throw new Error('could not load the native addon');
  });
  assert.throws(() => backend(), (error: Error) => {
    assert.match(error.message, /^no compute backend selected, and the default one, the native oneDNN backend, is not available: could not load the native addon\n/);
    assert.match(error.message, /call setBackend\(referenceBackend\) first/);
    assert.equal((error.cause as Error).message, 'could not load the native addon');
    return true;
  });
  assert.equal(hasBackend(), false);
});

test('the default is selected once, at the first call; setBackend replaces it', () => {
  let calls = 0;
  const other: Backend = { ...referenceBackend, name: 'native' };
  setDefaultBackend(() => {
    calls++;
    return referenceBackend;
  });
  assert.equal(backend(), referenceBackend);
  assert.equal(backend(), referenceBackend);
  assert.equal(calls, 1);
  assert.equal(hasBackend(), true);
  setBackend(other);
  assert.equal(backend(), other);
  assert.equal(calls, 1);
});

test('withBackend runs on the given backend and restores the one before, also when the body throws', () => {
  setBackend(referenceBackend);
  const other = { ...referenceBackend } as Backend;
  assert.equal(withBackend(other, () => backend()), other);
  assert.equal(backend(), referenceBackend);
  assert.throws(() => withBackend(other, () => {
    throw new Error('body failed');
  }), /body failed/);
  assert.equal(backend(), referenceBackend);
});

test('withoutWeightDraws leaves normal draws undone (zeros) and the other kernels as they are', () => {
  setBackend(referenceBackend);
  const out = new Float32Array(8);
  const state = Uint32Array.of(1, 2, 3, 4);
  const left = withoutWeightDraws(() => backend().normalFill(out, state, 1));
  assert.ok(Number.isNaN(left));
  assert.deepEqual(Array.from(out), new Array(8).fill(0));
  assert.deepEqual(Array.from(state), [1, 2, 3, 4]);
  assert.equal(backend(), referenceBackend);
  referenceBackend.normalFill(out, state, 1);
  assert.ok(out.some((v) => v !== 0));
});
