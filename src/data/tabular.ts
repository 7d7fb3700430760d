// A user's own data: four .npy files (--dataset npy) or two CSV files (--dataset csv) in one folder.
// Both become the Dataset every trainer takes. Scaling is a fixed rule a user can reproduce at
// prediction time, with no statistics hidden in the run: uint8 x is divided by 255 (pixels to
// 0..1), float32 x and CSV features are used as they are. The classes are 0..max training label;
// a test label outside them is an error, since the network could never predict it.

import { join } from 'node:path';
import { parseCsv, type CsvTable } from './csv.js';
import { DataError } from './errors.js';
import { readBytes, requireDir } from './files.js';
import type { Dataset, Split } from './dataset.js';
import { readNpy, shapeText, type NpyArray } from './npy.js';

/** The most classes a label file may imply; a stray huge label would otherwise size a giant output layer. */
export const MAX_CLASSES = 10_000;

export const NPY_FILES = { trainX: 'train_x.npy', trainY: 'train_y.npy', testX: 'test_x.npy', testY: 'test_y.npy' } as const;
export const CSV_FILES = { train: 'train.csv', test: 'test.csv' } as const;

export const NPY_HINT = 'expected train_x.npy, train_y.npy, test_x.npy and test_y.npy in the --data-dir folder (written with np.save)';
export const CSV_HINT = 'expected train.csv and test.csv in the --data-dir folder (a header row with a label column, then one sample per row)';

export interface TabularOptions {
  dataDir: string;
  /** Keep only the first `limit` training samples (the test set is always whole). */
  limit?: number | undefined;
}

/** Samples and labels of one split, before the classes are known. */
interface Part {
  x: Float32Array;
  labels: Int32Array;
  n: number;
  shape: [number, number, number];
  tabular: boolean;
  /** The file holding the labels, for errors about them. */
  labelFile: string;
  /** Where in labelFile label i is, for errors ("index 3", "line 5"). */
  where: (i: number) => string;
}

/** Loads train_x.npy, train_y.npy, test_x.npy and test_y.npy from `dataDir`. */
export function loadNpyDataset(options: TabularOptions): Dataset {
  const dir = requireDir(options.dataDir, NPY_HINT);
  const file = (name: string): string => join(dir, name);
  const train = npyPart(file(NPY_FILES.trainX), file(NPY_FILES.trainY));
  const test = npyPart(file(NPY_FILES.testX), file(NPY_FILES.testY));
  if (test.dtype !== train.dtype) {
    throw new DataError(test.xFile, `dtype ${test.dtype}: expected ${train.dtype}, as in ${train.xFile} (both splits must be scaled alike)`);
  }
  if (!sameShape(train.shape, test.shape) || train.tabular !== test.tabular) {
    throw new DataError(test.xFile, `sample shape ${shapeText(test.sample)}: expected ${shapeText(train.sample)}, as in ${train.xFile}`);
  }
  return splits(train, test, options.limit);
}

/** Loads train.csv and test.csv from `dataDir`. */
export function loadCsvDataset(options: TabularOptions): Dataset {
  const dir = requireDir(options.dataDir, CSV_HINT);
  const trainFile = join(dir, CSV_FILES.train), testFile = join(dir, CSV_FILES.test);
  const train = csvPart(trainFile);
  const test = csvPart(testFile);
  if (test.table.features.join(',') !== train.table.features.join(',')) {
    throw new DataError(testFile, `feature columns ${list(test.table.features)}: expected the same columns in the same order as ${trainFile} (${list(train.table.features)})`);
  }
  return splits(train, test, options.limit);
}

function splits(train: Part, test: Part, limit: number | undefined): Dataset {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new RangeError(`limit: expected an integer >= 1, got ${limit}`);
  // The whole file is checked, not just the kept part: a corrupt file should fail however it is sliced.
  let max = 0;
  for (let i = 0; i < train.n; i++) max = Math.max(max, train.labels[i]!);
  const classes = max + 1;
  if (classes < 2) throw new DataError(train.labelFile, 'every label is 0: expected at least two classes (labels 0..C-1)');
  for (let i = 0; i < test.n; i++) {
    const label = test.labels[i]!;
    if (label >= classes) {
      throw new DataError(test.labelFile, `label ${label} at ${test.where(i)} is not a training class: the training labels are 0..${classes - 1}`);
    }
  }
  const n = limit === undefined ? train.n : Math.min(limit, train.n);
  const per = train.x.length / train.n;
  return {
    train: split(train, n, per, classes),
    test: split(test, test.n, per, classes),
  };
}

function split(part: Part, n: number, per: number, classes: number): Split {
  const images = n === part.n ? part.x : part.x.slice(0, n * per);
  const labels = n === part.n ? part.labels : part.labels.slice(0, n);
  return { images, labels, n, shape: part.shape, classes, ...(part.tabular ? { tabular: true } : {}) };
}

function npyPart(xFile: string, yFile: string): Part & { dtype: string; sample: number[]; xFile: string } {
  const x = readNpy(xFile, NPY_HINT);
  if (x.dtype !== 'float32' && x.dtype !== 'uint8') {
    throw new DataError(xFile, `dtype ${x.dtype} (${x.descr}); expected float32 or uint8 — convert with x.astype(np.float32)`);
  }
  const dims = x.shape;
  if (dims.length < 2 || dims.length > 4) {
    throw new DataError(xFile, `shape ${shapeText(dims)}: expected (n, features), (n, h, w) or (n, h, w, c)`);
  }
  if (dims.some((d) => d === 0)) throw new DataError(xFile, `shape ${shapeText(dims)}: expected no zero dimension`);
  const [n, ...sample] = dims as [number, ...number[]];
  const tabular = sample.length === 1;
  const shape: [number, number, number] = tabular ? [1, 1, sample[0]!] : [sample[0]!, sample[1]!, sample[2] ?? 1];

  const y = readNpy(yFile, NPY_HINT);
  if (!y.dtype.startsWith('int') && !y.dtype.startsWith('uint')) {
    throw new DataError(yFile, `dtype ${y.dtype} (${y.descr}); expected integer class labels — convert with y.astype(np.int64)`);
  }
  if (y.shape.length !== 1) {
    throw new DataError(yFile, `shape ${shapeText(y.shape)}: expected (n,), one class label per sample${y.shape.length === 2 && y.shape[1] === 1 ? ' — flatten it with y.ravel()' : ''}`);
  }
  if (y.shape[0] !== n) {
    throw new DataError(yFile, `${y.shape[0]} labels, but ${xFile} holds ${n} samples (shape ${shapeText(dims)}): expected one label per sample`);
  }
  return {
    x: npyFloats(x, xFile), labels: npyLabels(y, yFile), n, shape, tabular,
    labelFile: yFile, where: (i) => `index ${i}`, dtype: x.dtype, sample, xFile,
  };
}

/** x as float32: uint8 divided by 255, float32 as it is; NaN or infinity is refused. */
function npyFloats(x: NpyArray, file: string): Float32Array {
  const out = new Float32Array(x.size);
  if (x.dtype === 'uint8') {
    for (let i = 0; i < x.size; i++) out[i] = x.data[i]! / 255;
    return out;
  }
  const view = new DataView(x.data.buffer, x.data.byteOffset, x.data.length);
  const per = x.size / x.shape[0]!;
  for (let i = 0; i < x.size; i++) {
    const v = view.getFloat32(4 * i, true);
    if (!Number.isFinite(v)) throw new DataError(file, `sample ${Math.floor(i / per)} holds ${v} (flat element ${i}): expected finite numbers`);
    out[i] = v;
  }
  return out;
}

/** Integer labels of any width as int32, each checked to be 0..MAX_CLASSES-1. */
function npyLabels(y: NpyArray, file: string): Int32Array {
  const view = new DataView(y.data.buffer, y.data.byteOffset, y.data.length);
  const size = y.itemSize;
  const signed = y.dtype.startsWith('int');
  const out = new Int32Array(y.size);
  for (let i = 0; i < y.size; i++) {
    const at = i * size;
    let v: number | bigint;
    switch (size) {
      case 1: v = signed ? view.getInt8(at) : view.getUint8(at); break;
      case 2: v = signed ? view.getInt16(at, true) : view.getUint16(at, true); break;
      case 4: v = signed ? view.getInt32(at, true) : view.getUint32(at, true); break;
      default: {
        // A 64-bit label fits a number when its high word is zero; only a bad one needs BigInt.
        const high = view.getUint32(at + 4, true);
        v = high === 0 ? view.getUint32(at, true) : signed ? view.getBigInt64(at, true) : view.getBigUint64(at, true);
      }
    }
    if (typeof v === 'bigint' || v < 0 || v >= MAX_CLASSES) throw new DataError(file, badLabel(String(v), `index ${i}`));
    out[i] = v;
  }
  return out;
}

function badLabel(value: string, where: string): string {
  return `label ${value} at ${where}: expected a class number 0..${MAX_CLASSES - 1} (labels are 0..C-1 for C classes)`;
}

function csvPart(file: string): Part & { table: CsvTable } {
  const bytes = readBytes(file, CSV_HINT);
  const table = parseCsv(new TextDecoder('utf-8').decode(bytes), file, MAX_CLASSES);
  return {
    x: table.values, labels: table.labels, n: table.n, shape: [1, 1, table.features.length], tabular: true,
    labelFile: file, where: (i) => `line ${table.lines[i]}`, table,
  };
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

function list(names: readonly string[]): string {
  const shown = names.slice(0, 6).join(', ');
  return names.length > 6 ? `${shown}, ... (${names.length} columns)` : shown;
}
