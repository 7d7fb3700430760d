// `al reproduce time-to-accuracy`: a race to a target test accuracy. For each benchmark (MNIST MLP,
// MNIST Vanilla CNN, Fashion-MNIST MLP) it trains each configuration on two cores (BP on 2
// threads, GPipe on 2 workers, sequential AL on 2 threads and pipelined AL on 2 workers, AL with
// wide, slim and lean bridges), each an `al train --eval-every N --until-accuracy T` child with its
// own run directory, stopped at the target or at its epoch (or time) budget. The times come from
// each run's evals.jsonl (train/eval_schedule.ts has the clock, analysis/time_to_accuracy.ts the
// first crossing); report.html and one SVG per benchmark are written beside the runs.
//
// A finished run (its target reached, its budget spent) is reused. Any other run of the same
// settings is started again from scratch rather than resumed: a resumed run's clock restarts with
// its process, and the race measures whole commands.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readEvals } from '../../analysis/time_to_accuracy.js';
import type { ModelName } from '../../models/index.js';
import { raceCells, raceHtml, raceRows, raceSvg, RACE_HEADER, RACE_NOTES, type RaceRun } from '../../report/race_report.js';
import { EVALS_FILE } from '../../train/eval_schedule.js';
import { writeFileAtomic } from '../../train/run_dir.js';
import { int, str, type FlagSpec, type Parsed } from '../args.js';
import { UsageError } from '../errors.js';
import { readTrainConfig as readRunConfig } from '../../run/train_config.js';
import { runAl } from './al_child.js';
import { table } from './analyze_text.js';
import { parseTrainConfig } from './train.js';
import type { TrainConfig } from '../../run/train_config.js';

export interface Benchmark {
  name: string;
  title: string;
  model: ModelName;
  dataset: 'mnist' | 'fashion-mnist';
  /** default target, percent */
  target: number;
  /** default epoch budget (also the learning-rate schedule's horizon) */
  epochs: number;
}

export const BENCHMARKS: readonly Benchmark[] = [
  { name: 'mnist-mlp', title: 'MNIST MLP', model: 'mlp', dataset: 'mnist', target: 98.5, epochs: 10 },
  { name: 'mnist-cnn', title: 'MNIST Vanilla CNN', model: 'cnn', dataset: 'mnist', target: 99.2, epochs: 5 },
  { name: 'fashion-mnist-mlp', title: 'Fashion-MNIST MLP', model: 'mlp', dataset: 'fashion-mnist', target: 89, epochs: 10 },
];

/** The widths of AL's MLP prediction path (x -> f1 -> f2 -> b2, two dense maps -> h2 -> h1), for a BP of the same size. */
export const AL_PATH_HIDDEN = '1024,1024,1024,1024,1024';

/**
 * Two cores each, each method in its own way. Every AL run is cut into two AL layers, one per
 * core: the MLP's default, where the Vanilla CNN's authors' cut has four (in four, slim AL needs
 * 1800 steps to 99.2 % where it needs 1100 in two; docs/reproduction.md). `models`: the backbones a
 * configuration applies to (undefined: all).
 */
export const RACE_CONFIGS: readonly { name: string; label: string; args: readonly string[]; models?: readonly ModelName[] }[] = [
  { name: 'bp', label: 'BP, 2 threads', args: ['--method', 'bp', '--threads', '2'] },
  { name: 'bp-al-size', label: 'BP, 2 threads, the size of AL\'s prediction path (hidden 1024 x 5)', args: ['--method', 'bp', '--threads', '2', '--hidden', AL_PATH_HIDDEN], models: ['mlp'] },
  // BP at a rate of its own: of 5e-4, 1e-3 and 2e-3, 5e-4 reaches Fashion-MNIST's target in the
  // fewest steps (docs/reproduction.md, learning rates)
  { name: 'bp-lr5e-4', label: 'BP, 2 threads, lr 5e-4', args: ['--method', 'bp', '--threads', '2', '--lr', '5e-4'] },
  { name: 'gpipe', label: 'GPipe, 2 workers', args: ['--method', 'gpipe', '--workers', '2'] },
  { name: 'al-wide', label: 'sequential AL, 2 threads, wide bridges', args: ['--method', 'al', '--al-layers', '2', '--threads', '2', '--bridge', 'wide'] },
  { name: 'al-slim', label: 'sequential AL, 2 threads, slim bridges', args: ['--method', 'al', '--al-layers', '2', '--threads', '2', '--bridge', 'slim'] },
  { name: 'al-lean', label: 'sequential AL, 2 threads, lean bridges', args: ['--method', 'al', '--al-layers', '2', '--threads', '2', '--bridge', 'lean'] },
  { name: 'al-pipeline-wide', label: 'pipelined AL, 2 workers, wide bridges', args: ['--method', 'al', '--al-layers', '2', '--pipeline', '--workers', '2', '--bridge', 'wide'] },
  { name: 'al-pipeline-slim', label: 'pipelined AL, 2 workers, slim bridges', args: ['--method', 'al', '--al-layers', '2', '--pipeline', '--workers', '2', '--bridge', 'slim'] },
  { name: 'al-pipeline-lean', label: 'pipelined AL, 2 workers, lean bridges', args: ['--method', 'al', '--al-layers', '2', '--pipeline', '--workers', '2', '--bridge', 'lean'] },
];

export const RACE_FLAGS: FlagSpec = {
  datasets: { type: 'string' }, configs: { type: 'string' }, quick: { type: 'boolean' }, 'eval-every': { type: 'string' }, 'max-seconds': { type: 'string' },
};

/** The reproduce flags the race does not take. */
const OTHER_FLAGS = ['only', 'project', 'project-steps'];

export const RACE_DEFAULT_EVAL_EVERY = 100;
const QUICK = { limit: 256, epochs: 1, evalEvery: 1 };

export interface RaceSettings {
  benchmarks: Benchmark[];
  configs: (typeof RACE_CONFIGS)[number][];
  /** percent, by benchmark name */
  targets: Record<string, number>;
  evalEvery: number;
  epochs: number | undefined;
  maxSeconds: number | undefined;
  limit: number | undefined;
  dataDir: string | undefined;
  out: string;
}

function pick<T extends { name: string }>(flag: string, raw: string | undefined, all: readonly T[]): T[] {
  if (raw === undefined) return [...all];
  const names = raw.split(',').map((n) => n.trim()).filter((n) => n !== '');
  const unknown = names.filter((n) => !all.some((x) => x.name === n));
  if (names.length === 0 || unknown.length > 0) throw new UsageError(`--${flag}: expected names among ${all.map((x) => x.name).join(', ')}, got '${unknown.join(',') || raw}'`);
  return all.filter((x) => names.includes(x.name));
}

function percent(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > 100) throw new UsageError(`--${flag}: expected a test accuracy in percent, above 0 and at most 100, got '${text}'`);
  return value;
}

/** --target PCT (every benchmark) or NAME=PCT,... (those named). */
export function parseTargets(raw: string | undefined, benchmarks: readonly Benchmark[]): Record<string, number> {
  const targets = Object.fromEntries(benchmarks.map((b) => [b.name, b.target]));
  if (raw === undefined) return targets;
  if (!raw.includes('=')) return Object.fromEntries(benchmarks.map((b) => [b.name, percent('target', raw)]));
  for (const part of raw.split(',')) {
    const [name, value, extra] = part.split('=').map((x) => x.trim());
    if (extra !== undefined || !name || value === undefined) throw new UsageError(`--target: expected PCT or NAME=PCT,... (NAME among ${BENCHMARKS.map((b) => b.name).join(', ')}), got '${raw}'`);
    if (!BENCHMARKS.some((b) => b.name === name)) throw new UsageError(`--target: expected names among ${BENCHMARKS.map((b) => b.name).join(', ')}, got '${name}'`);
    if (name in targets) targets[name] = percent('target', value);
  }
  return targets;
}

export function parseRaceSettings(values: Parsed['values']): RaceSettings {
  for (const flag of OTHER_FLAGS) if (values[flag] !== undefined) throw new UsageError(`--${flag}: not for time-to-accuracy (--datasets and --configs select its runs)`);
  const quick = values['quick'] === true;
  const benchmarks = pick('datasets', str(values, 'datasets'), BENCHMARKS);
  const dataDir = str(values, 'data-dir');
  if (dataDir !== undefined && new Set(benchmarks.map((b) => b.dataset)).size > 1) {
    throw new UsageError('--data-dir: MNIST and Fashion-MNIST are in different folders; select one of them with --datasets');
  }
  const maxText = str(values, 'max-seconds');
  const maxSeconds = maxText === undefined ? undefined : Number(maxText);
  if (maxSeconds !== undefined && (maxText!.trim() === '' || !(maxSeconds > 0) || !Number.isFinite(maxSeconds))) throw new UsageError(`--max-seconds: expected a number of seconds > 0, got '${maxText}'`);
  const optional = (flag: string, fallback: number | undefined): number | undefined => (values[flag] === undefined ? fallback : int(values, flag, 0));
  return {
    benchmarks, configs: pick('configs', str(values, 'configs'), RACE_CONFIGS), targets: parseTargets(str(values, 'target'), benchmarks),
    evalEvery: optional('eval-every', quick ? QUICK.evalEvery : RACE_DEFAULT_EVAL_EVERY)!,
    epochs: optional('epochs', quick ? QUICK.epochs : undefined), maxSeconds, limit: optional('limit', quick ? QUICK.limit : undefined),
    dataDir, out: join(str(values, 'out') ?? join('runs', 'reproduce'), 'time-to-accuracy'),
  };
}

export interface RaceRunPlan {
  benchmark: Benchmark;
  config: (typeof RACE_CONFIGS)[number];
  dir: string;
  target: number;
  args: string[];
}

export function racePlan(s: RaceSettings): RaceRunPlan[] {
  return s.benchmarks.flatMap((b) => s.configs.filter((c) => c.models?.includes(b.model) ?? true).map((c) => ({
    benchmark: b, config: c, dir: join(s.out, b.name, c.name), target: s.targets[b.name]!,
    args: [
      '--model', b.model, '--dataset', b.dataset, ...c.args, '--epochs', String(s.epochs ?? b.epochs),
      '--eval-every', String(s.evalEvery), '--until-accuracy', String(s.targets[b.name]),
      ...(s.maxSeconds !== undefined ? ['--max-seconds', String(s.maxSeconds)] : []),
      ...(s.limit !== undefined ? ['--limit', String(s.limit)] : []), ...(s.dataDir !== undefined ? ['--data-dir', s.dataDir] : []),
    ],
  })));
}

/** Settings a run found in a plan's directory must share with it to be reused. */
const IDENTITY: (keyof TrainConfig)[] = ['model', 'dataset', 'method', 'pipeline', 'workers', 'alLayers', 'bridge', 'hidden', 'threads', 'microBatches', 'limit', 'epochs', 'batch', 'seed', 'evalEvery', 'untilAccuracy', 'maxSeconds'];

function checkSameRun(plan: RaceRunPlan): void {
  const expected = parseTrainConfig([...plan.args, '--out', plan.dir]);
  if (expected === 'help') throw new Error('unreachable: no --help given');
  const saved = readRunConfig(plan.dir);
  for (const key of IDENTITY) {
    const have = saved[key] ?? null, want = expected[key] ?? null;
    if (JSON.stringify(have) !== JSON.stringify(want)) {
      throw new UsageError(`${plan.dir}: holds a run with ${key} ${JSON.stringify(have)}, but ${plan.benchmark.name} ${plan.config.name} needs ${key} ${JSON.stringify(want)}: ` +
        'give another --out, or remove that folder to race it again');
    }
  }
}

/** A run that ended as the race asks: at its target, its time budget, or its last epoch. */
function finished(plan: RaceRunPlan, config: TrainConfig): boolean {
  if (!existsSync(join(plan.dir, EVALS_FILE))) return false;
  const records = readEvals(plan.dir);
  const last = records[records.length - 1];
  if (!last) return false;
  let epochs = 0;
  try {
    epochs = (JSON.parse(readFileSync(join(plan.dir, 'checkpoint.json'), 'utf8')) as { epoch?: number }).epoch ?? 0;
  } catch {
    // no finished epoch
  }
  return records.some((r) => r.testAccuracy >= plan.target / 100) || (config.maxSeconds !== undefined && last.seconds >= config.maxSeconds) || epochs >= config.epochs;
}

const RUN_FILES = ['config.json', 'metrics.jsonl', EVALS_FILE, 'steps.jsonl', 'trace.json', 'checkpoint.json', 'checkpoint.safetensors', 'checkpoint.prev.safetensors'];

/** Trains (or reuses) one run of the race. */
async function raceRun(plan: RaceRunPlan, step: string, log: (line: string) => void): Promise<void> {
  const name = `${plan.benchmark.name} ${plan.config.name}`;
  if (existsSync(join(plan.dir, 'config.json'))) {
    if (finished(plan, readRunConfig(plan.dir))) {
      log(`${step} ${name}: reusing ${plan.dir}`);
      return;
    }
    log(`${step} ${name}: ${plan.dir} did not finish: starting it again (a resumed run's clock would restart)`);
    for (const file of RUN_FILES) rmSync(join(plan.dir, file), { force: true });
  }
  log(`${step} ${name}: al train ${plan.args.join(' ')} --out ${plan.dir}`);
  await runAl(['train', ...plan.args, '--out', plan.dir]);
}

export async function raceCommand(values: Parsed['values']): Promise<number> {
  const settings = parseRaceSettings(values);
  const json = values['json'] === true;
  const log = (line: string): void => {
    if (!json) process.stdout.write(line + '\n');
  };
  const plan = racePlan(settings);
  // every run found is this race's before the first one starts
  for (const p of plan) if (existsSync(join(p.dir, 'config.json'))) checkSameRun(p);
  for (const [i, p] of plan.entries()) await raceRun(p, `[${i + 1}/${plan.length}]`, log);
  const runs: RaceRun[] = plan.map((p) => ({
    benchmark: p.benchmark.name, config: p.config.name, label: p.config.label, runDir: p.dir, target: p.target / 100, records: readEvals(p.dir),
    trainMacsPerSample: (readRunConfig(p.dir) as { trainMacsPerSample?: number }).trainMacsPerSample,
  }));
  const rows = raceRows(runs);
  mkdirSync(settings.out, { recursive: true });
  const charts = settings.benchmarks.map((b) => {
    const svg = raceSvg(b.title, runs.filter((r) => r.benchmark === b.name));
    const file = join(settings.out, `${b.name}.svg`);
    writeFileAtomic(file, svg);
    return { benchmark: b.name, title: b.title, svg, file };
  });
  const html = join(settings.out, 'report.html');
  writeFileAtomic(html, raceHtml(rows, charts));
  log('');
  log(`Time to accuracy (this machine), ${settings.evalEvery === 1 ? 'every step' : `every ${settings.evalEvery} steps`} evaluated`);
  for (const line of [...table(RACE_HEADER, raceCells(rows)), ...RACE_NOTES.map((l) => `  ${l}`)]) log(line);
  log(`report: ${html}, charts: ${charts.map((c) => c.file).join(', ')}`);
  if (json) process.stdout.write(JSON.stringify({ table: 'time-to-accuracy', evalEvery: settings.evalEvery, rows, report: html, svg: charts.map((c) => c.file) }) + '\n');
  return 0;
}
