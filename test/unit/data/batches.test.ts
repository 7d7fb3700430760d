import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchIterator, epochOrder, type Batch } from '../../../src/data/batches.js';
import type { Split } from '../../../src/data/dataset.js';
import { Rng } from '../../../src/tensor/rng.js';

/** Sample i is [i, -i, i + 0.5] with label 100 + i, so every row says which sample it came from. */
function split(n: number): Split {
  const images = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) images.set([i, -i, i + 0.5], i * 3);
  return { images, labels: Int32Array.from({ length: n }, (_, i) => 100 + i), n, shape: [1, 3, 1], classes: 10 };
}

/** The sample indices of one epoch, checking that every row is intact on the way. */
function indicesOf(batches: Iterable<Batch>): number[] {
  const out: number[] = [];
  for (const b of batches) {
    assert.equal(b.x.length, b.size * 3);
    assert.equal(b.labels.length, b.size);
    for (let r = 0; r < b.size; r++) {
      const i = b.x[r * 3]!;
      assert.deepEqual([...b.x.subarray(r * 3, r * 3 + 3)], [i, -i, i + 0.5]);
      assert.equal(b.labels[r], 100 + i);
      out.push(i);
    }
  }
  return out;
}

const opts = { shuffle: true, dropLast: false };

test('same seed, same order; different seed, different order', () => {
  const s = split(50);
  const a = new BatchIterator(s, 8, new Rng(1), opts);
  const b = new BatchIterator(s, 8, new Rng(1), opts);
  const c = new BatchIterator(s, 8, new Rng(2), opts);
  const a1 = indicesOf(a.epoch());
  const a2 = indicesOf(a.epoch());
  assert.deepEqual(indicesOf(b.epoch()), a1);
  assert.deepEqual(indicesOf(b.epoch()), a2);
  assert.notDeepEqual(indicesOf(c.epoch()), a1);
  // A new permutation each epoch.
  assert.notDeepEqual(a2, a1);
});

test('every sample exactly once per epoch', () => {
  const s = split(37);
  const it = new BatchIterator(s, 5, new Rng(7), opts);
  for (let e = 0; e < 3; e++) {
    const seen = indicesOf(it);
    assert.equal(seen.length, 37);
    assert.deepEqual([...seen].sort((x, y) => x - y), Array.from({ length: 37 }, (_, i) => i));
  }
});

test('last partial batch, and dropLast', () => {
  const s = split(10);
  const keep = new BatchIterator(s, 4, new Rng(3), opts);
  assert.deepEqual([...keep.epoch()].map((b) => b.size), [4, 4, 2]);
  assert.equal(keep.batchesPerEpoch, 3);

  const drop = new BatchIterator(s, 4, new Rng(3), { shuffle: true, dropLast: true });
  assert.deepEqual([...drop.epoch()].map((b) => b.size), [4, 4]);
  assert.equal(drop.batchesPerEpoch, 2);
  // Dropping comes after shuffling, so the dropped samples differ between epochs (but not the count).
  assert.equal(new Set(indicesOf(drop.epoch())).size, 8);

  const exact = new BatchIterator(split(8), 4, new Rng(3), { shuffle: true, dropLast: true });
  assert.deepEqual([...exact.epoch()].map((b) => b.size), [4, 4]);

  const tooFew = new BatchIterator(split(3), 4, new Rng(3), { shuffle: true, dropLast: true });
  assert.deepEqual([...tooFew.epoch()], []);
  assert.equal(tooFew.batchesPerEpoch, 0);
  assert.deepEqual(
    [...new BatchIterator(split(3), 4, new Rng(3), opts).epoch()].map((b) => b.size),
    [3],
  );
});

test('no shuffle: stored order, and the Rng is not consumed', () => {
  const rng = new Rng(5);
  const before = rng.getState();
  const it = new BatchIterator(split(7), 3, rng, { shuffle: false, dropLast: false });
  assert.deepEqual(indicesOf(it.epoch()), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(rng.getState(), before);
});

test('the permutation is drawn when epoch() is called, not when batches are pulled', () => {
  const s = split(20);
  const a = new BatchIterator(s, 4, new Rng(9), opts);
  const e1 = a.epoch();
  const e2 = a.epoch();
  const b = new BatchIterator(s, 4, new Rng(9), opts);
  // Pulling e2 first must not change which permutation each epoch got.
  const second = indicesOf(e2);
  const first = indicesOf(e1);
  assert.deepEqual(first, indicesOf(b.epoch()));
  assert.deepEqual(second, indicesOf(b.epoch()));
});

test('epochOrder', () => {
  assert.deepEqual([...epochOrder(5, new Rng(1), true)], [...new Rng(1).permutation(5)]);
  assert.deepEqual([...epochOrder(4, new Rng(1), false)], [0, 1, 2, 3]);
  assert.equal(epochOrder(0, new Rng(1), true).length, 0);
});

test('fresh buffers per batch by default, each owning its whole ArrayBuffer', () => {
  const it = new BatchIterator(split(10), 4, new Rng(1), opts);
  const batches = [...it.epoch()];
  for (const b of batches) {
    assert.equal(b.x.byteOffset, 0);
    assert.equal(b.x.buffer.byteLength, b.x.byteLength);
    assert.equal(b.labels.buffer.byteLength, b.labels.byteLength);
  }
  assert.notEqual(batches[0]!.x.buffer, batches[1]!.x.buffer);
  // Transferring a batch away (as to a worker) leaves the split and later batches intact.
  const moved = structuredClone(batches[0]!.x, { transfer: [batches[0]!.x.buffer as ArrayBuffer] });
  assert.equal(batches[0]!.x.length, 0);
  assert.equal(moved.length, 12);
  assert.equal(indicesOf(it.epoch()).length, 10);
});

test('reuseBuffers writes every batch into the same memory', () => {
  const it = new BatchIterator(split(10), 4, new Rng(1), { ...opts, reuseBuffers: true });
  const seen: number[] = [];
  let buffer: ArrayBufferLike | null = null;
  for (const b of it.epoch()) {
    buffer ??= b.x.buffer;
    assert.equal(b.x.buffer, buffer);
    seen.push(...indicesOf([b]));
  }
  assert.equal(seen.length, 10);
  assert.equal(new Set(seen).size, 10);
});

test('bad arguments are RangeErrors', () => {
  const s = split(4);
  assert.throws(() => new BatchIterator(s, 0, new Rng(1), opts), /batchSize: expected an integer >= 1, got 0/);
  assert.throws(() => new BatchIterator(s, 2.5, new Rng(1), opts), RangeError);
  assert.throws(() => new BatchIterator({ ...s, n: 5 }, 2, new Rng(1), opts), /images length: expected 5 x 3 = 15, got 12/);
  assert.throws(() => new BatchIterator({ ...s, labels: new Int32Array(3) }, 2, new Rng(1), opts), /labels length: expected 4, got 3/);
});
