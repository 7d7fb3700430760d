// The addon's setNumThreads refuses what would crash the OpenMP runtime (65536 threads ended the
// process with a signal in the next kernel), directly and through the backend, and a pipeline
// stage refuses an init message asking for such a count; the process goes on working.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAssociatedNet, type ALNetSpec } from '../../src/al/decompositions.js';
import { setBackend } from '../../src/backend/backend.js';
import { nativeBackend } from '../../src/backend/native_backend.js';
import { loadNative } from '../../src/backend/load_native.js';
import { ALPipeline } from '../../src/pipeline/al/al_pipeline.js';
import type { ALNetBlueprint } from '../../src/pipeline/runtime/messages.js';
import { Rng } from '../../src/tensor/rng.js';

setBackend(nativeBackend);

test('setNumThreads(65536) throws a RangeError, on the backend and on the addon itself', () => {
  nativeBackend.setNumThreads(2);
  const addon = loadNative() as unknown as { setNumThreads(n: unknown): void };
  for (const n of [0, 65536, 1025, 1e12, 2 ** 31, -(2 ** 31), 1.5, Number.NaN, Infinity]) {
    assert.throws(() => nativeBackend.setNumThreads(n), RangeError, String(n));
    assert.throws(() => addon.setNumThreads(n), /setNumThreads: expected an integer from 1 to 1024 for n/, String(n));
  }
  assert.equal(nativeBackend.getNumThreads(), 2);
  nativeBackend.setNumThreads(1024);
  nativeBackend.setNumThreads(1);
  // still computing
  const a = new Float32Array([1, 2, 3, 4]), out = new Float32Array(4);
  nativeBackend.matmul(a, a, null, out, { m: 2, k: 2, n: 2, transA: false, transB: false, accumulate: false });
  assert.deepEqual(Array.from(out), [7, 10, 15, 22]);
});

test('a stage asked for 100000 threads by its init message fails the start, naming the setting', async () => {
  const blueprint: ALNetBlueprint = { model: 'mlp', inputShape: [8, 8, 1], classes: 10, layers: 2, tWidth: 16, lr: 1e-3, milestones: [] };
  const net = buildAssociatedNet({ ...blueprint, rng: new Rng(1) } as ALNetSpec);
  await assert.rejects(ALPipeline.start({ blueprint, net, stages: [[0], [1]], threads: 100000 }),
    /stage init: expected an integer from 1 to 1024 for threads, got 100000/);
});
