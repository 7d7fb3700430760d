// loadDataset's testLimit: the first N test samples, the training split untouched; bad values refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadDataset } from '../../../src/data/datasets.js';
import { blobs, writeNpyBlobs } from '../../util/npy_files.js';

const dir = mkdtempSync(join(tmpdir(), 'al-test-limit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeNpyBlobs(dir, blobs(30, 4, 3, 1), blobs(20, 4, 3, 2));

test('testLimit keeps the first N test samples and leaves the training split whole', () => {
  const full = loadDataset('npy', { dataDir: dir });
  const cut = loadDataset('npy', { dataDir: dir, testLimit: 7 });
  assert.equal(cut.train.n, full.train.n);
  assert.deepEqual(cut.train.images, full.train.images);
  assert.equal(cut.test.n, 7);
  assert.deepEqual(Array.from(cut.test.labels), Array.from(full.test.labels.subarray(0, 7)));
  assert.deepEqual(Array.from(cut.test.images), Array.from(full.test.images.subarray(0, 7 * 4)));
  assert.equal(loadDataset('npy', { dataDir: dir, testLimit: 500 }).test.n, 20);
});

test('testLimit below 1 or fractional is refused, naming it', () => {
  for (const bad of [0, -3, 2.5]) assert.throws(() => loadDataset('npy', { dataDir: dir, testLimit: bad }), /testLimit: expected an integer >= 1/);
});
