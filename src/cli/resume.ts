// `al train --resume RUN_DIR`: the run continues with the settings it started with, read from
// its config.json. Flags given beside --resume must agree with them, except the ones that do not
// change what is computed: --epochs (to train further: the learning-rate schedule then spans the
// new total, so epochs after the resume point follow the new schedule), --threads, --data-dir,
// --json, and where the stages of pipelined AL run (--stages, --token, --processes: a stage
// process killed mid-run is restarted, perhaps elsewhere, and the run resumed on it). A fresh run
// refuses a directory that already holds one, so no checkpoint is ever overwritten by a run it
// does not belong to.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Rng } from '../tensor/rng.js';
import { CheckpointError } from '../train/checkpoint.js';
import { INFO_FILE, readCheckpointInfo, type CheckpointInfo } from '../train/checkpoint_files.js';
import { compareConfig, loadTrainingCheckpoint } from '../train/resume.js';
import { guardWrite, RunDir } from '../train/run_dir.js';
import { lockRunDir, removeStaleTemporaries, type RunLock } from '../train/run_lock.js';
import { STEPS_FILE } from '../train/step_log.js';
import { int, optionalInt, str, type Parsed } from './args.js';
import type { TrainConfig } from './commands/train.js';
import { UsageError } from './errors.js';
import { stagePlacement } from './stage_placement.js';
import type { Trainable } from './learners.js';

/** Flags a resumed run may change: they do not change what is computed (--threads: see docs/cli.md). */
const FREE_FLAGS = new Set(['resume', 'epochs', 'threads', 'data-dir', 'json', 'trace', 'help', 'stages', 'token', 'processes', 'key', 'stage-key', 'insecure', 'log-every']);

/** Settings that may differ between a checkpoint and the run resuming it. */
// where the stages run (threads, processes, hosts) is free too: the result is bit-identical
const FREE_SETTINGS = new Set(['epochs', 'threads', 'dataDir', 'json', 'trace', 'out', 'resume', 'machine', 'parameters', 'trainMacsPerSample', 'stages', 'processes', 'stageToken', 'stageKeys', 'insecure', 'logEvery']);

/** The settings a checkpoint is tied to: everything but the free ones. */
export function runIdentity(config: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([key, value]) => !FREE_SETTINGS.has(key) && value !== undefined));
}

const REQUIRED: [string, 'string' | 'number'][] = [
  ['model', 'string'], ['dataset', 'string'], ['method', 'string'], ['optimizer', 'string'], ['schedule', 'string'],
  ['epochs', 'number'], ['batch', 'number'], ['seed', 'number'], ['threads', 'number'], ['lr', 'number'], ['weightDecay', 'number'],
];

/** A run directory's config.json; an unreadable directory or file is a CheckpointError naming it. */
export function readRunConfig(runDir: string): TrainConfig {
  const file = join(runDir, 'config.json');
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
  return config as TrainConfig;
}

const camelCase = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function sameValue(given: string | boolean, saved: unknown): boolean {
  if (Array.isArray(saved)) return typeof given === 'string' && given.split(',').map((v) => v.trim()).join(',') === saved.join(',');
  if (typeof saved === 'number') return typeof given === 'string' && given.trim() !== '' && Number(given) === saved;
  if (typeof given === 'boolean') return saved === given;
  return given === saved;
}

/** The configuration of a resumed run: the saved one, with the free flags applied. */
export function resumeConfig(values: Parsed['values'], runDir: string, checkSettings: (config: TrainConfig, file: string) => void): TrainConfig {
  const file = join(runDir, 'config.json');
  const saved = readRunConfig(runDir);
  for (const [flag, value] of Object.entries(values)) {
    if (value === undefined || FREE_FLAGS.has(flag)) continue;
    if (flag === 'out') throw new UsageError(`--out: a resumed run writes to its own directory (${runDir}); drop --out`);
    const key = camelCase(flag);
    const have = (saved as unknown as Record<string, unknown>)[key];
    if (!sameValue(value, have)) {
      throw new UsageError(`--${flag}${typeof value === 'string' ? ` ${value}` : ''}: conflicts with the run's ${key} ${JSON.stringify(have) ?? '(unset)'} in ${file}; ` +
        'a resumed run keeps its settings (only --epochs, --threads, --data-dir, --trace, --json, --log-every, --stages, --token and --processes may change)');
    }
  }
  const { machine: _machine, parameters: _parameters, trainMacsPerSample: _macs, stages: _stages, stageToken: _token, stageKeys: _keys, insecure: _insecure, ...settings } = saved as TrainConfig & { machine?: unknown; parameters?: unknown; trainMacsPerSample?: unknown };
  // placement flags replace the saved placement; without them, local stage processes are started
  // again, and the stages of a run on listed stages (whose addresses were not saved) run on threads
  const placed = ['stages', 'token', 'processes', 'key', 'stage-key', 'insecure'].some((flag) => values[flag] !== undefined);
  const placement = placed
    ? stagePlacement(values, { method: saved.method, pipeline: saved.pipeline, workers: saved.workers, layers: saved.alLayers, savedIn: file })
    : { stages: undefined, processes: saved.processes, stageToken: undefined };
  const config: TrainConfig = {
    ...settings,
    ...placement,
    epochs: int(values, 'epochs', saved.epochs),
    threads: int(values, 'threads', saved.threads, 1, 256),
    dataDir: str(values, 'data-dir') ?? saved.dataDir,
    json: values['json'] === true,
    trace: values['trace'] === true,
    // a run that logged steps goes on logging them, at the rate given now or the saved one
    logEvery: optionalInt(values, 'log-every') ?? saved.logEvery,
    out: runDir,
    resume: runDir,
  };
  checkSettings(config, file);
  // checkpoint.json is small: checking it now fails fast, before the data and the model are built.
  // Without it no epoch has finished, and the run starts again from epoch 1 (see openRun).
  if (existsSync(join(runDir, INFO_FILE))) checkResumable(config, readCheckpointInfo(runDir));
  return config;
}

/** A checkpoint that belongs to the run's config.json and leaves epochs to train. */
function checkResumable(config: TrainConfig, info: CheckpointInfo): void {
  const runDir = config.resume!;
  compareConfig(info.config, join(runDir, INFO_FILE), runIdentity(config), join(runDir, 'config.json'));
  if (info.epoch >= config.epochs) {
    throw new UsageError(`--resume ${runDir}: the run has finished ${info.epoch} of ${config.epochs} epochs; pass --epochs N with N > ${info.epoch} to train further`);
  }
}

/**
 * The run directory, locked for this process (see run_lock.ts), and the 0-based epoch training
 * starts with. Fresh runs refuse a directory that holds a run, or files of one. Resumed runs load
 * the checkpoint into `model` and `rngs` (checked again, as the files are read anew), and drop
 * metrics lines past it; a run stopped before its first epoch ended has no checkpoint and starts
 * again from epoch 1 with its saved settings.
 */
export function openRun(config: TrainConfig, model: Trainable, rngs: Record<string, Rng>): { run: RunDir; startEpoch: number; lock: RunLock } {
  const run = new RunDir(config.resume ?? config.out);
  const lock = guardWrite(run.path, () => lockRunDir(run.path));
  try {
    removeStaleTemporaries(run.path);
    return { run, startEpoch: config.resume === undefined ? checkFresh(config, run) : resumeAt(run, model, rngs, config), lock };
  } catch (error) {
    lock.release();
    throw error;
  }
}

function checkFresh(config: TrainConfig, run: RunDir): number {
  if (run.holdsRun()) throw new UsageError(`--out ${config.out}: already holds a run (config.json); continue it with --resume ${config.out} or choose another directory`);
  const files = run.runFiles();
  if (files.length > 0) {
    throw new UsageError(`--out ${config.out}: holds ${files.join(', ')} of a run without its config.json; a new run would overwrite them: choose another directory, or remove them`);
  }
  return 0;
}

function resumeAt(run: RunDir, model: Trainable, rngs: Record<string, Rng>, config: TrainConfig): number {
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
  const info = loadTrainingCheckpoint(run.path, model, { rngs });
  checkResumable(config, info);
  run.trimMetrics(info.epoch);
  run.trimLines(STEPS_FILE, info.epoch);
  return info.epoch;
}
