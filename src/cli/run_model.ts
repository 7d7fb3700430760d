// A finished (or stopped) run brought back: its test data and its model with the checkpoint's
// tensors, for the commands that inspect runs (eval, analyze).
import type { Dataset } from '../data/mnist.js';
import { Rng } from '../tensor/rng.js';
import { loadInto } from '../train/checkpoint.js';
import { readCheckpointInfo, readCheckpointTensors } from '../train/checkpoint_files.js';
import type { TrainConfig } from './commands/train.js';
import { loadData } from './commands/train.js';
import { buildTrainable, type Trainable } from './learners.js';

/**
 * The run's dataset, for evaluation. Only the test split is used, which augmentation never
 * touches; runs from before the datasets issue have no label or augment in config.json, and were
 * MNIST runs.
 */
export function loadRunData(config: TrainConfig, dataDir: string | undefined): Dataset {
  return loadData({ dataset: config.dataset ?? 'mnist', label: config.label, augment: false, normalize: config.normalize, dataDir: dataDir ?? config.dataDir });
}

/** The run's model with the tensors checkpoint.json was committed with (checked by size and SHA-256). */
export function loadRunModel(runDir: string, config: TrainConfig, data: Dataset): Trainable {
  const model = buildTrainable(config, data.test.shape, data.test.classes, new Rng(config.seed));
  const { arrays, file } = readCheckpointTensors(runDir, readCheckpointInfo(runDir));
  loadInto(arrays, model.tensors(), file);
  return model;
}
