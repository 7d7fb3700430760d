// A run directory of `al train` brought back for prediction: the model its config.json describes,
// with the tensors of its checkpoint (the last finished epoch). BP runs predict with the whole
// network; AL runs with the shortcut h_1(...h_k(b_k(f_k(...f_1(x))))) from any exit layer k.
//
//   const run = loadRun('runs/mlp-mnist-al');
//   const { labels } = run.predict(run.testData().images, { exit: 2 });
import { join } from 'node:path';
import { backend } from '../backend/backend.js';
import { predictAL } from '../al/al_learner.js';
import type { Dataset, Split } from '../data/dataset.js';
import { Rng } from '../tensor/rng.js';
import { Tensor, noGrad } from '../tensor/tensor.js';
import { CheckpointError, loadInto } from '../train/checkpoint.js';
import { readCheckpointInfo, readCheckpointTensors } from '../train/checkpoint_files.js';
import { accuracy, predict as predictBp } from '../train/evaluate.js';
import { CONFIG_FILE, knownInput, loadRunDataset, readRunConfig, type RunConfig, type RunInput } from './run_config.js';
import { buildTrainable, type Trainable } from './trainable.js';

export interface LoadRunOptions {
  /**
   * Where the run's dataset is, if not where config.json says. Only read when needed: for
   * testData(), and to learn the input shape and classes of a run on your own data (npy, csv).
   */
  dataDir?: string;
}

export interface PredictOptions {
  /** AL runs: the AL layer to predict from, 1 to `depth` (default: the last). BP runs have none. */
  exit?: number;
  /** samples per forward pass (default 500): bounds the memory of the activations */
  batchSize?: number;
}

export interface Prediction {
  /** class scores (logits), row-major [n, classes] */
  scores: Float32Array;
  /** the highest-scoring class of each sample */
  labels: Int32Array;
  n: number;
  classes: number;
}

/** The model of `runDir` with the checkpoint's tensors (checked against checkpoint.json by size and SHA-256). */
export function loadRunModel(runDir: string, config: RunConfig, input: RunInput): { model: Trainable; epoch: number } {
  const model = buildTrainable(config, input.shape, input.classes, new Rng(config.seed));
  const info = readCheckpointInfo(runDir);
  const { arrays, file } = readCheckpointTensors(runDir, info);
  loadInto(arrays, model.tensors(), file);
  return { model, epoch: info.epoch };
}

/** A saved run, ready to predict; made by loadRun. */
export class SavedRun {
  /** the last finished epoch, which the checkpoint holds */
  readonly epoch: number;
  readonly model: Trainable;
  private data: Dataset | undefined;
  private readonly dataDir: string | undefined;

  /** Builds the model and loads the checkpoint; `data`, if given, is the run's dataset already read. */
  constructor(readonly runDir: string, readonly config: RunConfig, readonly input: RunInput, options: LoadRunOptions & { data?: Dataset } = {}) {
    ({ model: this.model, epoch: this.epoch } = loadRunModel(runDir, config, input));
    this.data = options.data;
    this.dataDir = options.dataDir;
  }

  /** AL layers (exit layers 1..depth); 0 for a BP run. */
  get depth(): number {
    return this.model.depth;
  }

  get classes(): number {
    return this.input.classes;
  }

  /** The run's test split, prepared as training prepared its data: what predict expects. Read once. */
  testData(): Split {
    this.data ??= loadRunDataset(this.config, this.dataDir);
    return this.data.test;
  }

  /**
   * Class scores and predicted classes of the samples in `x`, in evaluation mode without
   * recording a graph. `x` holds whole samples of the run's input shape [height, width, channels],
   * prepared as the run's dataset loader prepares them (see testData): a Float32Array of n such
   * samples, or a Tensor [n, height, width, channels] (or [n, features] with the same count).
   */
  predict(x: Float32Array | Tensor, options: PredictOptions = {}): Prediction {
    const exit = this.checkExit(options.exit);
    const batchSize = options.batchSize ?? 500;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`predict: expected an integer >= 1 for batchSize, got ${batchSize}`);
    const { data, n } = this.samples(x);
    const sample = this.input.shape.reduce((p, d) => p * d, 1), classes = this.classes;
    const scores = new Float32Array(n * classes);
    this.evaluating(() => {
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        const batch = new Tensor(data.subarray(start * sample, (start + size) * sample), [size, ...this.input.shape]);
        scores.set(this.scoresOf(batch, exit).data.subarray(0, size * classes), start * classes);
      }
    });
    const labels = new Int32Array(n);
    backend().argmaxRows(scores, labels, n, classes);
    return { scores, labels, n, classes };
  }

  /** Fraction of `split` (default: the test split) predicted right, from exit layer `exit` for AL runs. */
  accuracy(split: Split = this.testData(), options: Pick<PredictOptions, 'exit'> = {}): number {
    const exit = this.checkExit(options.exit);
    const { shape } = this.input;
    if (split.shape.join(',') !== shape.join(',')) throw new RangeError(`accuracy: expected samples shaped [${shape.join(', ')}] as the run was trained on, got [${split.shape.join(', ')}]`);
    if (this.model.al) return accuracy(predictAL(this.model.al.net, split, exit ?? this.depth), split.labels);
    return accuracy(predictBp(this.model.bp!.model, split), split.labels);
  }

  toString(): string {
    const c = this.config;
    return `SavedRun(${this.runDir}: ${c.model} on ${c.dataset}, method ${c.method}, epoch ${this.epoch}${this.depth ? `, ${this.depth} AL layers` : ''})`;
  }

  private checkExit(exit: number | undefined): number | undefined {
    if (exit === undefined) return undefined;
    if (this.depth === 0) throw new RangeError(`predict: exit: only AL runs have exit layers; ${this.runDir} is a --method ${this.config.method} run`);
    if (!Number.isInteger(exit) || exit < 1 || exit > this.depth) throw new RangeError(`predict: expected an exit layer from 1 to ${this.depth} for exit, got ${exit}`);
    return exit;
  }

  /** x as whole samples of the input shape. */
  private samples(x: Float32Array | Tensor): { data: Float32Array; n: number } {
    const shape = this.input.shape, sample = shape.reduce((p, d) => p * d, 1);
    const data = x instanceof Tensor ? (x.layout === 'nhwc' ? x : x.toLayout('nhwc')).data : x;
    if (!(data instanceof Float32Array)) throw new TypeError(`predict: expected a Float32Array or a Tensor for x, got ${Object.prototype.toString.call(x)}`);
    const n = x instanceof Tensor ? (x.shape[0] ?? 0) : data.length / sample;
    const perSample = x instanceof Tensor ? x.shape.slice(1).reduce((p, d) => p * d, 1) : sample;
    if (!Number.isInteger(n) || perSample !== sample) {
      const got = x instanceof Tensor ? `shape [${x.shape.join(', ')}]` : `${data.length} values`;
      throw new RangeError(`predict: expected whole samples of [${shape.join(', ')}] (${sample} values each) for x, got ${got}`);
    }
    return { data, n };
  }

  private scoresOf(batch: Tensor, exit: number | undefined): Tensor {
    return this.model.al ? this.model.al.net.predict(batch, exit ?? this.depth) : this.model.bp!.model.forward(batch);
  }

  /** Runs `f` in evaluation mode without a graph; the training mode is restored after. */
  private evaluating(f: () => void): void {
    const bp = this.model.bp?.model, net = this.model.al?.net;
    const wasTraining = bp?.training ?? true;
    bp?.eval();
    net?.train(false);
    try {
      noGrad(f);
    } finally {
      bp?.train(wasTraining);
      net?.train(true);
    }
  }
}

/**
 * Loads a run directory written by `al train` (config.json, checkpoint.json and
 * checkpoint.safetensors) for prediction. A missing or mismatched file is a CheckpointError that
 * names it. The network runs on the selected backend (by default the native one).
 *
 * @example
 * const run = loadRun('runs/mlp-mnist-al');
 * const test = run.testData();
 * for (let k = 1; k <= run.depth; k++) console.log(k, run.accuracy(test, { exit: k }));
 */
export function loadRun(runDir: string, options: LoadRunOptions = {}): SavedRun {
  const config = readRunConfig(runDir);
  const known = knownInput(config);
  if (known !== null) return new SavedRun(runDir, config, known, options);
  // own data: the shape and classes are the data's, so the dataset is read (and kept for testData)
  let data: Dataset;
  try {
    data = loadRunDataset(config, options.dataDir);
  } catch (error) {
    throw new CheckpointError(`${join(runDir, CONFIG_FILE)}: a run on ${config.dataset} data takes its input shape and classes from the data, which could not be read (${(error as Error).message}); pass dataDir`, { cause: error });
  }
  return new SavedRun(runDir, config, { shape: data.test.shape, classes: data.test.classes }, { ...options, data });
}
