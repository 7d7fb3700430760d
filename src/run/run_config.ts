// A run directory's config.json, as `al train` writes it, read back for what rebuilding the run's
// model needs: the model settings, and the dataset (for the input shape, the classes, and how
// samples are prepared).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CIFAR_CHANNELS, CIFAR_SIDE, cifarLabels, type CifarLabel } from '../data/cifar.js';
import { loadDataset, DATASET_NAMES, type DatasetName } from '../data/datasets.js';
import { FASHION_MNIST } from '../data/fashion_mnist.js';
import { MNIST, type Normalization } from '../data/mnist.js';
import type { Dataset } from '../data/dataset.js';
import { CheckpointError } from '../train/checkpoint.js';
import type { ModelConfig } from './trainable.js';

export const CONFIG_FILE = 'config.json';

/** The settings of config.json that a saved run is rebuilt from (the file holds more). */
export interface RunConfig extends ModelConfig {
  dataset: DatasetName;
  /** where the dataset's files were read from (undefined: the dataset's default place) */
  dataDir?: string | undefined;
  /** cifar100's label set */
  label?: CifarLabel | undefined;
  /** MNIST-format data: how pixels were prepared (undefined: the loader's default) */
  normalize?: Normalization | undefined;
  epochs: number;
  batch: number;
  seed: number;
}

const REQUIRED: [string, 'string' | 'number'][] = [
  ['model', 'string'], ['dataset', 'string'], ['method', 'string'], ['optimizer', 'string'], ['schedule', 'string'],
  ['epochs', 'number'], ['batch', 'number'], ['seed', 'number'], ['threads', 'number'], ['lr', 'number'], ['weightDecay', 'number'],
];

/**
 * Reads `<runDir>/config.json`. A missing or unreadable file, or one without the settings every
 * run has, is a CheckpointError naming the file.
 */
export function readRunConfig(runDir: string): RunConfig {
  const file = join(runDir, CONFIG_FILE);
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CheckpointError(`${file}: cannot read the run's configuration (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new CheckpointError(`${file}: expected a JSON object`);
  for (const [key, type] of REQUIRED) {
    const value = (config as Record<string, unknown>)[key];
    if (typeof value !== type || (type === 'number' && !Number.isFinite(value))) throw new CheckpointError(`${file}: setting '${key}': expected a ${type}, got ${JSON.stringify(value)}`);
  }
  const dataset = (config as { dataset: string }).dataset;
  if (!(DATASET_NAMES as readonly string[]).includes(dataset)) throw new CheckpointError(`${file}: setting 'dataset': expected one of ${DATASET_NAMES.join(', ')}, got ${JSON.stringify(dataset)}`);
  return config as RunConfig;
}

/** What the network takes and predicts: one sample's shape [height, width, channels] and the class count. */
export interface RunInput {
  shape: [number, number, number];
  classes: number;
}

/** The input of a run on a built-in dataset, which follows from the name; null for the user's own data (npy, csv). */
export function knownInput(config: Pick<RunConfig, 'dataset' | 'label'>): RunInput | null {
  switch (config.dataset) {
    case 'mnist':
    case 'fashion-mnist': {
      const spec = config.dataset === 'mnist' ? MNIST : FASHION_MNIST;
      return { shape: [spec.height, spec.width, 1], classes: spec.classes };
    }
    case 'cifar10':
    case 'cifar100':
      return { shape: [CIFAR_SIDE, CIFAR_SIDE, CIFAR_CHANNELS], classes: cifarLabels(config.dataset, config.label).classes };
    default:
      return null;
  }
}

/**
 * The run's dataset as training prepared it, read from `dataDir` or else from where the run read
 * it. Augmentation is off: only the test split, which it never touches, is meant to be used.
 */
export function loadRunDataset(config: Pick<RunConfig, 'dataset' | 'dataDir' | 'label' | 'normalize'>, dataDir?: string): Dataset {
  return loadDataset(config.dataset, { label: config.label, augment: false, normalize: config.normalize, dataDir: dataDir ?? config.dataDir });
}
