// `al analyze RUN_DIR`: the paper's analyses of a trained run, from its run directory:
// per-layer losses (metrics.jsonl), class distances of each layer's representation and accuracy
// per exit layer (config.json + checkpoint.safetensors + the test set), and for pipelined runs the
// measured timeline beside the simulated schedule and the throughput projection (trace.json);
// t-SNE plots of the input and the layers (analyze_tsne.ts). Every invocation also merges what it
// found into RUN_DIR/analysis.json (analysis_file.ts), which al report reads.
// The maths is in src/analysis/; this file reads the files, checks the flags and prints.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { exitAccuracies } from '../../analysis/exit_accuracy.js';
import { AnalysisError } from '../../analysis/errors.js';
import { layerCodeRows } from '../../analysis/layer_codes.js';
import { SLIDES_ASSOCIATED_LOSS, layerLossTable, parseMetrics, type MetricsRecord } from '../../analysis/layer_losses.js';
import { alProbe, measureDistances, sampleSplit, sequentialProbe, targetInterDistance, withInput } from '../../analysis/representations.js';
import { chartWindow, epochBatches, lastEpoch, parseTrace, projectTimeline, simulatedSchedule, traceStats, weightedSchedule } from '../../analysis/trace_stats.js';
import type { Dataset } from '../../data/dataset.js';
import { ganttSvg } from '../../report/gantt_svg.js';
import { utilisation } from '../../pipeline/plan/utilisation.js';
import { writeFileAtomic } from '../../train/run_dir.js';
import { int, parseFlags, str, type FlagSpec, type Parsed } from '../args.js';
import { UsageError } from '../errors.js';
import { loadRunDataset } from '../../run/run_config.js';
import { loadRunModel } from '../../run/saved_run.js';
import type { Trainable } from '../../run/trainable.js';
import { useNativeBackend } from '../runtime.js';
import { saveAnalysis } from '../analysis_file.js';
import { DEFAULT_ITERATIONS, DEFAULT_PERPLEXITY, tsneFlags, tsneSettings, tsneUntilCtrlC } from './analyze_tsne.js';
import { distanceText, exitText, layerCodeText, layerLossText, projectionText, stageText } from './analyze_text.js';
import { readTrainConfig as readRunConfig } from '../../run/train_config.js';
import type { TrainConfig } from '../../run/train_config.js';

export const analyzeUsage = `Usage: al analyze RUN_DIR [--layer-losses] [--layer-codes] [--distance-ratio] [--exit-accuracy] [--timeline] [--tsne] [options]

Analyses of a run directory written by al train. Without a selection flag, every analysis that
applies to the run but t-SNE: AL runs get the first five (the timeline when RUN_DIR has
trace.json, written by al train --method al --pipeline --trace), BP runs the distance ratios.
Every invocation also writes RUN_DIR/analysis.json: the object --json prints, merged over the
one an earlier invocation wrote (its other analyses are kept).

  --layer-losses     AL: each layer's associated and autoencoder loss in the first and last
                     epoch (metrics.jsonl), how much the associated loss falls with depth,
                     and the authors' slide (MNIST, 200 epochs; columns: networks of 1, 2, 3
                     AL layers) to read it against
  --layer-codes      AL: measures that compare across layers, on the test set. Class code
                     t_k(c) = g_k(...g_1(one-hot c)); code spread S_k = mean over pairs of
                     distinct classes of mean((t_k(c) - t_k(c'))^2), the loss's own units;
                     normalised loss = associated / S_k (test set, and the last epoch's training
                     loss): 0 = on its code, about 1 = as far from it as codes are from each
                     other; nearest-code accuracy = how often b_k(s_k) is nearest to its own
                     class's code. The raw loss scales with S_k, which changes with depth
  --distance-ratio   inter-class and intra-class distance of each layer's representation and
                     their ratio, on test samples: intra = mean over classes of the mean
                     distance of a class's points to its centroid, inter = mean distance
                     between class centroids, ratio = inter / intra (higher = better separated).
                     AL: s_k, b_k(s_k) and t_k; BP: each top-level module's output; the input
                     x as the baseline
  --exit-accuracy    AL: test accuracy predicting from each AL layer 1..L
  --timeline         pipelined runs: each stage's utilisation and the bubble from trace.json,
                     the measured and the simulated Gantt charts (SVG), and samples/s
                     projected for 1, 2, 4, 8 devices beside the measured figure
  --tsne             t-SNE (Barnes–Hut) of the test samples' input x and of their representation
                     at each AL layer's s_k (BP: the penultimate top-level module, the
                     classifier's input), or at --layer K; one scatter plot per representation,
                     coloured by class: tsne-input.svg, tsne-layer-K.svg. Ctrl-C stops it
                     (exit 130; the plots finished by then stay, analysis.json keeps the old t-SNE)
  --layer K          --distance-ratio, --tsne: only layer K (AL: 1..L; BP: top-level module 1..M)
  --samples N        --distance-ratio, --tsne: test samples, a seeded choice (default 2000;
                     t-SNE of 5,000 takes 15 to 25 s a representation here)
  --seed S           --distance-ratio, --tsne: seed of that choice and of t-SNE (default 1)
  --perplexity P     --tsne: effective neighbours of each point, >= 1 and 3·P below --samples
                     (default ${DEFAULT_PERPLEXITY})
  --iterations N     --tsne: gradient steps (default ${DEFAULT_ITERATIONS})
  --svg-dir DIR      --timeline, --tsne: where the SVG charts go (default RUN_DIR)
  --data-dir DIR     read the dataset from DIR instead of the run's
  --threads T        compute threads (t-SNE: default 1, see docs/cli.md)
  --json             print one JSON object with every table as the last line of stdout
  -h, --help         this text
`;

const flags: FlagSpec = {
  'layer-losses': { type: 'boolean' }, 'layer-codes': { type: 'boolean' }, 'distance-ratio': { type: 'boolean' }, 'exit-accuracy': { type: 'boolean' },
  timeline: { type: 'boolean' }, tsne: { type: 'boolean' }, layer: { type: 'string' }, samples: { type: 'string' },
  seed: { type: 'string' }, perplexity: { type: 'string' }, iterations: { type: 'string' }, 'svg-dir': { type: 'string' }, 'data-dir': { type: 'string' }, threads: { type: 'string' },
  json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
};

/** Charts of longer traces show the first batches only: this many intervals at most. */
export const MAX_CHART_INTERVALS = 4000;
const DEFAULT_SAMPLES = 2000;

interface Selection {
  layerLosses: boolean;
  layerCodes: boolean;
  distanceRatio: boolean;
  exitAccuracy: boolean;
  timeline: boolean;
  tsne: boolean;
}

function readText(file: string, why: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new AnalysisError(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ${why}`);
  }
}

function checkRunDir(runDir: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(runDir).isDirectory();
  } catch (error) {
    throw new AnalysisError(`${runDir}: cannot read the run directory (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!isDir) throw new AnalysisError(`${runDir}: not a directory; expected a run directory written by al train`);
}

function select(values: Parsed['values'], config: TrainConfig, runDir: string, hasTrace: boolean): Selection {
  const isAL = config.method === 'al';
  const explicit = ['layer-losses', 'layer-codes', 'distance-ratio', 'exit-accuracy', 'timeline', 'tsne'].some((f) => values[f] === true);
  const s: Selection = explicit
    ? { layerLosses: values['layer-losses'] === true, layerCodes: values['layer-codes'] === true, distanceRatio: values['distance-ratio'] === true, exitAccuracy: values['exit-accuracy'] === true, timeline: values['timeline'] === true, tsne: values['tsne'] === true }
    : { layerLosses: isAL, layerCodes: isAL, distanceRatio: true, exitAccuracy: isAL, timeline: hasTrace, tsne: false };
  const what = { 'layer-losses': 'per-layer losses', 'layer-codes': 'class codes t_k', 'exit-accuracy': 'exit layers' } as const;
  for (const [flag, on] of [['layer-losses', s.layerLosses], ['layer-codes', s.layerCodes], ['exit-accuracy', s.exitAccuracy]] as const) {
    if (on && !isAL) throw new UsageError(`--${flag}: only AL runs have ${what[flag]}; ${runDir} is a --method ${config.method} run`);
  }
  if (s.timeline && !hasTrace) {
    throw new AnalysisError(`${join(runDir, 'trace.json')}: not found; --timeline needs the trace of a pipelined run (al train --method al --pipeline --trace)`);
  }
  for (const flag of ['layer', 'samples', 'seed']) {
    if (values[flag] !== undefined && !s.distanceRatio && !s.tsne) throw new UsageError(`--${flag}: only applies to --distance-ratio and --tsne`);
  }
  for (const flag of ['perplexity', 'iterations']) {
    if (values[flag] !== undefined && !s.tsne) throw new UsageError(`--${flag}: only applies to --tsne`);
  }
  if (values['svg-dir'] !== undefined && !s.timeline && !s.tsne) throw new UsageError('--svg-dir: only applies to --timeline and --tsne');
  return s;
}

function metricsOf(runDir: string, why: string): MetricsRecord[] {
  const file = join(runDir, 'metrics.jsonl');
  return parseMetrics(readText(file, why), file);
}

/** What --distance-ratio and --tsne look at: --layer (undefined: every one), --samples, --seed. */
interface Sampling {
  layer: number | undefined;
  samples: number;
  seed: number;
}

function sampling(values: Parsed['values'], model: Trainable, data: Dataset): Sampling {
  const depth = model.al ? model.depth : model.bp!.model.layers.length;
  const what = model.al ? `AL layers 1..${depth}` : `top-level modules 1..${depth}`;
  if (values['layer'] !== undefined && !/^\d+$/.test(String(values['layer']).trim())) throw new UsageError(`--layer: expected an integer among the ${what}, got '${values['layer']}'`);
  const layer = values['layer'] === undefined ? undefined : Number(values['layer']);
  if (layer !== undefined && (layer < 1 || layer > depth)) throw new UsageError(`--layer: expected one of the ${what}, got ${layer}`);
  const samples = int(values, 'samples', Math.min(DEFAULT_SAMPLES, data.test.n), 2, data.test.n);
  return { layer, samples, seed: int(values, 'seed', 1, 0) };
}

function distances({ layer, samples, seed }: Sampling, model: Trainable, data: Dataset): { json: object; text: string[] } {
  const depth = model.al ? model.depth : model.bp!.model.layers.length;
  const layers = layer === undefined ? Array.from({ length: depth }, (_, i) => i + 1) : [layer];
  const sample = sampleSplit(data.test, samples, seed);
  const probe = model.al ? alProbe(model.al.net, layers) : sequentialProbe(model.bp!.model, layers);
  const rows = measureDistances(withInput(probe), sample);
  const present = [...new Set(sample.labels)].sort((a, b) => a - b);
  const targets = model.al ? targetInterDistance(model.al.net, layers, present) : [];
  return {
    json: { samples, seed, rows, targets: targets.map((t) => ({ ...t, intra: 0, ratio: null })) },
    text: distanceText(rows, targets, samples, seed),
  };
}

/** --layer-codes on the whole test set, with the last epoch's training loss (when metrics.jsonl has it) over the same spread. */
function layerCodes(runDir: string, model: Trainable, data: Dataset): { json: object; text: string[] } {
  const rows = layerCodeRows(model.al!.net, data.test);
  let train: { epoch: number; layers: NonNullable<MetricsRecord['layers']> } | null = null;
  if (existsSync(join(runDir, 'metrics.jsonl'))) {
    const last = metricsOf(runDir, 'the training loss comes from it').filter((r) => r.layers?.length === rows.length).pop();
    if (last) train = { epoch: last.epoch, layers: last.layers! };
  }
  const trainNormalised = train ? rows.map((r) => (r.spread > 0 ? train!.layers[r.layer - 1]!.associatedLoss / r.spread : null)) : null;
  return {
    json: { samples: data.test.n, rows, train: train ? { epoch: train.epoch, associated: train.layers.map((l) => l.associatedLoss), normalised: trainNormalised } : null },
    text: layerCodeText(rows, train, data.test.n),
  };
}

function timeline(values: Parsed['values'], config: TrainConfig, runDir: string): { json: object; text: string[] } {
  const traceFile = join(runDir, 'trace.json');
  const trace = parseTrace(readText(traceFile, 'the timeline needs it'), traceFile);
  const records = metricsOf(runDir, 'the timeline compares the projection with the measured samples/s in it');
  const last = records[records.length - 1]!;
  const perEpoch = epochBatches(records, config.batch);
  const stats = traceStats(trace, perEpoch);
  // the projection from the steps of the epoch whose samples/s it is compared with
  const final = lastEpoch(trace, perEpoch);
  const projection = projectTimeline(final ? traceStats(final.trace) : stats, { batchSize: config.batch, measuredSamplesPerSec: last.samplesPerSec });
  const window = chartWindow(trace, MAX_CHART_INTERVALS, perEpoch);
  const sim = simulatedSchedule(trace, window.batches);
  const simUse = utilisation(sim.intervals, sim.stages);
  const weighted = weightedSchedule(final ? traceStats(final.trace) : stats, window.batches);
  const weightedUse = utilisation(weighted.intervals, weighted.stages);
  const dir = str(values, 'svg-dir') ?? runDir;
  const files = { measured: join(dir, 'timeline-measured.svg'), simulated: join(dir, 'timeline-simulated.svg') };
  const shown = (window.epoch === null ? '' : `, epoch ${window.epoch}`) +
    (window.batches < stats.batches ? `, batches ${window.firstBatch + 1}–${window.firstBatch + window.batches} of ${stats.batches}` : `, ${stats.batches} batches`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(files.measured, ganttSvg(window.intervals, {
      title: `measured: ${config.model} AL on ${trace.stages.length} worker threads${shown}`, unit: 'ms',
      stageLabels: trace.stages.map((s) => `S${s.stage + 1} (AL ${s.layers.join('+')})`),
    }));
    writeFileAtomic(files.simulated, ganttSvg(sim.intervals, {
      title: `simulated: AL, ${sim.layers} layers on ${sim.stages} stages, ${sim.batches} batches: ${sim.totalUnits} units, ${sim.unitsPerUpdate} per update after a fill of ${sim.fillUnits}`,
      unit: 'units', stageLabels: sim.stageLabels,
    }));
  } catch (error) {
    throw new UsageError(`--svg-dir ${dir}: cannot write the charts (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const simulated = {
    layers: sim.layers, stages: sim.stages, batches: sim.batches, totalUnits: sim.totalUnits, unitsPerUpdate: sim.unitsPerUpdate,
    fillUnits: sim.fillUnits, utilisation: simUse.perStage, bubble: simUse.bubble,
    measuredCosts: { totalMs: weighted.totalUnits, msPerUpdate: weighted.unitsPerUpdate, fillMs: weighted.fillUnits, utilisation: weightedUse.perStage, bubble: weightedUse.bubble },
  };
  return {
    json: { stages: stats.stages, batches: stats.batches, spanMs: stats.spanMs, bubble: stats.bubble, inEpochs: stats.inEpochs, lastEpochUtilisation: last.utilisation ?? null, simulated, projection, projectionEpoch: final?.epoch ?? null, svg: files },
    text: [
      ...stageText(stats, last.utilisation),
      `Simulated AL schedule (unit steps, as in the authors' slides), ${sim.layers} layers on ${sim.stages} stages, ${sim.batches} batches: ${sim.totalUnits} units, bubble ${(100 * simUse.bubble).toFixed(1)}%, ` +
        `busy ${simUse.perStage.map((u) => `${Math.round(100 * u)}%`).join('/')}`,
      `The same schedule with the measured step costs: ${weighted.unitsPerUpdate.toFixed(1)} ms per update, bubble ${(100 * weightedUse.bubble).toFixed(1)}%, ` +
        `busy ${weightedUse.perStage.map((u) => `${Math.round(100 * u)}%`).join('/')}`,
      ...projectionText(projection, final ? `epoch ${final.epoch}` : 'the whole trace'),
      `Gantt charts: ${files.measured} (measured${shown}), ${files.simulated} (simulated)`,
    ],
  };
}

/** Exit code of a t-SNE stopped by Ctrl-C: the shell's for a process ended by SIGINT. */
export const EXIT_INTERRUPTED = 130;

export async function analyzeCommand(argv: string[], write: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const { values, positionals } = parseFlags(argv, flags, true);
  if (values['help']) {
    write(analyzeUsage);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one RUN_DIR, got ${positionals.length}`);
  const runDir = positionals[0]!;
  checkRunDir(runDir);
  const config = readRunConfig(runDir);
  const selection = select(values, config, runDir, existsSync(join(runDir, 'trace.json')));
  if (selection.tsne) tsneFlags(values); // bad values exit before the data loads
  const json: Record<string, unknown> = { runDir, model: config.model, dataset: config.dataset, method: config.method };
  const text: string[] = [`${runDir}: ${config.model} on ${config.dataset}, method ${config.method}${config.pipeline ? ' (pipelined)' : ''}`];
  const add = (key: string, part: { json: unknown; text: string[] }): void => {
    json[key] = part.json;
    text.push('', ...part.text);
  };
  const warn = (message: string): void => void process.stderr.write(`al analyze: ${message}\n`);
  let interrupted = false;

  if (selection.layerLosses) {
    const file = join(runDir, 'metrics.jsonl');
    const t = layerLossTable(metricsOf(runDir, 'the per-layer losses come from it'), file);
    add('layerLosses', { json: { ...t, slides: SLIDES_ASSOCIATED_LOSS }, text: layerLossText(t) });
  }
  if (selection.layerCodes || selection.distanceRatio || selection.exitAccuracy || selection.tsne) {
    const threads = values['threads'] === undefined ? undefined : int(values, 'threads', 1, 1, 256);
    const backend = await useNativeBackend(threads);
    const data = loadRunDataset(config, str(values, 'data-dir'));
    const { model } = loadRunModel(runDir, config, { shape: data.test.shape, classes: data.test.classes });
    const sample = sampling(values, model, data);
    // every flag checked before the first analysis starts
    const tsne = selection.tsne ? tsneSettings(values, model, sample.layer, sample.samples, sample.seed, runDir) : null;
    if (selection.layerCodes) add('layerCodes', layerCodes(runDir, model, data));
    if (selection.distanceRatio) add('distanceRatio', distances(sample, model, data));
    if (selection.exitAccuracy) {
      const accuracies = exitAccuracies(model.al!.net, data.test);
      add('exitAccuracy', { json: accuracies.map((testAccuracy, i) => ({ exit: i + 1, testAccuracy })), text: exitText(accuracies) });
    }
    if (tsne) {
      const result = await tsneUntilCtrlC(tsne, model, data, `${config.model} on ${config.dataset}, method ${config.method}`, backend, threads);
      if (result) add('tsne', result);
      else interrupted = true;
    }
  }
  if (selection.timeline) add('timeline', timeline(values, config, runDir));

  let saveError: unknown = null;
  try {
    const file = saveAnalysis(runDir, json, warn);
    text.push('', `Saved in ${file}${interrupted ? ' (without t-SNE, stopped by Ctrl-C)' : ''}`);
  } catch (error) {
    saveError = error;
  }
  write(values['json'] ? JSON.stringify(json) + '\n' : text.join('\n') + '\n');
  if (saveError) throw saveError;
  if (interrupted) {
    warn(`t-SNE stopped by Ctrl-C: the scatter plots finished before it are written; analysis.json keeps its earlier t-SNE, if any`);
    return EXIT_INTERRUPTED;
  }
  return 0;
}
