// Resuming a run, in one place: the checkpoint of a model and its training, and the run directory
// a training run opens, fresh or resumed. Everything a training run needs to continue exactly
// where it was is saved after every finished epoch and restored by train(config) with
// config.resume (`al train --resume`):
//   checkpoint.safetensors  parameters, batch-norm buffers, optimizer moments (names in checkpoint.ts)
//   checkpoint.json         finished epochs, each optimizer's type, step count, rate and
//                           parameter list, the state of every random stream, the configuration
// Restoring all of it into a freshly built model and continuing gives bit-identical tensors to a
// run that was never stopped (same thread count: oneDNN is deterministic per shape, ISA and
// thread count). Checkpoints are taken only between epochs: the data order of an epoch is drawn
// from the Rng when the epoch starts, so the Rng state at an epoch's end is all a resume needs.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Optimizer } from '../optim/optimizer.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { CheckpointError, loadInto, safetensorsChunks, type NamedArray } from '../train/checkpoint.js';
import {
  INFO_FILE, readCheckpointInfo, readCheckpointTensors, restorePreviousTensors, writeCheckpointPair,
  type CheckpointInfo, type OptimizerRecord,
} from '../train/checkpoint_files.js';
import { guardWrite, RunDir } from '../train/run_dir.js';
import { lockRunDir, removeStaleTemporaries, type RunLock } from '../train/run_lock.js';
import { STEPS_FILE } from '../train/step_log.js';
import { RunConfigError } from './errors.js';

/** What a checkpoint holds of a model and its training. */
export interface TrainingState {
  namedParameters(): [string, Tensor][];
  namedBuffers(): [string, Float32Array][];
  /** Every optimizer, in a fixed order; together they update every parameter once. */
  optimizers(): Optimizer[];
}

export interface SaveOptions {
  /** finished epochs */
  epoch: number;
  /** the random streams training draws from, by name (the data order: "data") */
  rngs: Record<string, Rng>;
  /** settings a resumed run must share */
  config: Record<string, unknown>;
}

function parameterNames(state: TrainingState): Map<Tensor, string> {
  return new Map(state.namedParameters().map(([name, t]) => [t, name]));
}

function optimizerParameters(optimizer: Optimizer, names: Map<Tensor, string>, index: number): string[] {
  return optimizer.params.map((p, j) => {
    const name = names.get(p);
    if (name === undefined) throw new CheckpointError(`optimizer ${index}: parameter ${j} (shape [${p.shape.join(', ')}]) is not one of the model's named parameters`);
    return name;
  });
}

const momentName = (parameter: string, kind: string): string => `optim.${parameter}.${kind}`;

/** Writes checkpoint.safetensors + checkpoint.json into `dir` (see checkpoint_files.ts). */
export function saveTrainingCheckpoint(dir: string, state: TrainingState, options: SaveOptions): void {
  const arrays: NamedArray[] = [
    ...state.namedParameters().map(([name, t]) => ({ name, shape: [...t.shape], data: t.data })),
    ...state.namedBuffers().map(([name, b]) => ({ name, shape: [b.length], data: b })),
  ];
  const names = parameterNames(state);
  const optimizers: OptimizerRecord[] = state.optimizers().map((optimizer, i) => {
    const s = optimizer.state();
    const parameters = optimizerParameters(optimizer, names, i);
    for (const [kind, buffers] of Object.entries(s.buffers)) {
      buffers.forEach((b, j) => {
        // SGD without momentum keeps empty buffers: nothing to store.
        if (b.length > 0) arrays.push({ name: momentName(parameters[j]!, kind), shape: [...optimizer.params[j]!.shape], data: b });
      });
    }
    return { type: optimizer.constructor.name, step: s.step, lr: s.lr, buffers: Object.keys(s.buffers), parameters };
  });
  const rng = Object.fromEntries(Object.entries(options.rngs).map(([name, r]) => [name, r.getState().map((v) => Number.isNaN(v) ? null : v)]));
  writeCheckpointPair(dir, safetensorsChunks(arrays, { epoch: String(options.epoch) }), { epoch: options.epoch, rng, optimizers, config: options.config });
}

/** The first setting that differs between a checkpoint's configuration and the run's. */
export function compareConfig(saved: Record<string, unknown>, savedFile: string, expected: Record<string, unknown>, expectedFile: string): void {
  for (const key of new Set([...Object.keys(expected), ...Object.keys(saved)])) {
    const a = JSON.stringify(saved[key]), b = JSON.stringify(expected[key]);
    if (a !== b) throw new CheckpointError(`${savedFile}: was written for ${key} ${a ?? '(unset)'}, but ${expectedFile} has ${b ?? '(unset)'}`);
  }
}

function restoreOptimizer(optimizer: Optimizer, record: OptimizerRecord, live: string[], stored: Map<string, NamedArray>, used: Set<string>, where: { info: string; tensors: string; index: number }): void {
  const what = `optimizer ${where.index}`;
  if (record.type !== optimizer.constructor.name) throw new CheckpointError(`${where.info}: ${what} is ${record.type}, the run uses ${optimizer.constructor.name}`);
  const differs = live.findIndex((name, j) => record.parameters[j] !== name);
  if (differs >= 0 || record.parameters.length !== live.length) {
    const j = differs >= 0 ? differs : Math.min(live.length, record.parameters.length);
    throw new CheckpointError(`${where.info}: ${what} updates ${record.parameters.length} parameters, the model's ${live.length}; they first differ at ${j}: '${record.parameters[j] ?? '(none)'}' vs '${live[j] ?? '(none)'}'`);
  }
  const current = optimizer.state();
  const kinds = Object.keys(current.buffers);
  if (kinds.join(',') !== record.buffers.join(',')) throw new CheckpointError(`${where.info}: ${what} keeps buffers [${record.buffers.join(', ')}], the run's ${optimizer.constructor.name} keeps [${kinds.join(', ')}]`);
  const buffers: Record<string, Float32Array[]> = {};
  for (const kind of kinds) {
    buffers[kind] = current.buffers[kind]!.map((b, j) => {
      const copy = new Float32Array(b.length);
      if (b.length === 0) return copy;
      const name = momentName(live[j]!, kind);
      loadInto(stored, [[name, copy, optimizer.params[j]!.shape]], where.tensors);
      used.add(name);
      return copy;
    });
  }
  optimizer.loadState({ step: record.step, lr: record.lr, buffers });
}

export interface LoadOptions {
  rngs: Record<string, Rng>;
  /** the run's configuration and the file it came from, checked against the checkpoint's */
  config?: { values: Record<string, unknown>; file: string };
}

/**
 * Restores a checkpoint of `dir` into a freshly built model, its optimizers and random streams.
 * Any difference (another model, shape, optimizer, configuration) is a CheckpointError naming
 * the file and the tensor, shape or setting. Returns checkpoint.json's contents.
 */
export function loadTrainingCheckpoint(dir: string, state: TrainingState, options: LoadOptions): CheckpointInfo {
  const info = readCheckpointInfo(dir);
  const infoFile = join(dir, INFO_FILE);
  if (options.config) compareConfig(info.config, infoFile, options.config.values, options.config.file);
  const { arrays, file, previous } = readCheckpointTensors(dir, info);
  const params = state.namedParameters(), buffers = state.namedBuffers();
  loadInto(arrays, [
    ...params.map(([name, t]): [string, Float32Array, readonly number[]] => [name, t.data, t.shape]),
    ...buffers.map(([name, b]): [string, Float32Array, readonly number[]] => [name, b, [b.length]]),
  ], file);
  const used = new Set([...params.map(([n]) => n), ...buffers.map(([n]) => n)]);
  const optimizers = state.optimizers();
  if (info.optimizers.length !== optimizers.length) {
    throw new CheckpointError(`${infoFile}: holds ${info.optimizers.length} optimizer states, the run has ${optimizers.length} optimizers (a checkpoint of another method or depth?)`);
  }
  const names = parameterNames(state);
  optimizers.forEach((optimizer, i) => restoreOptimizer(optimizer, info.optimizers[i]!, optimizerParameters(optimizer, names, i), arrays, used, { info: infoFile, tensors: file, index: i }));
  const extra = [...arrays.keys()].find((name) => !used.has(name));
  if (extra !== undefined) throw new CheckpointError(`${file}: holds tensor '${extra}', which the model does not have (a checkpoint of another model?)`);
  for (const [name, rng] of Object.entries(options.rngs)) {
    const saved = info.rng[name];
    if (!saved) throw new CheckpointError(`${infoFile}: has no state for the random stream '${name}'`);
    rng.setState(saved.map((v) => v ?? Number.NaN));
  }
  const unknown = Object.keys(info.rng).find((name) => !(name in options.rngs));
  if (unknown !== undefined) throw new CheckpointError(`${infoFile}: holds the random stream '${unknown}', which this run does not use`);
  // A save that stopped halfway left the committed tensors aside: put them back before the next save.
  if (previous) restorePreviousTensors(dir);
  return info;
}

// ***** the run directory of a training run *****

/** Settings that may differ between a checkpoint and the run resuming it. */
// where the stages run (threads, processes, hosts) is free too: the result is bit-identical
const FREE_SETTINGS = new Set(['epochs', 'threads', 'dataDir', 'json', 'trace', 'out', 'resume', 'machine', 'parameters', 'trainMacsPerSample', 'stages', 'processes', 'stageToken', 'stageKeys', 'insecure', 'logEvery', 'testLimit']);

/** The settings a checkpoint is tied to: everything but the free ones. */
export function runIdentity(config: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([key, value]) => !FREE_SETTINGS.has(key) && value !== undefined));
}

/** What opening a run directory needs of the run's configuration. */
export interface RunPlace {
  /** the directory of a fresh run */
  out: string;
  /** the directory of the run being continued */
  resume?: string | undefined;
  epochs: number;
}

/** A checkpoint that belongs to the run's config.json and leaves epochs to train. */
export function checkResumable(config: RunPlace, info: CheckpointInfo): void {
  const runDir = config.resume!;
  compareConfig(info.config, join(runDir, INFO_FILE), runIdentity(config), join(runDir, 'config.json'));
  if (info.epoch >= config.epochs) {
    throw new RunConfigError(`--resume ${runDir}: the run has finished ${info.epoch} of ${config.epochs} epochs; pass --epochs N with N > ${info.epoch} to train further`);
  }
}

/**
 * The run directory, locked for this process (see run_lock.ts), and the 0-based epoch training
 * starts with. Fresh runs refuse a directory that holds a run, or files of one. Resumed runs load
 * the checkpoint into `state` and `rngs` (checked again, as the files are read anew), and drop
 * metrics lines past it; a run stopped before its first epoch ended has no checkpoint and starts
 * again from epoch 1 with its saved settings.
 */
export function openRun(config: RunPlace, state: TrainingState, rngs: Record<string, Rng>): { run: RunDir; startEpoch: number; lock: RunLock } {
  const run = new RunDir(config.resume ?? config.out);
  const lock = guardWrite(run.path, () => lockRunDir(run.path));
  try {
    removeStaleTemporaries(run.path);
    return { run, startEpoch: config.resume === undefined ? checkFresh(config, run) : resumeAt(run, state, rngs, config), lock };
  } catch (error) {
    lock.release();
    throw error;
  }
}

function checkFresh(config: RunPlace, run: RunDir): number {
  if (run.holdsRun()) throw new RunConfigError(`--out ${config.out}: already holds a run (config.json); continue it with --resume ${config.out} or choose another directory`);
  const files = run.runFiles();
  if (files.length > 0) {
    throw new RunConfigError(`--out ${config.out}: holds ${files.join(', ')} of a run without its config.json; a new run would overwrite them: choose another directory, or remove them`);
  }
  return 0;
}

function resumeAt(run: RunDir, state: TrainingState, rngs: Record<string, Rng>, config: RunPlace): number {
  if (!existsSync(run.file(INFO_FILE))) {
    // epoch 1's metrics line may precede its checkpoint (a stop between the two writes); a later
    // epoch's line means a checkpoint existed and was lost, and starting over would hide that
    const metrics = run.file('metrics.jsonl');
    if (existsSync(metrics) && /"epoch":\s*([2-9]|\d\d)/.test(readFileSync(metrics, 'utf8'))) {
      throw new CheckpointError(`${run.file(INFO_FILE)}: missing, but ${metrics} records finished epochs after the first; the checkpoint was removed or lost, so the run cannot go on from them`);
    }
    run.trimMetrics(0);
    run.trimLines(STEPS_FILE, 0);
    return 0;
  }
  const info = loadTrainingCheckpoint(run.path, state, { rngs });
  checkResumable(config, info);
  run.trimMetrics(info.epoch);
  run.trimLines(STEPS_FILE, info.epoch);
  return info.epoch;
}
