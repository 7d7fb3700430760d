// `al reproduce TABLE`: runs the experiments behind one of the lecture's tables and prints ours
// beside the published figures, in the same layout. Each experiment is an `al train` run in its
// own process (a crash stays one run's problem) with a fixed run directory under --out; a run
// already finished there is reused, and a stopped one is resumed, so a long table can be built
// over several sessions and Ctrl-C loses at most the epoch in progress.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { optionalInt, parseFlags, str, type FlagSpec } from '../args.js';
import { UsageError } from '../errors.js';
import { formatDuration } from '../progress.js';

export const TABLES = ['mnist', 'layers', 'pipeline'] as const;
type Table = (typeof TABLES)[number];

export const reproduceUsage = `Usage: al reproduce TABLE [--epochs N] [--data-dir DIR] [--out DIR] [--json]

Runs the experiments of one of the lecture's tables and prints ours beside the published figures.
Every experiment is an al train run in DIR/<table>/<name> (default DIR: runs/reproduce); a run
already finished there is reused and a stopped one resumed.

Tables:
  mnist     BP and AL, MLP and Vanilla CNN on MNIST (published: 200 epochs; default here 10
            epochs for the MLPs, 5 for the CNNs, about 1 h 45 min on 2 cores)
  layers    AL MLP on MNIST cut into 1, 2, 3 and 4 AL layers: training and test accuracy as the
            number of AL layers grows (default 5 epochs)
  pipeline  Vanilla CNN cut into 4 AL layers, 1 epoch each: sequential BP, GPipe (2 workers, 4
            micro-batches), sequential AL and pipelined AL (2 workers): samples/s and time

  --epochs N       epochs of every run (overrides the table's defaults)
  --data-dir DIR   dataset directory, passed to al train
  --out DIR        where the run directories go (default runs/reproduce)
  --limit N        train on the first N samples only (a quick check of the whole table)
  --json           print one JSON object with the table as the last line of stdout
`;

const flags: FlagSpec = {
  epochs: { type: 'string' }, 'data-dir': { type: 'string' }, out: { type: 'string' }, limit: { type: 'string' },
  json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
};

interface Experiment {
  name: string;
  /** al train flags, without --out and --epochs */
  args: string[];
  epochs: number;
  /** the published test accuracy, where the lecture gives one */
  published?: number;
}

function experiments(table: Table, epochs: number | undefined): Experiment[] {
  switch (table) {
    case 'mnist':
      return [
        { name: 'mlp-bp', args: ['--model', 'mlp', '--method', 'bp'], epochs: epochs ?? 10, published: 0.985 },
        { name: 'mlp-al', args: ['--model', 'mlp', '--method', 'al'], epochs: epochs ?? 10, published: 0.986 },
        { name: 'cnn-bp', args: ['--model', 'cnn', '--method', 'bp'], epochs: epochs ?? 5, published: 0.994 },
        { name: 'cnn-al', args: ['--model', 'cnn', '--method', 'al', '--pipeline', '--workers', '2'], epochs: epochs ?? 5, published: 0.995 },
      ];
    case 'layers':
      return [1, 2, 3, 4].map((k) => ({ name: `mlp-al-${k}`, args: ['--model', 'mlp', '--method', 'al', '--al-layers', String(k)], epochs: epochs ?? 5 }));
    case 'pipeline':
      return [
        { name: 'cnn-bp', args: ['--model', 'cnn', '--method', 'bp'], epochs: epochs ?? 1 },
        { name: 'cnn-gpipe', args: ['--model', 'cnn', '--method', 'gpipe', '--workers', '2', '--micro-batches', '4', '--trace'], epochs: epochs ?? 1 },
        { name: 'cnn-al', args: ['--model', 'cnn', '--method', 'al', '--al-layers', '4'], epochs: epochs ?? 1 },
        { name: 'cnn-al-pipeline', args: ['--model', 'cnn', '--method', 'al', '--al-layers', '4', '--pipeline', '--workers', '2', '--trace'], epochs: epochs ?? 1 },
      ];
  }
}

interface RunResult {
  name: string;
  epochs: number;
  testAccuracy: number;
  trainAccuracy: number | null;
  samplesPerSec: number;
  seconds: number;
  published?: number;
  runDir: string;
}

const alBin = fileURLToPath(new URL('../../../../bin/al.js', import.meta.url));

/** Epochs a run directory has finished (0 when it holds no run). */
function finishedEpochs(dir: string): number {
  try {
    return (JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { epoch?: number }).epoch ?? 0;
  } catch {
    return 0;
  }
}

function runTrain(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [alBin, 'train', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    const forward = (): void => {
      child.kill('SIGINT');
    };
    process.once('SIGINT', forward);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.removeListener('SIGINT', forward);
      if (code === 0) resolve();
      else reject(new Error(`al train ${args.join(' ')}: exited with ${signal ?? `code ${code}`}`));
    });
  });
}

function readResult(e: Experiment, dir: string): RunResult {
  const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | null>);
  const last = lines[lines.length - 1]!;
  return {
    name: e.name, epochs: last['epoch'] as number, testAccuracy: last['testAccuracy'] as number,
    trainAccuracy: last['trainAccuracy'] ?? null, samplesPerSec: last['samplesPerSec'] as number,
    seconds: lines.reduce((s, l) => s + (l['seconds'] as number), 0), runDir: dir,
    ...(e.published !== undefined ? { published: e.published } : {}),
  };
}

const pct = (x: number | null | undefined): string => (x === null || x === undefined || Number.isNaN(x) ? '-' : `${(100 * x).toFixed(2)}%`);

export async function reproduceCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, flags, true);
  if (values['help']) {
    process.stdout.write(reproduceUsage);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one TABLE (${TABLES.join(', ')}), got ${positionals.length}`);
  const table = positionals[0] as Table;
  if (!TABLES.includes(table)) throw new UsageError(`TABLE: expected one of ${TABLES.join(', ')}, got '${positionals[0]}'`);
  const epochs = optionalInt(values, 'epochs');
  const out = join(str(values, 'out') ?? join('runs', 'reproduce'), table);
  const dataDir = str(values, 'data-dir');
  const limit = optionalInt(values, 'limit');
  const json = values['json'] === true;
  const log = (line: string): void => {
    if (!json) process.stdout.write(line + '\n');
  };
  const list = experiments(table, epochs);
  const results: RunResult[] = [];
  for (const [i, e] of list.entries()) {
    const dir = join(out, e.name);
    const done = finishedEpochs(dir);
    const data = [...(dataDir ? ['--data-dir', dataDir] : []), ...(limit !== undefined ? ['--limit', String(limit)] : [])];
    if (done >= e.epochs) {
      log(`[${i + 1}/${list.length}] ${e.name}: reusing ${dir} (${done} epochs)`);
    } else if (existsSync(join(dir, 'config.json'))) {
      log(`[${i + 1}/${list.length}] ${e.name}: resuming ${dir} after epoch ${done} of ${e.epochs}`);
      await runTrain(['--resume', dir, '--epochs', String(e.epochs), ...(dataDir ? ['--data-dir', dataDir] : [])]);
    } else {
      log(`[${i + 1}/${list.length}] ${e.name}: al train ${e.args.join(' ')} --epochs ${e.epochs}`);
      await runTrain([...e.args, '--epochs', String(e.epochs), '--out', dir, ...data]);
    }
    results.push(readResult(e, dir));
  }
  log('');
  log(`${table}: ours (this machine) beside the published figures (200 epochs)`);
  log('run                 epochs   test acc   published   train acc   samples/s   time');
  for (const r of results) {
    log(`${r.name.padEnd(20)}${String(r.epochs).padStart(6)}${pct(r.testAccuracy).padStart(11)}${pct(r.published).padStart(12)}${pct(r.trainAccuracy).padStart(12)}${r.samplesPerSec.toFixed(0).padStart(12)}   ${formatDuration(r.seconds)}`);
  }
  if (json) process.stdout.write(JSON.stringify({ table, runs: results }) + '\n');
  return 0;
}
