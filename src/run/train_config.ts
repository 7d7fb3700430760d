// The configuration of a training run, as `al train` builds it from its flags and writes it to
// the run directory's config.json, and the checks of it that need the data or the model (flag
// parsing itself is the CLI's). The library's train(config) takes the same object.
import { availableParallelism } from 'node:os';
import { AL_DEFAULT_LR, defaultALLayers } from '../al/decompositions.js';
import { DATASET_NAMES, loadDataset, type DatasetName } from '../data/datasets.js';
import type { Dataset } from '../data/dataset.js';
import type { Normalization } from '../data/mnist.js';
import { CSV_FILES, NPY_FILES } from '../data/tabular.js';
import type { PresetName } from '../train/presets.js';
import type { StageKeys } from '../pipeline/runtime/stage_group.js';
import { RunConfigError } from './errors.js';
import { readRunConfig, type RunConfig } from './run_config.js';
import type { ModelConfig, Trainable } from './trainable.js';

export const DATASETS = DATASET_NAMES;
export const METHODS = ['bp', 'al', 'gpipe', 'naive-pipeline'] as const;

/** --t-width's bound, far above the authors' widths (at most 3000); whether a width fits in memory is checked as the net is built. */
export const MAX_T_WIDTH = 65536;

/** Default learning rates: Adam 1e-3 for BP; AL_DEFAULT_LR (al/decompositions.ts) for AL. */
export { AL_DEFAULT_LR };

/** Every setting of a training run; config.json holds it, with the machine and parameter counts beside. */
/** Test evaluations between steps and the stops they allow (train/eval_schedule.ts). */
export interface EvalSettings {
  /** evaluate the test set every evalEvery steps (evals.jsonl) */
  evalEvery?: number | undefined;
  /** stop once the test accuracy reaches this, in percent */
  untilAccuracy?: number | undefined;
  /** stop once the training clock passes this many seconds */
  maxSeconds?: number | undefined;
}

export interface TrainConfig extends EvalSettings, ModelConfig, RunConfig {
  dataset: DatasetName;
  dataDir: string | undefined;
  /** cifar100's label set; undefined for the other datasets */
  label: 'fine' | 'coarse' | undefined;
  /** the dataset's training augmentation (CIFAR); always false for the others */
  augment: boolean;
  epochs: number;
  batch: number;
  /** the settings came from a preset (flags given beside it override it) */
  preset?: PresetName | undefined;
  /** false: every epoch in the stored order (undefined: shuffled) */
  shuffle?: boolean | undefined;
  /** MNIST-format data: how pixels are prepared (undefined: the loader's default) */
  normalize?: Normalization | undefined;
  seed: number;
  /** compute threads; pipelined: per stage */
  threads: number;
  limit: number | undefined;
  /** evaluate on the first testLimit test samples only */
  testLimit?: number | undefined;
  /** AL layers train simultaneously on worker threads (or stage processes); always true for gpipe and naive-pipeline */
  pipeline: boolean;
  /** pipelined: the number of stages */
  workers: number | undefined;
  /** gpipe: micro-batches per mini-batch */
  microBatches: number | undefined;
  /** pipelined: record every stage's busy intervals in trace.json */
  trace: boolean;
  /** pipelined: stage processes to use, one HOST:PORT per stage; not written to the run directory */
  stages?: string[] | undefined;
  /** pipelined: local stage processes to start */
  processes?: number | undefined;
  /** the token of the listed stage processes; never written to the run directory */
  stageToken?: string | undefined;
  /** the keys for the listed stage processes; never written to the run directory */
  stageKeys?: StageKeys | undefined;
  /** stage processes without encryption (loopback only) */
  insecure?: boolean | undefined;
  /** the run directory of a fresh run */
  out: string;
  /** `al train --json`: print one JSON object at the end (the CLI's; kept in config.json) */
  json: boolean;
  /** write steps.jsonl, a line every logEvery steps */
  logEvery?: number | undefined;
  /** the run directory being continued */
  resume?: string | undefined;
}

/**
 * A fresh run's configuration from the settings given, the rest at `al train`'s defaults for a
 * fresh run without flags (mlp on MNIST by BP, 10 epochs of 128, Adam at 1e-3, the paper schedule).
 * Only what the CLI's flags check is not checked here: give settings `al train` would take.
 */
export function trainConfig(settings: Partial<TrainConfig> & Pick<TrainConfig, 'out'>): TrainConfig {
  const method = settings.method ?? 'bp', model = settings.model ?? 'mlp';
  const pipeline = settings.pipeline ?? (method === 'gpipe' || method === 'naive-pipeline');
  const alLayers = method === 'al' ? settings.alCut?.length ?? settings.alLayers ?? defaultALLayers(model) : undefined;
  return {
    model, dataset: 'mnist', dataDir: undefined, label: undefined, augment: false, method,
    epochs: 10, batch: 128, optimizer: 'adam', lr: method === 'al' ? AL_DEFAULT_LR : 1e-3, targetLr: undefined, weightDecay: 0,
    schedule: 'paper', tWidth: undefined, ...(method === 'al' ? { bridge: 'wide' as const } : {}), seed: 1, threads: pipeline ? 1 : availableParallelism(),
    limit: undefined, microBatches: method === 'gpipe' ? 4 : undefined, trace: false, json: false,
    ...settings,
    pipeline,
    alLayers,
    workers: pipeline ? settings.workers ?? alLayers ?? availableParallelism() : undefined,
  };
}

/** A run directory's config.json as the TrainConfig it was written from (checked as readRunConfig checks). */
export function readTrainConfig(runDir: string): TrainConfig {
  return readRunConfig(runDir) as TrainConfig;
}

/** The run's dataset; the logic is src/data's loadDataset, this only passes the settings on. */
export function loadData(config: Pick<TrainConfig, 'dataset' | 'dataDir' | 'label' | 'augment' | 'normalize'> & { limit?: number | undefined; testLimit?: number | undefined }): Dataset {
  return loadDataset(config.dataset, { dataDir: config.dataDir, limit: config.limit, testLimit: config.testLimit, label: config.label, augment: config.augment, normalize: config.normalize });
}

/** Feature vectors have no height and width to convolve over: only the MLP, which flattens its input, takes them. */
export function checkTabular(config: Pick<TrainConfig, 'model' | 'dataset'>, data: Dataset): void {
  if (!data.train.tabular || config.model === 'mlp') return;
  const features = data.train.shape[2];
  const source = config.dataset === 'csv' ? `${CSV_FILES.train} holds ${features} feature columns` : `${NPY_FILES.trainX} is shaped (n, ${features})`;
  throw new RunConfigError(`--model ${config.model}: a convolutional network needs images, x shaped (n, h, w) or (n, h, w, c); ${source}, tabular data: use --model mlp`);
}

/** A BP pipeline cuts at top-level modules; checked before the run directory exists, so a bad --workers leaves nothing behind. */
export function checkBpStages(config: Pick<TrainConfig, 'pipeline' | 'workers' | 'model'>, model: Trainable): void {
  if (!config.pipeline || model.al || !model.bp) return;
  const modules = model.bp.model.layers.length;
  if ((config.workers ?? 1) > modules) throw new RunConfigError(`--workers: at most one stage per top-level module (${modules} in ${config.model}), got ${config.workers}`);
}

