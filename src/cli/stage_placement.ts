// --stages / --processes / --token / --key / --stage-key / --insecure of `al train`: where the
// stages of a pipelined run (AL, GPipe or naive) run, and how the coordinator talks to them.
// Where they run does not change what is computed (threads, local processes and remote
// hosts end bit-identical), so a fresh run and a resumed one check these flags alike, and a resumed
// run may move its stages. Stage addresses, the token and keys belong to one invocation: none is
// written to the run directory, and a resumed run on listed stages is given them again.
//
// Listed stages are reached with CurveZMQ: the coordinator's keypair (--key) and the stages'
// public keys (--stage-key; by default its own, for a cluster sharing one keypair). Local stages
// (--processes) get a keypair made for the run. --insecure drops encryption, on loopback only.
import { isLoopbackHost } from '../pipeline/runtime/curve.js';
import type { StageKeys } from '../pipeline/runtime/stage_group.js';
import { parseAddress } from '../pipeline/runtime/zmq_transport.js';
import { optionalInt, str, type Parsed } from './args.js';
import { UsageError } from './errors.js';
import { givenKeyPair, loadPublicKeys } from './key_files.js';

export interface StagePlacement {
  /** stage processes to use, one HOST:PORT per stage */
  stages: string[] | undefined;
  /** local stage processes to start */
  processes: number | undefined;
  /** the token of the --stages processes */
  stageToken: string | undefined;
  /** the keys for --stages (never written to the run directory: JSON drops them) */
  stageKeys?: StageKeys | undefined;
  /** no encryption (--insecure; loopback only) */
  insecure?: boolean | undefined;
}

/** What the placement must fit: the run's method and its stage and layer counts. */
export interface PlacedRun {
  method: string;
  pipeline: boolean;
  /** the stage count: --workers of a fresh run, or the saved count of a resumed one */
  workers: number | undefined;
  /** AL layers (undefined for BP) */
  layers: number | undefined;
  /** the config.json the stage count comes from, when resuming */
  savedIn?: string;
}

export function stagePlacement(values: Parsed['values'], run: PlacedRun): StagePlacement {
  const list = str(values, 'stages');
  const processes = optionalInt(values, 'processes');
  for (const flag of ['stages', 'processes']) {
    if (values[flag] !== undefined && !run.pipeline) throw new UsageError(`--${flag}: only applies to a pipelined run (--method al --pipeline, gpipe or naive-pipeline)`);
  }
  if (list !== undefined && processes !== undefined) throw new UsageError('--stages and --processes: give one of them, not both');
  if (values['token'] !== undefined && list === undefined) throw new UsageError('--token: only applies with --stages');
  const stages = list?.split(',').map((a) => a.trim());
  stages?.forEach((address) => {
    try {
      parseAddress(address);
    } catch (error) {
      throw new UsageError(`--stages: ${(error as Error).message}`);
    }
  });
  const count = stages?.length ?? processes;
  if (count !== undefined) {
    const flag = stages ? '--stages' : '--processes';
    if (run.workers !== undefined && run.workers !== count) {
      // the stage count is part of a run's identity (its checkpoint records it), so a resumed run keeps it
      throw new UsageError(run.savedIn === undefined
        ? `--workers: ${run.workers} stages, but ${flag} gives ${count}`
        : `${flag}: ${count} stage${count === 1 ? '' : 's'}, but the run has ${run.workers} (workers in ${run.savedIn}); a resumed run keeps its stage count`);
    }
    if (run.layers !== undefined && count > run.layers) throw new UsageError(`${flag}: at most one stage per AL layer (${run.layers} layers), got ${count}`);
  }
  const insecure = values['insecure'] === true;
  for (const flag of ['key', 'stage-key']) {
    if (values[flag] !== undefined && list === undefined) throw new UsageError(`--${flag}: only applies with --stages (local --processes make keys of their own)`);
  }
  if (insecure && list === undefined && processes === undefined) throw new UsageError('--insecure: only applies with --stages or --processes');
  const stageToken = stages ? str(values, 'token') ?? (process.env['AL_TOKEN'] || undefined) : undefined;
  if (stages && insecure && !stageToken) throw new UsageError('--stages: with --insecure, the stages\' token is needed: give --token T or set AL_TOKEN');
  const stageKeys = stages ? placementKeys(values, stages, insecure) : undefined;
  return { stages, processes, stageToken, ...(stageKeys ? { stageKeys } : {}), ...(insecure ? { insecure } : {}) };
}

/** The keys to reach listed stages with; undefined with --insecure, whose stages must be on loopback. */
function placementKeys(values: Parsed['values'], stages: string[], insecure: boolean): StageKeys | undefined {
  for (const flag of ['key', 'stage-key']) {
    if (values[flag] !== undefined && insecure) throw new UsageError(`--${flag}: not with --insecure, which uses no keys`);
  }
  if (insecure) {
    const remote = stages.find((a) => !isLoopbackHost(parseAddress(a).host));
    if (remote) throw new UsageError(`--insecure: only for stages on loopback (127.0.0.1, [::1], localhost); ${remote} is not. Give --key (al keygen) instead`);
    return undefined;
  }
  const keys = givenKeyPair(str(values, 'key'));
  if (!keys) throw new UsageError('--stages: the coordinator\'s keypair is needed: give --key FILE (make one with al keygen) or set AL_KEY; or --insecure for stages on loopback');
  const list = str(values, 'stage-key');
  const given = list === undefined ? [keys.publicKey] : loadPublicKeys(list, '--stage-key');
  if (given.length !== 1 && given.length !== stages.length) throw new UsageError(`--stage-key: one public key for every stage, or one per stage (${stages.length}), got ${given.length}`);
  const stageKeys = stages.map((_, k) => given[given.length === 1 ? 0 : k]!);
  // keys are for this invocation only: a config written as JSON leaves them out
  return Object.defineProperty({ keys, stageKeys }, 'toJSON', { value: () => undefined, enumerable: false });
}
