// CIFAR-10 / CIFAR-100 binary files: values, labels and shapes from small files in the official
// layout; every bad-input path (missing folder or file, truncated, wrong size, empty, label out
// of range); preprocessing; and a fuzz test of the parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CifarAugmentation } from '../../../src/data/augment.js';
import { CIFAR10, CIFAR100, checkCifarFiles, cifarLabels, loadCifar, parseCifar, type CifarLayout } from '../../../src/data/cifar.js';
import { loadDataset } from '../../../src/data/datasets.js';
import { DataError } from '../../../src/data/errors.js';
import { Rng } from '../../../src/tensor/rng.js';
import { PLANE, cifarFileBytes, cifarPixel, writeCifar10, writeCifar100 } from '../../util/cifar_files.js';
import { tempDir } from '../../util/temp_dir.js';

const root = tempDir('al-cifar-');
let fixtures = 0;
const fresh = (): string => path.join(root, `d${fixtures++}`);

function throwsData(fn: () => unknown, file: string, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.equal(err.file, file);
    assert.ok(err.message.startsWith(`${file}: `), err.message);
    for (const s of fragments) assert.ok(err.message.includes(s), `message lacks "${s}": ${err.message}`);
    return true;
  });
}

const at = (r: number, c: number, ch: number): number => (r * 32 + c) * 3 + ch;

// ***** parsing *****

test('parseCifar: CIFAR-10 records become HWC pixels and labels', () => {
  const bytes = cifarFileBytes([[3], [0], [9]], 5);
  const rec = parseCifar(bytes, 'f', CIFAR10);
  assert.equal(rec.n, 3);
  assert.deepEqual([...rec.labels[0]!], [3, 0, 9]);
  assert.equal(rec.pixels.length, 3 * 3072);
  for (let i = 0; i < 3; i++) {
    for (const [r, c] of [[0, 0], [0, 31], [17, 4], [31, 31]] as const) {
      for (let ch = 0; ch < 3; ch++) assert.equal(rec.pixels[i * 3072 + at(r, c, ch)], cifarPixel(5 + i, r, c, ch), `image ${i} (${r}, ${c}) channel ${ch}`);
    }
  }
  // The plane order is R, G, B: the first pixel's red byte sits right after the label.
  assert.equal(rec.pixels[0], bytes[1]);
  assert.equal(rec.pixels[1], bytes[1 + PLANE]);
  assert.equal(rec.pixels[2], bytes[1 + 2 * PLANE]);
});

test('parseCifar: CIFAR-100 records carry a coarse and a fine label', () => {
  const rec = parseCifar(cifarFileBytes([[19, 99], [0, 42]]), 'f', CIFAR100);
  assert.equal(rec.n, 2);
  assert.deepEqual([...rec.labels[0]!], [19, 0]);
  assert.deepEqual([...rec.labels[1]!], [99, 42]);
  assert.equal(rec.pixels[at(31, 31, 2)], cifarPixel(0, 31, 31, 2));
});

test('parseCifar: wrong sizes name the file, its size and the record size', () => {
  const good = cifarFileBytes([[1], [2]]);
  throwsData(() => parseCifar(good.subarray(0, good.length - 100), 'cut', CIFAR10), 'cut', 'size 6046 bytes', '3073-byte records', '1 records and 2973 bytes over', 'truncated');
  throwsData(() => parseCifar(Uint8Array.from([...good, 7]), 'long', CIFAR10), 'long', 'size 6147 bytes', '3073-byte records', '1 bytes over');
  throwsData(() => parseCifar(new Uint8Array(0), 'empty', CIFAR10), 'empty', 'empty file', '3073-byte records');
  // A CIFAR-100 file read as CIFAR-10 does not divide into 3073-byte records.
  throwsData(() => parseCifar(cifarFileBytes([[1, 2], [3, 4]]), 'c100', CIFAR10), 'c100', 'size 6148 bytes', 'not a CIFAR-10 binary file');
  throwsData(() => parseCifar(good, 'c10', CIFAR100), 'c10', 'size 6146 bytes', '3074-byte records (coarse label byte, fine label byte');
});

test('parseCifar: a label out of range names the record, the value and the range', () => {
  throwsData(() => parseCifar(cifarFileBytes([[1], [2], [10]]), 'f', CIFAR10), 'f', 'record 2 (byte offset 6146): label 10 out of range: expected 0..9');
  throwsData(() => parseCifar(cifarFileBytes([[20, 5]]), 'f', CIFAR100), 'f', 'record 0', 'coarse label 20 out of range: expected 0..19');
  throwsData(() => parseCifar(cifarFileBytes([[1, 5], [2, 255]]), 'f', CIFAR100), 'f', 'record 1 (byte offset 3075): fine label 255 out of range: expected 0..99');
});

// ***** loading *****

test('loadCifar cifar10: five batches in order, test batch, shapes, x/255 with normalize unit', () => {
  const dir = fresh();
  writeCifar10(dir, 2);
  const { train, test: t, augment } = loadCifar('cifar10', { dataDir: dir, normalize: 'unit', augment: false });
  assert.equal(augment, undefined);
  assert.equal(train.n, 10);
  assert.deepEqual(train.shape, [32, 32, 3]);
  assert.equal(train.classes, 10);
  assert.equal(train.images.length, 10 * 3072);
  assert.deepEqual([...train.labels], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(t.n, 2);
  assert.deepEqual([...t.labels], [9, 8]);
  for (const i of [0, 3, 9]) assert.equal(train.images[i * 3072 + at(5, 6, 1)], Math.fround(cifarPixel(i, 5, 6, 1) / 255));
  assert.equal(t.images[3072 + at(31, 0, 2)], Math.fround(cifarPixel(1001, 31, 0, 2) / 255));
});

/** The authors' preprocessing written out: x/255 - mean image (over `all` training images), then per-image standardisation. */
function expectedStandard(images: number[], all: number[]): number[] {
  const out: number[] = [];
  for (const i of images) {
    const v: number[] = [];
    for (let p = 0; p < 3072; p++) {
      const [r, c, ch] = [Math.floor(p / 96), Math.floor(p / 3) % 32, p % 3];
      const mean = all.reduce((s, j) => s + cifarPixel(j, r, c, ch) / 255, 0) / all.length;
      v.push(cifarPixel(i, r, c, ch) / 255 - mean);
    }
    const m = v.reduce((s, x) => s + x, 0) / 3072;
    const sd = Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / 3072);
    out.push(...v.map((x) => (x - m) / Math.max(sd, 1 / Math.sqrt(3072))));
  }
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

test('loadCifar standard: mean image of all training records, then per-image standardisation', () => {
  const dir = fresh();
  writeCifar10(dir, 2);
  const all = Array.from({ length: 10 }, (_, i) => i);
  const plain = loadCifar('cifar10', { dataDir: dir, augment: false });
  assertClose(plain.train.images.subarray(0, 2 * 3072), expectedStandard([0, 1], all), 1e-5, 'train');
  assertClose(plain.test.images, expectedStandard([1000, 1001], all), 1e-5, 'test');
  // --limit keeps the first samples; the mean image still comes from every record.
  const limited = loadCifar('cifar10', { dataDir: dir, augment: false, limit: 3 });
  assert.equal(limited.train.n, 3);
  assert.deepEqual([...limited.train.labels], [0, 1, 2]);
  assert.deepEqual(limited.train.images, plain.train.images.subarray(0, 3 * 3072));
});

test('loadCifar with augmentation: centred training images, the augmentation, a standardised test set', () => {
  const dir = fresh();
  writeCifar10(dir, 2);
  const data = loadCifar('cifar10', { dataDir: dir });
  assert.ok(data.augment instanceof CifarAugmentation);
  // x/255 minus the mean image: over all ten images every position averages to zero.
  for (const p of [0, 1234, 3071]) {
    let sum = 0;
    for (let i = 0; i < 10; i++) sum += data.train.images[i * 3072 + p]!;
    assert.ok(Math.abs(sum) < 1e-5, `position ${p}: ${sum}`);
  }
  assertClose(data.test.images, expectedStandard([1000, 1001], Array.from({ length: 10 }, (_, i) => i)), 1e-5, 'test');
});

test('loadCifar cifar100: fine labels by default, coarse on request', () => {
  const dir = fresh();
  writeCifar100(dir, 4, 3);
  const fine = loadCifar('cifar100', { dataDir: dir, augment: false });
  assert.equal(fine.train.classes, 100);
  assert.deepEqual([...fine.train.labels], [0, 7, 14, 21]);
  assert.deepEqual([...fine.test.labels], [0, 7, 14]);
  const coarse = loadCifar('cifar100', { dataDir: dir, augment: false, label: 'coarse' });
  assert.equal(coarse.train.classes, 20);
  assert.deepEqual([...coarse.train.labels], [0, 1, 2, 3]);
  assert.deepEqual(coarse.train.images, fine.train.images);
  assert.deepEqual(coarse.train.shape, [32, 32, 3]);
});

test('loadCifar finds the extracted archive folder inside --data-dir', () => {
  const parent = fresh();
  writeCifar10(path.join(parent, 'cifar-10-batches-bin'), 1);
  writeCifar100(path.join(parent, 'cifar-100-binary'), 2, 1);
  assert.equal(loadCifar('cifar10', { dataDir: parent, augment: false }).train.n, 5);
  assert.equal(loadCifar('cifar100', { dataDir: parent, augment: false }).train.n, 2);
});

// ***** bad input *****

test('a missing folder says where to get the binary version and how to lay it out', () => {
  const missing = path.join(root, 'nowhere');
  throwsData(() => loadCifar('cifar10', { dataDir: missing }), missing, 'folder not found', 'https://www.cs.toronto.edu/~kriz/cifar.html',
    'binary version (cifar-10-binary.tar.gz)', 'cifar-10-batches-bin', 'data_batch_1.bin', 'test_batch.bin', '--data-dir');
  throwsData(() => loadCifar('cifar100', { dataDir: missing }), missing, 'folder not found', 'cifar-100-binary.tar.gz', 'train.bin, test.bin');
  const file = path.join(root, 'a-file');
  fs.writeFileSync(file, 'x');
  throwsData(() => loadCifar('cifar10', { dataDir: file }), file, 'expected a folder, found a file', 'kriz/cifar.html');
});

test('a missing file is named, with the same instructions', () => {
  const empty = fresh();
  fs.mkdirSync(empty);
  throwsData(() => loadCifar('cifar10', { dataDir: empty }), path.join(empty, 'data_batch_1.bin'), 'file not found', 'kriz/cifar.html');
  const dir = fresh();
  writeCifar10(dir, 1);
  fs.rmSync(path.join(dir, 'data_batch_4.bin'));
  throwsData(() => loadCifar('cifar10', { dataDir: dir }), path.join(dir, 'data_batch_4.bin'), 'file not found', 'binary version');
  fs.rmSync(path.join(dir, 'test_batch.bin'));
  fs.mkdirSync(path.join(dir, 'data_batch_4.bin'));
  throwsData(() => loadCifar('cifar10', { dataDir: dir }), path.join(dir, 'data_batch_4.bin'), 'expected a file, found a folder');
  const c100 = fresh();
  writeCifar100(c100);
  fs.rmSync(path.join(c100, 'test.bin'));
  throwsData(() => loadCifar('cifar100', { dataDir: c100 }), path.join(c100, 'test.bin'), 'file not found');
});

test('a truncated, overlong or mislabelled file in a dataset folder is named', () => {
  const dir = fresh();
  writeCifar10(dir, 2);
  const file = path.join(dir, 'data_batch_3.bin');
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(file, bytes.subarray(0, bytes.length - 1));
  throwsData(() => loadCifar('cifar10', { dataDir: dir }), file, 'size 6145 bytes', 'not a whole number of 3073-byte records');
  bytes[3073] = 10;
  fs.writeFileSync(file, bytes);
  throwsData(() => loadCifar('cifar10', { dataDir: dir }), file, 'record 1', 'label 10 out of range: expected 0..9');
  const c100 = fresh();
  writeCifar100(c100, 2, 2);
  const testFile = path.join(c100, 'test.bin');
  const t = fs.readFileSync(testFile);
  t[3074 + 1] = 100;
  fs.writeFileSync(testFile, t);
  throwsData(() => loadCifar('cifar100', { dataDir: c100, label: 'coarse' }), testFile, 'record 1', 'fine label 100 out of range: expected 0..99');
});

test('options that do not fit are refused by name', () => {
  const dir = fresh();
  writeCifar10(dir, 1);
  assert.throws(() => loadCifar('cifar10', { dataDir: dir, label: 'coarse' }), /label: CIFAR-10 has one label set/);
  assert.throws(() => loadCifar('cifar10', { dataDir: dir, normalize: 'unit' }), /augment: .* needs normalize 'standard'/);
  assert.throws(() => loadCifar('cifar10', { dataDir: dir, limit: 0 }), /limit: expected an integer >= 1, got 0/);
  assert.throws(() => loadDataset('cifar10', {}), /dataDir: cifar10 is read from a folder you provide/);
  assert.throws(() => loadDataset('mnist', { label: 'fine' }), /label: only cifar100/);
  assert.throws(() => loadDataset('mnist', { augment: true }), /augment: mnist has no training augmentation/);
  const data = loadDataset('cifar10', { dataDir: dir, limit: 2 });
  assert.equal(data.train.n, 2);
  assert.ok(data.augment, 'augmentation is on by default for CIFAR');
});

// ***** fuzz *****

function fuzzLayout(layout: CifarLayout, seed: number): void {
  const rng = new Rng(seed);
  const rec = layout.labels.length + 3072;
  let parsed = 0;
  let rejected = 0;
  for (let round = 0; round < 300; round++) {
    let bytes: Uint8Array;
    const kind = round % 3;
    if (kind === 0) {
      // Noise of any length, most of them not a whole number of records.
      bytes = new Uint8Array(rng.int(3 * rec + 2));
      for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
    } else {
      // Valid records, then truncated, extended, with a random label byte, or with a random pixel byte.
      const n = 1 + rng.int(3);
      const labels = Array.from({ length: n }, () => layout.labels.map((l) => rng.int(l.classes)));
      bytes = cifarFileBytes(labels);
      const damage = rng.int(4);
      if (damage === 0) bytes = bytes.subarray(0, rng.int(bytes.length + 1));
      else if (damage === 1) bytes = Uint8Array.from([...bytes, ...Array.from({ length: 1 + rng.int(rec) }, () => rng.int(256))]);
      else if (damage === 2) bytes[rng.int(n) * rec + rng.int(layout.labels.length)] = rng.int(256);
      else bytes[rng.int(n) * rec + layout.labels.length + rng.int(3072)] = rng.int(256);
    }
    try {
      const out = parseCifar(bytes, `fuzz-${round}`, layout);
      // Never more output than input: nothing is sized from the data itself.
      assert.equal(out.n * rec, bytes.length);
      assert.equal(out.pixels.length, out.n * 3072);
      out.labels.forEach((l, k) => assert.ok(l.every((v) => v >= 0 && v < layout.labels[k]!.classes)));
      parsed++;
    } catch (err) {
      if (!(err instanceof DataError)) throw new Error(`round ${round}: expected a DataError, got ${String(err)}`, { cause: err });
      assert.equal(err.file, `fuzz-${round}`);
      rejected++;
    }
  }
  assert.ok(parsed > 20, `parsed ${parsed}`);
  assert.ok(rejected > 100, `rejected ${rejected}`);
}

test('fuzz: random and damaged CIFAR-10 and CIFAR-100 files give records or a DataError, nothing else', () => {
  fuzzLayout(CIFAR10, 11);
  fuzzLayout(CIFAR100, 12);
});

test('checkCifarFiles: every file present and a whole number of records, checked without reading; defects named as loading names them', () => {
  const parent = fresh();
  writeCifar10(path.join(parent, 'cifar-10-batches-bin'), 2);
  writeCifar100(parent, 2, 1);
  assert.equal(checkCifarFiles(parent, CIFAR10), path.join(parent, 'cifar-10-batches-bin'));
  assert.equal(checkCifarFiles(parent, CIFAR100), parent);
  const dir = path.join(parent, 'cifar-10-batches-bin');
  const last = path.join(dir, 'test_batch.bin');
  fs.rmSync(last);
  throwsData(() => checkCifarFiles(parent, CIFAR10), last, 'file not found', 'binary version (cifar-10-binary.tar.gz)', 'test_batch.bin');
  fs.mkdirSync(last);
  throwsData(() => checkCifarFiles(dir, CIFAR10), last, 'expected a file, found a folder');
  fs.rmdirSync(last);
  fs.writeFileSync(last, new Uint8Array(0));
  throwsData(() => checkCifarFiles(dir, CIFAR10), last, 'size 0 bytes is not a whole number of 3073-byte records');
  const train = path.join(parent, 'train.bin');
  fs.writeFileSync(train, new Uint8Array(3074 * 2 + 1));
  throwsData(() => checkCifarFiles(parent, CIFAR100), train, 'size 6149 bytes is not a whole number of 3074-byte records', 'not a CIFAR-100 binary file');
  throwsData(() => checkCifarFiles(path.join(root, 'nowhere'), CIFAR100), path.join(root, 'nowhere'), 'folder not found', 'kriz/cifar.html');
});

test('cifarLabels: CIFAR-10 its one label, CIFAR-100 fine (second byte, 100 classes) unless coarse (first byte, 20)', () => {
  assert.deepEqual(cifarLabels('cifar10', undefined), { index: 0, classes: 10 });
  assert.deepEqual(cifarLabels('cifar100', undefined), { index: 1, classes: 100 });
  assert.deepEqual(cifarLabels('cifar100', 'fine'), { index: 1, classes: 100 });
  assert.deepEqual(cifarLabels('cifar100', 'coarse'), { index: 0, classes: 20 });
});
