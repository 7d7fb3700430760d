// `al train --resume RUN_DIR`, its flags: the run continues with the settings it started with,
// read from its config.json. Flags given beside --resume must agree with them, except the ones that do not
// change what is computed: --epochs (to train further: the learning-rate schedule then spans the
// new total, so epochs after the resume point follow the new schedule), --threads, --data-dir,
// --json, and where the stages of pipelined AL run (--stages, --token, --processes: a stage
// process killed mid-run is restarted, perhaps elsewhere, and the run resumed on it). A fresh run
// refuses a directory that already holds one, so no checkpoint is ever overwritten by a run it
// does not belong to. Opening the run directory and loading the checkpoint is the library's
// (run/resume.ts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { INFO_FILE, readCheckpointInfo } from '../train/checkpoint_files.js';
import { RunConfigError } from '../run/errors.js';
import { checkResumable } from '../run/resume.js';
import { readTrainConfig, type TrainConfig } from '../run/train_config.js';
import { int, optionalInt, str, type Parsed } from './args.js';
import { UsageError } from './errors.js';
import { stagePlacement } from './stage_placement.js';

/** Flags a resumed run may change: they do not change what is computed (--threads: see docs/cli.md). */
const FREE_FLAGS = new Set(['resume', 'epochs', 'threads', 'data-dir', 'json', 'trace', 'help', 'stages', 'token', 'processes', 'key', 'stage-key', 'insecure', 'log-every', 'test-limit']);

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
  const saved = readTrainConfig(runDir);
  for (const [flag, value] of Object.entries(values)) {
    if (value === undefined || FREE_FLAGS.has(flag)) continue;
    if (flag === 'out') throw new UsageError(`--out: a resumed run writes to its own directory (${runDir}); drop --out`);
    const key = camelCase(flag);
    const have = (saved as unknown as Record<string, unknown>)[key];
    if (!sameValue(value, have)) {
      throw new UsageError(`--${flag}${typeof value === 'string' ? ` ${value}` : ''}: conflicts with the run's ${key} ${JSON.stringify(have) ?? '(unset)'} in ${file}; ` +
        'a resumed run keeps its settings (only --epochs, --threads, --data-dir, --trace, --json, --log-every, --stages, --token, --key, --stage-key, --insecure and --processes may change)');
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
  // Without it no epoch has finished, and the run starts again from epoch 1 (see run/resume.ts openRun).
  if (existsSync(join(runDir, INFO_FILE))) {
    try {
      checkResumable(config, readCheckpointInfo(runDir));
    } catch (error) {
      if (error instanceof RunConfigError) throw new UsageError(error.message);
      throw error;
    }
  }
  return config;
}
