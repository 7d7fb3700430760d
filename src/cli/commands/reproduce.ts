// `al reproduce TABLE`: runs the experiments behind one of the paper's tables and prints ours
// beside the published figures, in the same layout. Each experiment is an `al train` run in its
// own process (a crash stays one run's problem) with a fixed run directory under --out; a run
// already finished there is reused, and a stopped one is resumed, so a long table can be built
// over several sessions and Ctrl-C loses at most the epoch in progress. The distance-ratio table
// then runs `al analyze` on each of its runs, also in a child process.
// The experiment lists and published figures are in reproduce_tables.ts, the printing in
// reproduce_text.ts, the --project timing in reproduce_project.ts.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CIFAR_LAYOUTS, checkCifarFiles, cifarHint } from '../../data/cifar.js';
import { buildModel } from '../../models/index.js';
import { Rng } from '../../tensor/rng.js';
import { optionalInt, parseFlags, str, type FlagSpec } from '../args.js';
import { UsageError } from '../errors.js';
import { useNativeBackend } from '../runtime.js';
import { readTrainConfig as readRunConfig } from '../../run/train_config.js';
import { CIFAR_TRAIN, project, projectionText } from './reproduce_project.js';
import { runAl } from './al_child.js';
import { RACE_DEFAULT_EVAL_EVERY, RACE_FLAGS, raceCommand } from './reproduce_race.js';
import { CIFAR_EPOCHS, TABLES, experimentConfig, experiments, trainArgs, type Experiment, type Table } from './reproduce_tables.js';
import { accuracyRows, accuracyText, distanceRows, distanceText, runsText, staleGradients, staleGradientText, type RunDistances, type RunResult } from './reproduce_text.js';
import type { TrainConfig } from '../../run/train_config.js';

export { TABLES } from './reproduce_tables.js';

const e = CIFAR_EPOCHS;
export const reproduceUsage = `Usage: al reproduce TABLE [--epochs N] [--data-dir DIR] [--out DIR] [--only NAME,...] [--project] [--json]
       al reproduce time-to-accuracy [--datasets NAME,...] [--configs NAME,...] [--target PCT|NAME=PCT,...] [--eval-every N] [--max-seconds S] [--quick]

Runs the experiments of one of the paper's tables and prints ours beside the published figures
(200 epochs each) in the paper's layout. Every experiment is an al train run in
DIR/<dataset or table>/<run> (default DIR: runs/reproduce); a run already finished there is
reused, a stopped one resumed, and one with other settings refused.

Tables:
  mnist           BP and AL, MLP and Vanilla CNN on MNIST (default 10 epochs for the MLPs, 5 for
                  the CNNs, about 1 h 45 min on 2 cores)
  cifar10         BP and AL on CIFAR-10 with each of MLP, Vanilla CNN, VGG, ResNet-20, ResNet-32
  cifar100        the same on CIFAR-100's 100 fine classes (as the authors' code loads it)
                  cifar10, cifar100: default epochs ${e.mlp} MLP, ${e.cnn} Vanilla CNN, ${e.vgg} VGG, ${e.resnet20} ResNet-20,
                  ${e.resnet32} ResNet-32, BP and AL alike: about a day a table on an idle 2-core
                  machine (estimated; --project times it on this one)
  layers          AL MLP on MNIST cut into 1, 2, 3 and 4 AL layers: training and test accuracy as
                  the number of AL layers grows (default 5 epochs)
  distance-ratio  inter-/intra-class distance of the top representation, BP and AL, MLP and
                  Vanilla CNN on CIFAR-10 and CIFAR-100: the cifar10 and cifar100 tables' runs
                  (shared with them, same budgets), then al analyze --distance-ratio on each
  pipeline        Vanilla CNN cut into 4 AL layers, 1 epoch each: sequential BP, GPipe (2
                  workers, 4 micro-batches), the naive BP pipeline (2 workers, stale
                  gradients), sequential AL and pipelined AL (2 workers): samples/s and time,
                  and the naive pipeline's test accuracy against BP's and GPipe's
  time-to-accuracy  a race to a test accuracy on two cores: MNIST MLP (target 98.5 %), MNIST
                  Vanilla CNN (99.2 %) and Fashion-MNIST MLP (89 %), each trained by BP on 2
                  threads (bp; at lr 5e-4, bp-lr5e-4; on the MLPs also at the size of AL's
                  prediction path, bp-al-size), GPipe on 2 workers (gpipe), sequential AL
                  on 2 threads and pipelined AL on 2 workers, with wide, slim and lean
                  bridges (al-wide, al-slim, al-lean, al-pipeline-wide, al-pipeline-slim,
                  al-pipeline-lean). Each run evaluates the test set every N steps and stops
                  at its target or budget; the table gives each one's time to the target on
                  its command's clock (start-up counted, evaluations left out) and
                  its ratio to BP's; DIR/time-to-accuracy/report.html and one SVG per dataset
                  draw test accuracy against that clock

  --epochs N         epochs of every run (overrides the table's defaults)
  --data-dir DIR     dataset directory, passed to al train and al analyze. The CIFAR tables need
                     it and check it before anything runs: the extracted binary version
                     (distance-ratio: a folder holding both cifar-10-batches-bin and
                     cifar-100-binary)
  --out DIR          where the run directories go (default runs/reproduce)
  --only NAME,...    run only these experiments of the table (the names its log shows)
  --project          CIFAR tables: train nothing and need no data; time a few training steps of
                     each run on random CIFAR-shaped data (5 to 20 s a run on an idle machine)
                     and print samples/s and the projected time per epoch and for the budget
  --project-steps N  time exactly N steps of each run (after one untimed step) instead
  --limit N          train on the first N samples only (a quick check of the whole table)
  --json             print one JSON object with the table as the last line of stdout
  -h, --help         this text

time-to-accuracy only (--epochs, --limit, --data-dir, --out and --json as above; --epochs and
--limit apply to every run; --data-dir needs --datasets to pick MNIST or Fashion-MNIST):
  --datasets NAME,...  mnist-mlp, mnist-cnn, fashion-mnist-mlp (default all)
  --configs NAME,...   bp, bp-al-size (MLPs: BP with hidden 1024 x 5, the size of AL's prediction
                       path), bp-lr5e-4 (BP at lr 5e-4), gpipe, al-wide, al-slim, al-lean,
                       al-pipeline-wide, al-pipeline-slim, al-pipeline-lean (default all); every
                       AL run is cut into 2 AL layers
  --target PCT         the test accuracy to reach, in percent, for every selected dataset; or
                       NAME=PCT,... for some (defaults 98.5, 99.2 and 89)
  --eval-every N       evaluate the test set every N steps (default ${RACE_DEFAULT_EVAL_EVERY}); pipelined AL
                       waits for its stages' snapshots, GPipe drains
  --max-seconds S      stop a run whose training clock passes S seconds (default: only --epochs)
  --quick              tiny runs for a check of the whole race: --limit 256 --epochs 1 --eval-every 1
`;

const flags: FlagSpec = {
  epochs: { type: 'string' }, 'data-dir': { type: 'string' }, out: { type: 'string' }, limit: { type: 'string' },
  only: { type: 'string' }, project: { type: 'boolean' }, target: { type: 'string' }, 'project-steps': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  ...RACE_FLAGS,
};

/** Epochs a run directory has finished (0 when it holds no run). */
function finishedEpochs(dir: string): number {
  try {
    return (JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { epoch?: number }).epoch ?? 0;
  } catch {
    return 0;
  }
}

function readResult(e: Experiment, dir: string): RunResult {
  const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | null>);
  const last = lines[lines.length - 1]!;
  const epochs = lines.map((l) => ({ epoch: l['epoch'] as number, testAccuracy: l['testAccuracy'] as number, seconds: l['seconds'] as number }));
  return {
    name: e.name, epochs: last['epoch'] as number, testAccuracy: last['testAccuracy'] as number,
    trainAccuracy: last['trainAccuracy'] ?? null, samplesPerSec: last['samplesPerSec'] as number,
    seconds: epochs.reduce((s, l) => s + l.seconds, 0), runDir: dir,
  };
}

/** Settings a run found in the experiment's directory must share with it to be reused or resumed. */
const IDENTITY: (keyof TrainConfig)[] = ['model', 'dataset', 'method', 'label', 'limit', 'alLayers', 'pipeline', 'microBatches'];

/**
 * A run already in an experiment's directory is that experiment's (or reusing it would print
 * someone else's figures): all checked before the first run starts.
 */
function checkExistingRuns(list: Experiment[], out: string, limit: number | undefined): void {
  for (const e of list) {
    const dir = join(out, e.dir);
    if (existsSync(join(dir, 'config.json'))) checkSameRun(e, dir, experimentConfig(e, limit));
  }
}

function checkSameRun(e: Experiment, dir: string, expected: TrainConfig): void {
  const saved = readRunConfig(dir);
  for (const key of IDENTITY) {
    // runs from before the datasets issue have no dataset in config.json: MNIST
    const have = saved[key] ?? (key === 'dataset' ? 'mnist' : undefined);
    const want = expected[key];
    if (have !== want && !(have == null && want == null)) {
      throw new UsageError(`${dir}: holds a run with ${key} ${JSON.stringify(have ?? null)}, but ${e.name} needs ${key} ${JSON.stringify(want ?? null)}: ` +
        'give another --out, or remove that folder to train it again');
    }
  }
}

/** Every CIFAR folder the experiments read, checked before the first one starts. */
function checkData(list: Experiment[], dataDir: string | undefined): void {
  for (const name of ['cifar10', 'cifar100'] as const) {
    if (!list.some((e) => e.dataset === name)) continue;
    const layout = CIFAR_LAYOUTS[name];
    if (dataDir === undefined) throw new UsageError(`--data-dir: required for the ${layout.title} runs. ${cifarHint(layout)}`);
    checkCifarFiles(dataDir, layout);
  }
}

/**
 * A run stopped in its first epoch holds config.json but no checkpoint, and al train --out
 * refuses a directory holding a run. Its run files (no finished epoch in them) are removed so that
 * it starts afresh with the experiment's current flags; returns whether there were any.
 */
export function clearUnfinishedRun(dir: string): boolean {
  if (!existsSync(join(dir, 'config.json')) || existsSync(join(dir, 'checkpoint.json'))) return false;
  for (const file of ['config.json', 'metrics.jsonl', 'trace.json']) rmSync(join(dir, file), { force: true });
  return true;
}

/** Trains (or reuses, or resumes) one experiment's run. */
async function train(e: Experiment, dir: string, step: string, options: { dataDir: string | undefined; limit: number | undefined; log: (line: string) => void }): Promise<void> {
  const { dataDir, limit, log } = options;
  const done = finishedEpochs(dir);
  const data = dataDir ? ['--data-dir', dataDir] : [];
  if (clearUnfinishedRun(dir)) log(`${step} ${e.name}: ${dir} was stopped before its first epoch ended: starting it afresh`);
  const hasRun = existsSync(join(dir, 'config.json'));
  if (hasRun && done >= e.epochs) {
    log(`${step} ${e.name}: reusing ${dir} (${done} epoch${done === 1 ? '' : 's'})`);
  } else if (hasRun) {
    log(`${step} ${e.name}: resuming ${dir} after epoch ${done} of ${e.epochs}`);
    await runAl(['train', '--resume', dir, '--epochs', String(e.epochs), ...data]);
  } else {
    const args = trainArgs(e);
    log(`${step} ${e.name}: al train ${args.join(' ')} --epochs ${e.epochs}`);
    await runAl(['train', ...args, '--epochs', String(e.epochs), '--out', dir, ...data, ...(limit !== undefined ? ['--limit', String(limit)] : [])]);
  }
}

/**
 * The class distances of a run's top representation by al analyze: BP the classifier's input
 * (the penultimate top-level module's output), AL b_L(s_L).
 */
async function analyzeRun(e: Experiment, dir: string, dataDir: string | undefined): Promise<RunDistances> {
  const config = readRunConfig(dir);
  // the BP network is built here only to count its modules, but building draws its weights
  if (e.method !== 'al') await useNativeBackend();
  const layer = e.method === 'al'
    ? config.alLayers!
    : buildModel(config.model, { inputShape: [32, 32, 3], classes: 10, rng: new Rng(0) }).layers.length - 1;
  const stdout = await runAl(['analyze', dir, '--distance-ratio', '--layer', String(layer), '--json', ...(dataDir ? ['--data-dir', dataDir] : [])], true);
  const analysis = JSON.parse(stdout.trim().split('\n').pop()!) as { distanceRatio: { samples: number; rows: { name: string; features: number; inter: number; intra: number; ratio: number | null }[] } };
  const { rows, samples } = analysis.distanceRatio;
  const row = e.method === 'al' ? rows.find((r) => r.name === `b${layer}(s${layer})`) : rows.find((r) => r.name.startsWith(`${layer} `));
  if (!row) throw new Error(`al analyze ${dir}: no row for layer ${layer} among ${rows.map((r) => r.name).join(', ')}`);
  return { name: e.name, representation: row.name, features: row.features, samples, inter: row.inter, intra: row.intra, ratio: row.ratio ?? Number.NaN };
}

function selected(table: Table, list: Experiment[], only: string | undefined): Experiment[] {
  if (only === undefined) return list;
  const names = only.split(',').map((n) => n.trim()).filter((n) => n !== '');
  const unknown = names.filter((n) => !list.some((e) => e.name === n));
  if (names.length === 0 || unknown.length > 0) {
    throw new UsageError(`--only: expected names among ${table}'s runs (${list.map((e) => e.name).join(', ')}), got '${unknown.join(',') || only}'`);
  }
  return list.filter((e) => names.includes(e.name));
}

const PROJECTED_TABLES: readonly Table[] = ['cifar10', 'cifar100', 'distance-ratio'];

export async function reproduceCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, flags, true);
  if (values['help']) {
    process.stdout.write(reproduceUsage);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one TABLE (${TABLES.join(', ')}), got ${positionals.length}`);
  const table = positionals[0] as Table;
  if (!TABLES.includes(table)) throw new UsageError(`TABLE: expected one of ${TABLES.join(', ')}, got '${positionals[0]}'`);
  if (table === 'time-to-accuracy') return raceCommand(values);
  for (const flag of [...Object.keys(RACE_FLAGS), 'target']) if (values[flag] !== undefined) throw new UsageError(`--${flag}: only applies to the time-to-accuracy table`);
  const epochs = optionalInt(values, 'epochs');
  const out = str(values, 'out') ?? join('runs', 'reproduce');
  const dataDir = str(values, 'data-dir');
  const limit = optionalInt(values, 'limit');
  const json = values['json'] === true;
  const log = (line: string): void => {
    if (!json) process.stdout.write(line + '\n');
  };
  const list = selected(table, experiments(table, epochs), str(values, 'only'));

  if (values['project-steps'] !== undefined && !values['project']) throw new UsageError('--project-steps: only applies with --project');
  if (values['project']) {
    if (!PROJECTED_TABLES.includes(table)) throw new UsageError(`--project: only for the CIFAR tables (${PROJECTED_TABLES.join(', ')}), not ${table}`);
    const trainSamples = Math.min(limit ?? CIFAR_TRAIN, CIFAR_TRAIN);
    log(`${table}: timing ${list.length} runs on random CIFAR-shaped data`);
    const rows = await project(list, trainSamples, optionalInt(values, 'project-steps'), log);
    log('');
    for (const line of projectionText(rows, trainSamples)) log(line);
    if (json) process.stdout.write(JSON.stringify({ table, trainSamples, projection: rows }) + '\n');
    return 0;
  }

  checkData(list, dataDir);
  checkExistingRuns(list, out, limit);
  const results: RunResult[] = [];
  const distances: RunDistances[] = [];
  for (const [i, e] of list.entries()) {
    const dir = join(out, e.dir);
    await train(e, dir, `[${i + 1}/${list.length}]`, { dataDir, limit, log });
    results.push(readResult(e, dir));
    if (table === 'distance-ratio') {
      log(`[${i + 1}/${list.length}] ${e.name}: al analyze ${dir} --distance-ratio`);
      distances.push(await analyzeRun(e, dir, dataDir));
    }
  }

  const report: Record<string, unknown> = { table, runs: results };
  log('');
  if (table === 'mnist' || table === 'cifar10' || table === 'cifar100') {
    const rows = accuracyRows(table, list, results);
    report['accuracy'] = rows;
    for (const line of [...accuracyText(table, rows), '']) log(line);
  }
  const stale = staleGradients(list, results);
  if (stale.length > 0) {
    report['staleGradients'] = stale;
    for (const line of [...staleGradientText(stale), '']) log(line);
  }
  if (table === 'distance-ratio') {
    const rows = distanceRows(list, distances);
    report['distances'] = rows;
    for (const line of [...distanceText(rows), '']) log(line);
  }
  log(`${table}: every run (this machine)`);
  for (const line of runsText(results)) log(line);
  if (json) process.stdout.write(JSON.stringify(report) + '\n');
  return 0;
}
