// The addon's pool of large output buffers (native/buffer_pool.cc): memory V8 frees comes back for
// the next request of the same size, also when the buffer was transferred to a worker thread and
// died there; a buffer left unused for 2 s goes back to the system; emptyFloat32 draws large
// buffers from it and small ones plainly; zeroed buffers (zerosFloat32) are zeros whatever the pool
// holds, advised for huge pages where the kernel offers them; bad sizes are refused with a message.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';

import { setBackend } from '../../src/backend/backend.js';
import { loadNative } from '../../src/backend/load_native.js';
import { POOLED_MIN_BYTES, nativeBackend } from '../../src/backend/native_backend.js';
import { emptyFloat32, zerosFloat32 } from '../../src/tensor/tensor.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const addon = loadNative();

/** Collects garbage until `done()` holds (V8 may free array buffers on a background thread). */
async function collectUntil(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    gc();
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`after 2 s of garbage collections: ${what}; pool: ${JSON.stringify(addon.bufferPoolStats())}`);
}

/** Collects garbage until the pool holds `bytes` more than `pooledBefore`: a buffer of that size died and came back. */
async function untilPooled(pooledBefore: number, bytes: number, what: string): Promise<void> {
  await collectUntil(() => addon.bufferPoolStats().pooledBytes >= pooledBefore + bytes, what);
}

test('a freed buffer goes back to the pool and serves the next request of its size', async () => {
  const bytes = 6 << 20;
  const before = addon.bufferPoolStats();
  (() => {
    const a = new Float32Array(addon.pooledArrayBuffer(bytes));
    assert.equal(a.length, bytes / 4);
    a.fill(1.5);
    assert.equal(a[a.length - 1], 1.5);
  })();
  await untilPooled(before.pooledBytes, bytes, 'the dead buffer was not returned');
  const kept = addon.bufferPoolStats();
  const b = new Float32Array(addon.pooledArrayBuffer(bytes));
  const after = addon.bufferPoolStats();
  assert.equal(after.hits, kept.hits + 1, 'the second request is served from the pool');
  assert.equal(after.pooledBytes, kept.pooledBytes - bytes);
  b.fill(2); // the reused memory is whole and writable
  assert.equal(b[0] + b[b.length - 1]!, 4);
  // another size is not served by it
  addon.pooledArrayBuffer(bytes + 4);
  assert.equal(addon.bufferPoolStats().misses, after.misses + 1);
});

test('a pooled buffer transfers to a worker thread intact, and returns to the pool when it dies there', async () => {
  const bytes = 5 << 20;
  const buffer = addon.pooledArrayBuffer(bytes);
  const a = new Float32Array(buffer);
  for (let i = 0; i < a.length; i += 4096) a[i] = i;
  const worker = new Worker(`
    const { parentPort } = require('node:worker_threads');
    parentPort.once('message', (buffer) => {
      const a = new Float32Array(buffer);
      let sum = 0;
      for (let i = 0; i < a.length; i += 4096) sum += a[i];
      parentPort.postMessage({ bytes: buffer.byteLength, sum });
    });`, { eval: true });
  const reply = new Promise<{ bytes: number; sum: number }>((resolve) => worker.once('message', resolve));
  const pooledBefore = addon.bufferPoolStats().pooledBytes;
  worker.postMessage(buffer, [buffer]);
  assert.equal(buffer.byteLength, 0, 'moved, not copied');
  let expected = 0;
  for (let i = 0; i < bytes / 4; i += 4096) expected += i;
  assert.deepEqual(await reply, { bytes, sum: expected });
  await worker.terminate();
  await untilPooled(pooledBefore, bytes, 'the buffer that died in the worker was not returned');
});

test('a pooled buffer nobody asks for within 2 s goes back to the system', async () => {
  const bytes = 7 << 20;
  const before = addon.bufferPoolStats();
  (() => void new Float32Array(addon.pooledArrayBuffer(bytes)).fill(1))();
  await untilPooled(before.pooledBytes, bytes, 'the dead buffer was not returned');
  const pooled = addon.bufferPoolStats();
  await new Promise((resolve) => setTimeout(resolve, 2600));
  // any request sweeps the pool; this size is new, so it cannot be served by the idle buffer
  addon.pooledArrayBuffer(bytes + 8);
  const after = addon.bufferPoolStats();
  assert.ok(after.expired >= pooled.expired + 1, `expected the idle buffer to expire: ${JSON.stringify(after)}`);
  assert.ok(after.pooledBytes <= pooled.pooledBytes - bytes, `expected its bytes to leave the pool: ${JSON.stringify(after)}`);
});

test('emptyFloat32 takes large buffers from the pool and small ones from plain memory', () => {
  setBackend(nativeBackend);
  const n = POOLED_MIN_BYTES / 4;
  const before = addon.bufferPoolStats();
  const large = emptyFloat32(n);
  const afterLarge = addon.bufferPoolStats();
  assert.equal(afterLarge.hits + afterLarge.misses, before.hits + before.misses + 1);
  assert.equal(large.length, n);
  assert.equal(large.buffer.byteLength, n * 4);
  const small = emptyFloat32(n - 1);
  const afterSmall = addon.bufferPoolStats();
  assert.equal(afterSmall.hits + afterSmall.misses, afterLarge.hits + afterLarge.misses, 'below the threshold: not the pool');
  assert.equal(small.length, n - 1);
  assert.equal(emptyFloat32(0).length, 0);
});

test('bad sizes are refused with the expected form in the message', () => {
  for (const name of ['pooledArrayBuffer', 'zeroedArrayBuffer'] as const) {
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 60, 1e30, Number.POSITIVE_INFINITY]) {
      assert.throws(() => addon[name](bad), new RegExp(`^RangeError: ${name}: expected a positive whole number of bytes`));
    }
    assert.throws(() => (addon[name] as (x: unknown) => ArrayBuffer)('8'), new RegExp(`^TypeError: ${name}: expected \\(bytes: number\\)`));
  }
});

test('a zeroed buffer is zeros even when the pool holds dirty memory of its size, and returns to the pool when freed', async () => {
  const bytes = 9 << 20;
  const before = addon.bufferPoolStats();
  (() => void new Float32Array(addon.pooledArrayBuffer(bytes)).fill(7))();
  await untilPooled(before.pooledBytes, bytes, 'the dirty buffer was not returned');
  const dirty = addon.bufferPoolStats();
  (() => {
    const z = new Float32Array(addon.zeroedArrayBuffer(bytes));
    assert.equal(z.length, bytes / 4);
    assert.ok(z.every((v) => v === 0), 'every element zero');
    assert.equal(addon.bufferPoolStats().hits, dirty.hits, 'not served from the pool');
    z.fill(1);
  })();
  await untilPooled(dirty.pooledBytes, bytes, 'the zeroed buffer was not returned');
});

test('zerosFloat32 takes large arrays from the addon and small ones from plain memory, zeros either way', () => {
  setBackend(nativeBackend);
  const n = POOLED_MIN_BYTES / 4;
  for (const size of [n, n - 1, 0]) {
    const z = zerosFloat32(size);
    assert.equal(z.length, size);
    assert.equal(z.buffer.byteLength, size * 4);
    assert.ok(z.every((v) => v === 0));
  }
});

// The advice shows in /proc/self/smaps as THPeligible on the mapping that holds the buffer.
const THP_MODE = existsSync('/sys/kernel/mm/transparent_hugepage/enabled') ? /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] : undefined;

test('a large zeroed buffer lies on memory advised for huge pages, a pooled one does not; AL_HUGE_PAGES=0 leaves both on small pages', { skip: THP_MODE === 'madvise' ? false : `transparent huge pages are '${THP_MODE ?? 'absent'}' here, not 'madvise'` }, () => {
  const child = (kind: string, env: NodeJS.ProcessEnv): number => {
    const script = `
      const { loadNative } = await import(${JSON.stringify(new URL('../../src/backend/load_native.js', import.meta.url).href)});
      const addon = loadNative();
      const keep = new Float32Array(addon.${kind}(96 << 20));
      keep[0] = 1;
      const { readFileSync } = await import('node:fs');
      const maps = readFileSync('/proc/self/smaps', 'utf8').split(/\\n(?=[0-9a-f]+-[0-9a-f]+ )/);
      const eligible = maps.filter((m) => Number(/\\nSize:\\s+(\\d+) kB/.exec(m)[1]) > (90 << 10) && /\\nTHPeligible:\\s+1/.test(m));
      process.stdout.write(String(eligible.length));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(run.status, 0, run.stderr);
    return Number(run.stdout);
  };
  assert.equal(child('zeroedArrayBuffer', {}), 1, 'a zeroed buffer\'s mapping is eligible');
  assert.equal(child('zeroedArrayBuffer', { AL_HUGE_PAGES: '0' }), 0, 'with AL_HUGE_PAGES=0: not advised');
  assert.equal(child('pooledArrayBuffer', {}), 0, 'activations stay on small pages');
});
