// `al`: dispatch to the subcommands of docs/cli.md. Exit codes: 0 success, 1 a run
// that failed, 2 bad usage or bad input (always with a message naming the flag, file or shape),
// 130 a run stopped by Ctrl-C.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../backend/load_native.js';
import { DataError } from '../data/errors.js';
import { ConfigError } from '../optim/optimizer.js';
import { ModelError } from '../models/common.js';
import { ShapeError } from '../tensor/errors.js';
import { TrainingError } from '../train/errors.js';
import { RunDirError } from '../train/run_dir.js';
import { UsageError } from './errors.js';
import { trainCommand } from './commands/train.js';
import { benchCommand } from './commands/bench.js';
import { evalCommand } from './commands/eval.js';
import { simulateCommand } from './commands/simulate.js';
import { analyzeCommand } from './commands/analyze.js';
import { reproduceCommand } from './commands/reproduce.js';
import { reportCommand } from './commands/report.js';
import { stageCommand } from './commands/stage.js';
import { keygenCommand } from './commands/keygen.js';
import { AnalysisError } from '../analysis/errors.js';
import { CheckpointError } from '../train/checkpoint.js';
import { ALConfigError } from '../al/associated_net.js';

const usage = `Usage: al <command> [options]

Commands:
  train      train a network with BP or AL (al train --help)
  eval       test accuracy of a run's checkpoint, from any AL exit layer
  simulate   time-unit schedules of bp, naive, gpipe and al, with an SVG Gantt chart
  analyze    per-layer losses, class distances, exit accuracy, pipeline timelines and t-SNE of a run
  reproduce  run the experiments of a published table, ours beside the published figures
  report     one self-contained HTML page with the plots and tables of one or more runs
  bench      throughput of the compute core, BP and AL training, with PyTorch beside it when present
  stage      one stage of a pipelined AL run in its own process, waiting for a coordinator
  keygen     a CurveZMQ keypair for stage processes and their coordinators
  help       this text

Run 'al <command> --help' for the options of a command; 'al --version' (-V) prints the version.
`;

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  train: trainCommand,
  eval: evalCommand,
  simulate: simulateCommand,
  analyze: analyzeCommand,
  reproduce: reproduceCommand,
  report: reportCommand,
  bench: benchCommand,
  stage: stageCommand,
  keygen: keygenCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    if (rest.length > 0) {
      process.stderr.write(`al: ${name} takes no arguments, got '${rest.join(' ')}'\n`);
      return 2;
    }
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`al: unknown command '${name}'\n\n${usage}`);
    return 2;
  }
  try {
    return await command(rest);
  } catch (error) {
    return report(name, error);
  }
}

/** The version in this package's package.json, found from this module whether run from src/ or dist/src/. */
export function packageVersion(): string {
  const root = packageRoot(fileURLToPath(import.meta.url));
  if (root === null) throw new Error('cannot find the package.json of associated-learning above ' + fileURLToPath(import.meta.url));
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

function report(command: string, error: unknown): number {
  const e = error instanceof Error ? error : new Error(String(error));
  const badInput = e instanceof UsageError || e instanceof DataError || e instanceof ConfigError ||
    e instanceof ModelError || e instanceof ShapeError || e instanceof CheckpointError || e instanceof ALConfigError || e instanceof AnalysisError ||
    e instanceof RunDirError;
  process.stderr.write(`al ${command}: ${e.message}\n`);
  if (e instanceof UsageError) process.stderr.write(`Run 'al ${command} --help' for usage.\n`);
  if (!badInput && !(e instanceof TrainingError) && process.env['AL_DEBUG']) process.stderr.write(`${e.stack}\n`);
  return badInput ? 2 : 1;
}
