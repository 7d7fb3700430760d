// --stages / --processes / --token of `al train`: where the stages of a pipelined run (AL, GPipe or
// naive) run. Where they run does not change what is computed (threads, local processes and remote
// hosts end bit-identical), so a fresh run and a resumed one check these flags alike, and a resumed
// run may move its stages. Stage addresses and the token belong to one invocation: neither is written
// to the run directory, and a resumed run on listed stages is given them again.
import { parseAddress } from '../pipeline/runtime/zmq_transport.js';
import { optionalInt, str, type Parsed } from './args.js';
import { UsageError } from './errors.js';

export interface StagePlacement {
  /** stage processes to use, one HOST:PORT per stage */
  stages: string[] | undefined;
  /** local stage processes to start */
  processes: number | undefined;
  /** the token of the --stages processes */
  stageToken: string | undefined;
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
  const stageToken = stages ? str(values, 'token') ?? process.env['AL_TOKEN'] : undefined;
  if (stages && !stageToken) throw new UsageError('--stages: the stages\' token is needed: give --token T or set AL_TOKEN');
  return { stages, processes, stageToken };
}
