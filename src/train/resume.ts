// Everything a training run needs to continue exactly where it was, saved after every finished
// epoch and restored by `al train --resume`:
//   checkpoint.safetensors  parameters, batch-norm buffers, optimizer moments (names in checkpoint.ts)
//   checkpoint.json         finished epochs, each optimizer's type, step count, rate and
//                           parameter list, the state of every random stream, the configuration
// Restoring all of it into a freshly built model and continuing gives bit-identical tensors to a
// run that was never stopped (same thread count: oneDNN is deterministic per shape, ISA and
// thread count). Checkpoints are taken only between epochs: the data order of an epoch is drawn
// from the Rng when the epoch starts, so the Rng state at an epoch's end is all a resume needs.
import type { Optimizer } from '../optim/optimizer.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { CheckpointError, encodeSafetensors, loadInto, type NamedArray } from './checkpoint.js';
import {
  INFO_FILE, readCheckpointInfo, readCheckpointTensors, restorePreviousTensors, writeCheckpointPair,
  type CheckpointInfo, type OptimizerRecord,
} from './checkpoint_files.js';
import { join } from 'node:path';

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
  writeCheckpointPair(dir, encodeSafetensors(arrays, { epoch: String(options.epoch) }), { epoch: options.epoch, rng, optimizers, config: options.config });
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
