// CIFAR-10 and CIFAR-100 (Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html) in their
// official *binary version*: files of fixed-size records with no header,
//   CIFAR-10:  <label byte> <1024 red> <1024 green> <1024 blue>          (3073 bytes)
//   CIFAR-100: <coarse label byte> <fine label byte> <3 x 1024 pixels>   (3074 bytes)
// each colour plane a 32x32 image in row-major order. CIFAR-10 has data_batch_1..5.bin (10,000
// records each) and test_batch.bin; CIFAR-100 has train.bin (50,000) and test.bin (10,000).
//
// Preprocessing is the authors' (Kao & Chen's CIFAR code): x/255 minus the training set's mean
// image, then per-image standardisation, which for training batches comes last in the
// augmentation (augment.ts), after padding, cropping, flipping, brightness and contrast.

import { join } from 'node:path';
import { CifarAugmentation, standardizeImages } from './augment.js';
import { DataError } from './errors.js';
import { fileSize, isFile, readBytes, requireDir } from './files.js';
import type { Normalization } from './mnist.js';
import type { Dataset, Split } from './dataset.js';

export type CifarName = 'cifar10' | 'cifar100';
/** CIFAR-100's two label sets: 100 fine classes, grouped into 20 coarse superclasses. */
export type CifarLabel = 'fine' | 'coarse';

export const CIFAR_SIDE = 32;
export const CIFAR_CHANNELS = 3;
const PLANE = CIFAR_SIDE * CIFAR_SIDE;
export const CIFAR_PIXELS = PLANE * CIFAR_CHANNELS;

export interface CifarLayout {
  title: string;
  /** The label bytes at the start of each record, in file order. */
  labels: readonly { name: string; classes: number }[];
  trainFiles: readonly string[];
  testFiles: readonly string[];
  /** The binary version's archive, and the folder it extracts to. */
  archive: string;
  folder: string;
}

export const CIFAR10: CifarLayout = {
  title: 'CIFAR-10',
  labels: [{ name: 'label', classes: 10 }],
  trainFiles: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  testFiles: ['test_batch.bin'],
  archive: 'cifar-10-binary.tar.gz',
  folder: 'cifar-10-batches-bin',
};

export const CIFAR100: CifarLayout = {
  title: 'CIFAR-100',
  labels: [{ name: 'coarse label', classes: 20 }, { name: 'fine label', classes: 100 }],
  trainFiles: ['train.bin'],
  testFiles: ['test.bin'],
  archive: 'cifar-100-binary.tar.gz',
  folder: 'cifar-100-binary',
};

export const CIFAR_LAYOUTS: Readonly<Record<CifarName, CifarLayout>> = { cifar10: CIFAR10, cifar100: CIFAR100 };

export function recordSize(layout: CifarLayout): number {
  return layout.labels.length + CIFAR_PIXELS;
}

/** Where to get the data and how to lay it out, for every "not found" message. */
export function cifarHint(layout: CifarLayout): string {
  const files = [...layout.trainFiles, ...layout.testFiles];
  const list = files.length > 3 ? `${files[0]} ... ${files[files.length - 2]}, ${files[files.length - 1]}` : files.join(', ');
  return `${layout.title} is not bundled: download the binary version (${layout.archive}) from ` +
    `https://www.cs.toronto.edu/~kriz/cifar.html, extract it (tar xzf ${layout.archive}) and pass --data-dir ` +
    `pointing at the extracted ${layout.folder} folder (or the folder holding it), which holds ${list}`;
}

export interface CifarRecords {
  n: number;
  /** [n, 32, 32, 3] (HWC, as every image in this library), the bytes as stored. */
  pixels: Uint8Array;
  /** One array per label byte of the layout (CIFAR-100: coarse, then fine). */
  labels: Int32Array[];
}

/**
 * Parses one CIFAR binary file; any defect throws a DataError naming `file`. The size is checked
 * before anything is allocated, and every record's labels are checked.
 */
export function parseCifar(bytes: Uint8Array, file: string, layout: CifarLayout): CifarRecords {
  const size = bytes.length;
  const rec = recordSize(layout);
  const what = `${rec}-byte records (${layout.labels.map((l) => l.name).join(' byte, ')} byte, then 3072 pixel bytes)`;
  if (size === 0) throw new DataError(file, `empty file: expected whole ${what}`);
  if (size % rec !== 0) {
    throw new DataError(file, `size ${size} bytes is not a whole number of ${what}: ${Math.floor(size / rec)} records and ` +
      `${size % rec} bytes over; the file is truncated or not a ${layout.title} binary file`);
  }
  const n = size / rec;
  const labels = layout.labels.map(() => new Int32Array(n));
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < layout.labels.length; k++) {
      const v = bytes[i * rec + k]!;
      const { name, classes } = layout.labels[k]!;
      if (v >= classes) {
        throw new DataError(file, `record ${i} (byte offset ${i * rec + k}): ${name} ${v} out of range: expected 0..${classes - 1}`);
      }
      labels[k]![i] = v;
    }
  }
  // Planes (CHW) to pixels (HWC).
  const pixels = new Uint8Array(n * CIFAR_PIXELS);
  const skip = layout.labels.length;
  for (let i = 0; i < n; i++) {
    const src = i * rec + skip;
    const dst = i * CIFAR_PIXELS;
    for (let c = 0; c < CIFAR_CHANNELS; c++) {
      const plane = src + c * PLANE;
      for (let p = 0; p < PLANE; p++) pixels[dst + p * CIFAR_CHANNELS + c] = bytes[plane + p]!;
    }
  }
  return { n, pixels, labels };
}

/** Reads and parses several files of one split into one set of records. */
export function readCifarFiles(dir: string, files: readonly string[], layout: CifarLayout): CifarRecords {
  const parts = files.map((name) => parseCifar(readBytes(join(dir, name), cifarHint(layout)), join(dir, name), layout));
  if (parts.length === 1) return parts[0]!;
  const n = parts.reduce((s, p) => s + p.n, 0);
  const pixels = new Uint8Array(n * CIFAR_PIXELS);
  const labels = layout.labels.map(() => new Int32Array(n));
  let at = 0;
  for (const part of parts) {
    pixels.set(part.pixels, at * CIFAR_PIXELS);
    part.labels.forEach((l, k) => labels[k]!.set(l, at));
    at += part.n;
  }
  return { n, pixels, labels };
}

/**
 * The folder holding the layout's files: `dataDir` itself, or the folder the archive extracts to
 * inside it (so both `--data-dir cifar-10-batches-bin` and its parent work).
 */
export function resolveCifarDir(dataDir: string, layout: CifarLayout): string {
  const hint = cifarHint(layout);
  const dir = requireDir(dataDir, hint);
  const first = layout.trainFiles[0]!;
  if (isFile(join(dir, first))) return dir;
  const nested = join(dir, layout.folder);
  if (isFile(join(nested, first))) return nested;
  fileSize(join(dir, first), hint); // names what stands there instead of a file, if anything
  throw new DataError(join(dir, first), `file not found: ${hint}`);
}

export interface CifarOptions {
  /** The folder with the binary files (or the folder holding the extracted archive's folder). */
  dataDir: string;
  /** Keep only the first `limit` training samples (the test set is always whole). */
  limit?: number;
  /** CIFAR-100 only: 'fine' (100 classes, default) or 'coarse' (20 superclasses). */
  label?: CifarLabel;
  /** 'standard' (default): the authors' preprocessing (see the file header); 'unit': x/255. */
  normalize?: Normalization;
  /**
   * Train with the authors' augmentation (default true): train.images are then x/255 minus the
   * mean image, and Dataset.augment finishes each batch. Needs 'standard'.
   */
  augment?: boolean;
}

/** The label byte of a record a run trains on, and its class count: CIFAR-100's fine labels unless coarse ones are asked for. */
export function cifarLabels(name: CifarName, label: CifarLabel | undefined): { index: number; classes: number } {
  const index = name === 'cifar100' && label !== 'coarse' ? 1 : 0;
  return { index, classes: CIFAR_LAYOUTS[name].labels[index]!.classes };
}

/** Loads CIFAR-10 or CIFAR-100 from their binary files as NHWC float images. */
export function loadCifar(name: CifarName, options: CifarOptions): Dataset {
  const layout = CIFAR_LAYOUTS[name];
  const { limit, normalize = 'standard', augment = true } = options;
  if (normalize !== 'standard' && normalize !== 'unit') {
    throw new RangeError(`loadCifar: normalize: expected 'standard' or 'unit', got ${String(normalize)}`);
  }
  if (augment && normalize !== 'standard') {
    throw new RangeError("loadCifar: augment: the augmentation ends in per-image standardisation, so it needs normalize 'standard'");
  }
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new RangeError(`loadCifar: limit: expected an integer >= 1, got ${limit}`);
  }
  if (options.label !== undefined && options.label !== 'fine' && options.label !== 'coarse') {
    throw new RangeError(`loadCifar: label: expected 'fine' or 'coarse', got ${String(options.label)}`);
  }
  if (name === 'cifar10' && options.label !== undefined) {
    throw new RangeError('loadCifar: label: CIFAR-10 has one label set; fine and coarse are CIFAR-100\'s');
  }
  const { index: labelIndex, classes } = cifarLabels(name, options.label);

  const dir = resolveCifarDir(options.dataDir, layout);
  // Both splits are read and checked before any conversion, so a bad test file fails fast.
  const train = readCifarFiles(dir, layout.trainFiles, layout);
  const test = readCifarFiles(dir, layout.testFiles, layout);

  // The mean image is a property of the dataset: over every training record, whatever `limit` keeps.
  const mean = normalize === 'standard' ? meanImage(train.pixels, train.n) : new Float64Array(CIFAR_PIXELS);
  const kept = limit === undefined ? train.n : Math.min(limit, train.n);
  const toSplit = (records: CifarRecords, n: number, standardize: boolean): Split => {
    const images = centred(records.pixels, n, mean);
    if (standardize) standardizeImages(images, n, CIFAR_PIXELS);
    return { images, labels: records.labels[labelIndex]!.slice(0, n), n, shape: [CIFAR_SIDE, CIFAR_SIDE, CIFAR_CHANNELS], classes };
  };
  const standard = normalize === 'standard';
  return {
    train: toSplit(train, kept, standard && !augment),
    test: toSplit(test, test.n, standard),
    ...(augment ? { augment: new CifarAugmentation([CIFAR_SIDE, CIFAR_SIDE, CIFAR_CHANNELS]) } : {}),
  };
}

/** Per-position mean over n HWC images, on the 0..1 scale, in double precision. */
function meanImage(pixels: Uint8Array, n: number): Float64Array {
  const sum = new Float64Array(CIFAR_PIXELS);
  for (let i = 0; i < n; i++) {
    const base = i * CIFAR_PIXELS;
    for (let p = 0; p < CIFAR_PIXELS; p++) sum[p]! += pixels[base + p]!;
  }
  for (let p = 0; p < CIFAR_PIXELS; p++) sum[p] = sum[p]! / (255 * n);
  return sum;
}

/** x/255 - mean, for the first n images. */
function centred(pixels: Uint8Array, n: number, mean: Float64Array): Float32Array {
  const out = new Float32Array(n * CIFAR_PIXELS);
  for (let i = 0; i < n; i++) {
    const base = i * CIFAR_PIXELS;
    for (let p = 0; p < CIFAR_PIXELS; p++) out[base + p] = pixels[base + p]! / 255 - mean[p]!;
  }
  return out;
}

/**
 * Checks, without reading them, that every file of the layout is in `dataDir` (or its extracted
 * folder) and is a whole number of records: what a command that starts hours of training must
 * know first. Returns the folder; any defect is the DataError loading would raise.
 */
export function checkCifarFiles(dataDir: string, layout: CifarLayout): string {
  const dir = resolveCifarDir(dataDir, layout);
  const rec = recordSize(layout);
  for (const name of [...layout.trainFiles, ...layout.testFiles]) {
    const file = join(dir, name);
    const size = fileSize(file, cifarHint(layout));
    if (size === 0 || size % rec !== 0) {
      throw new DataError(file, `size ${size} bytes is not a whole number of ${rec}-byte records: the file is truncated or not a ${layout.title} binary file`);
    }
  }
  return dir;
}
