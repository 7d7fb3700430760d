import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../../../src/data/datasets.js';
import { DataError } from '../../../src/data/errors.js';
import { loadCsvDataset, loadNpyDataset, MAX_CLASSES } from '../../../src/data/tabular.js';
import { blobs, blobsCsv, npyBytes, writeCsvBlobs, writeNpyBlobs } from '../../util/npy_files.js';
import { tempDir } from '../../util/temp_dir.js';

const root = tempDir('al-tabular-');
let count = 0;

/** A fresh folder holding the given files. */
function folder(files: Record<string, Uint8Array | string>): string {
  const dir = join(root, `d${count++}`);
  mkdirSync(dir);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return dir;
}

const f32 = (shape: number[], values: number[]): Uint8Array => npyBytes('<f4', shape, Float32Array.from(values));
const i64 = (values: number[]): Uint8Array => npyBytes('<i8', [values.length], BigInt64Array.from(values, (v) => BigInt(v)));

/** A valid npy folder: 3 training samples of 2 features (labels 0, 2, 1), 2 test samples; `over` replaces files. */
function npyFolder(over: Record<string, Uint8Array> = {}): string {
  return folder({
    'train_x.npy': f32([3, 2], [1, 2, 3, 4, 5, 6]),
    'train_y.npy': i64([0, 2, 1]),
    'test_x.npy': f32([2, 2], [7, 8, 9, 10]),
    'test_y.npy': i64([2, 0]),
    ...over,
  });
}

function refuses(load: () => unknown, file: string, problem: string): void {
  assert.throws(load, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.equal(err.message, `${file}: ${problem}`);
    return true;
  });
}

test('npy: float32 (n, features) is tabular, [1, 1, F], values as given; classes are 0..max training label', () => {
  const dir = npyFolder();
  const d = loadNpyDataset({ dataDir: dir });
  assert.deepEqual(d.train.shape, [1, 1, 2]);
  assert.equal(d.train.tabular, true);
  assert.equal(d.test.tabular, true);
  assert.equal(d.train.n, 3);
  assert.equal(d.train.classes, 3);
  assert.equal(d.test.classes, 3);
  assert.deepEqual([...d.train.images], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...d.train.labels], [0, 2, 1]);
  assert.deepEqual([...d.test.images], [7, 8, 9, 10]);
  assert.deepEqual([...d.test.labels], [2, 0]);
  // through the loader of every dataset, with limit: the first samples, the classes of the whole file
  const limited = loadDataset('npy', { dataDir: dir, limit: 1 });
  assert.equal(limited.train.n, 1);
  assert.deepEqual([...limited.train.images], [1, 2]);
  assert.deepEqual([...limited.train.labels], [0]);
  assert.equal(limited.train.classes, 3);
  assert.equal(limited.test.n, 2);
  assert.throws(() => loadDataset('npy', {}), /dataDir: npy is read from a folder you provide; got none/);
});

test('npy: uint8 images are divided by 255; (n, h, w) gets one channel, (n, h, w, c) keeps its channels', () => {
  const gray = npyBytes('|u1', [2, 2, 3], Uint8Array.from([0, 51, 102, 153, 204, 255, 0, 0, 0, 0, 0, 255]));
  const d = loadNpyDataset({ dataDir: npyFolder({ 'train_x.npy': gray, 'train_y.npy': i64([0, 1]), 'test_x.npy': gray, 'test_y.npy': i64([1, 1]) }) });
  assert.deepEqual(d.train.shape, [2, 3, 1]);
  assert.equal(d.train.tabular, undefined);
  assert.deepEqual([...d.train.images.subarray(0, 6)], [0, 0.2, 0.4, 0.6, 0.8, 1].map(Math.fround));
  const rgb = npyBytes('|u1', [2, 1, 2, 3], new Uint8Array(12));
  const c = loadNpyDataset({ dataDir: npyFolder({ 'train_x.npy': rgb, 'train_y.npy': i64([0, 1]), 'test_x.npy': rgb, 'test_y.npy': i64([1, 0]) }) });
  assert.deepEqual(c.train.shape, [1, 2, 3]);
});

test('npy: labels of every integer dtype become int32', () => {
  const cases: [string, ArrayBufferView][] = [
    ['|i1', Int8Array.from([0, 2, 1])], ['|u1', Uint8Array.from([0, 2, 1])],
    ['<i2', Int16Array.from([0, 2, 1])], ['<u2', Uint16Array.from([0, 2, 1])],
    ['<i4', Int32Array.from([0, 2, 1])], ['<u4', Uint32Array.from([0, 2, 1])],
    ['<i8', BigInt64Array.from([0n, 2n, 1n])], ['<u8', BigUint64Array.from([0n, 2n, 1n])],
  ];
  for (const [descr, labels] of cases) {
    const d = loadNpyDataset({ dataDir: npyFolder({ 'train_y.npy': npyBytes(descr, [3], labels) }) });
    assert.deepEqual([...d.train.labels], [0, 2, 1], descr);
    assert.ok(d.train.labels instanceof Int32Array);
  }
});

test('npy: a float64 x, float labels, 2-D labels and a wrong label count name the file and the fix', () => {
  let dir = npyFolder({ 'train_x.npy': npyBytes('<f8', [3, 2], new Float64Array(6)) });
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'train_x.npy'), 'dtype float64 (<f8); expected float32 or uint8 — convert with x.astype(np.float32)');
  dir = npyFolder({ 'test_x.npy': npyBytes('<i4', [2, 2], new Int32Array(4)) });
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'test_x.npy'), 'dtype int32 (<i4); expected float32 or uint8 — convert with x.astype(np.float32)');
  dir = npyFolder({ 'train_y.npy': npyBytes('<f4', [3], new Float32Array(3)) });
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'train_y.npy'), 'dtype float32 (<f4); expected integer class labels — convert with y.astype(np.int64)');
  dir = npyFolder({ 'train_y.npy': npyBytes('<i8', [3, 1], new BigInt64Array(3)) });
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'train_y.npy'), 'shape (3, 1): expected (n,), one class label per sample — flatten it with y.ravel()');
  dir = npyFolder({ 'test_y.npy': i64([0, 1, 1]) });
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'test_y.npy'), `3 labels, but ${join(dir, 'test_x.npy')} holds 2 samples (shape (2, 2)): expected one label per sample`);
});

test('npy: x shapes other than (n, F), (n, h, w), (n, h, w, c), NaN, and train and test that differ', () => {
  let dir = npyFolder({ 'train_x.npy': f32([3], [1, 2, 3]) });
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'train_x.npy'), 'shape (3,): expected (n, features), (n, h, w) or (n, h, w, c)');
  dir = npyFolder({ 'train_x.npy': f32([3, 1, 1, 1, 2], [1, 2, 3, 4, 5, 6]) });
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'train_x.npy'), 'shape (3, 1, 1, 1, 2): expected (n, features), (n, h, w) or (n, h, w, c)');
  dir = npyFolder({ 'train_x.npy': f32([3, 0], []) });
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'train_x.npy'), 'shape (3, 0): expected no zero dimension');
  dir = npyFolder({ 'train_x.npy': f32([3, 2], [1, 2, 3, Number.NaN, 5, 6]) });
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'train_x.npy'), 'sample 1 holds NaN (flat element 3): expected finite numbers');
  dir = npyFolder({ 'test_x.npy': f32([2, 3], [1, 2, 3, 4, 5, 6]) });
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'test_x.npy'), `sample shape (3,): expected (2,), as in ${join(dir, 'train_x.npy')}`);
  dir = npyFolder({ 'test_x.npy': npyBytes('|u1', [2, 2], new Uint8Array(4)) });
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'test_x.npy'), `dtype uint8: expected float32, as in ${join(dir, 'train_x.npy')} (both splits must be scaled alike)`);
});

test('npy: labels outside the classes, negative, huge or a single class are refused with where they are', () => {
  let dir = npyFolder({ 'test_y.npy': i64([1, 3]) });
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'test_y.npy'), 'label 3 at index 1 is not a training class: the training labels are 0..2');
  dir = npyFolder({ 'train_y.npy': i64([0, -1, 1]) });
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'train_y.npy'), `label -1 at index 1: expected a class number 0..${MAX_CLASSES - 1} (labels are 0..C-1 for C classes)`);
  dir = npyFolder({ 'train_y.npy': npyBytes('<i4', [3], Int32Array.from([0, 1, -7])) });
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'train_y.npy'), `label -7 at index 2: expected a class number 0..${MAX_CLASSES - 1} (labels are 0..C-1 for C classes)`);
  dir = npyFolder({ 'train_y.npy': npyBytes('<u8', [3], BigUint64Array.from([0n, 2n ** 63n, 1n])) });
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'train_y.npy'), `label 9223372036854775808 at index 1: expected a class number 0..${MAX_CLASSES - 1} (labels are 0..C-1 for C classes)`);
  dir = npyFolder({ 'train_y.npy': i64([0, MAX_CLASSES, 1]) });
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'train_y.npy'), `label ${MAX_CLASSES} at index 1: expected a class number 0..${MAX_CLASSES - 1} (labels are 0..C-1 for C classes)`);
  dir = npyFolder({ 'train_y.npy': i64([0, 0, 0]), 'test_y.npy': i64([0, 0]) });
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'train_y.npy'), 'every label is 0: expected at least two classes (labels 0..C-1)');
});

test('npy: a missing file or folder names the path and the four files expected', () => {
  const dir = npyFolder();
  rmSync(join(dir, 'test_y.npy'));
  refuses(() => loadNpyDataset({ dataDir: dir }), join(dir, 'test_y.npy'),
    'file not found: expected train_x.npy, train_y.npy, test_x.npy and test_y.npy in the --data-dir folder (written with np.save)');
  refuses(() => loadNpyDataset({ dataDir: join(dir, 'nope') }), join(dir, 'nope'),
    'folder not found: expected train_x.npy, train_y.npy, test_x.npy and test_y.npy in the --data-dir folder (written with np.save)');
});

test('csv: the same samples as npy give the same Dataset, tabular', () => {
  const train = blobs(40, 3, 3, 1), test = blobs(10, 3, 3, 2);
  const a = join(root, 'same-npy'), b = join(root, 'same-csv');
  writeNpyBlobs(a, train, test);
  writeCsvBlobs(b, train, test);
  const fromNpy = loadNpyDataset({ dataDir: a }), fromCsv = loadCsvDataset({ dataDir: b });
  assert.deepEqual(fromCsv, fromNpy);
  assert.equal(fromCsv.train.tabular, true);
  assert.deepEqual(fromCsv.train.shape, [1, 1, 3]);
  assert.equal(fromCsv.train.classes, 3);
});

test('csv: test columns that differ, a test label outside the classes (with its line), missing files', () => {
  let dir = folder({ 'train.csv': 'a,b,label\n1,2,0\n3,4,1\n', 'test.csv': 'b,a,label\n1,2,0\n' });
  refuses(() => loadCsvDataset({ dataDir: dir }), join(dir, 'test.csv'), `feature columns b, a: expected the same columns in the same order as ${join(dir, 'train.csv')} (a, b)`);
  dir = folder({ 'train.csv': 'a,b,label\n1,2,0\n3,4,1\n', 'test.csv': 'a,b,label\n1,2,0\n\n1,2,2\n' });
  refuses(() => loadCsvDataset({ dataDir: dir }), join(dir, 'test.csv'), 'label 2 at line 4 is not a training class: the training labels are 0..1');
  dir = folder({ 'train.csv': blobsCsv(blobs(4, 2, 2, 3)) });
  refuses(() => loadCsvDataset({ dataDir: dir }), join(dir, 'test.csv'),
    'file not found: expected train.csv and test.csv in the --data-dir folder (a header row with a label column, then one sample per row)');
  dir = folder({ 'train.csv': 'a,b,label\n1,2,0\n3,4\n', 'test.csv': 'a,b,label\n1,2,0\n' });
  refuses(() => loadCsvDataset({ dataDir: dir }), join(dir, 'train.csv'), 'line 3: 2 cells, expected 3 as in the header (line 1)');
});
