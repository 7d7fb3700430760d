// The report's charts as plain data (ChartSpec), built from the runs; the page's script
// (page_script.ts) turns each spec into a Chart.js chart. Keeping the specs library-free keeps
// them testable here and the page's data in one JSON block.
import { layerLossTable } from '../analysis/layer_losses.js';
import type { StepRecord } from '../train/step_log.js';
import type { EpochRecord, ReportRun } from './run_files.js';

export interface Series {
  label: string;
  colour: string;
  dashed?: boolean;
  /** line and scatter charts: x0, y0, x1, y1, … (flat, to keep the page small) */
  xy?: number[];
  /** bar charts: one value per category, null where the run has none */
  values?: (number | null)[];
}

export interface Axis {
  label: string;
  log?: boolean;
  /** ticks at whole numbers only (epochs) */
  integer?: boolean;
  min?: number;
  max?: number;
}

export interface ChartSpec {
  id: string;
  kind: 'line' | 'scatter' | 'bar';
  title: string;
  x: Axis;
  y: Axis;
  /** bar charts: the categories */
  categories?: string[];
  series: Series[];
  /** where the chart goes on the page: its section, and a group drawn side by side (t-SNE: one column per run) */
  section: string;
  /** t-SNE: many classes make the legend useless */
  legend?: boolean;
}

/** Tableau 10: distinct, colour-blind-friendly hues (the Gantt charts use its first four). */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export function colour(i: number): string {
  if (i < PALETTE.length) return PALETTE[i]!;
  // past 10 (CIFAR-100's classes): hues spread by the golden angle
  return `hsl(${Math.round((i * 137.508) % 360)}, 60%, 50%)`;
}

/** 6 significant digits: charts need no more, and the page stays small. */
const round = (x: number): number => Number(x.toPrecision(6));

function xy(records: readonly EpochRecord[], y: (r: EpochRecord) => number | null | undefined): number[] {
  const out: number[] = [];
  for (const r of records) {
    const v = y(r);
    if (typeof v === 'number' && Number.isFinite(v)) out.push(r.epoch, round(v));
  }
  return out;
}

export function runLabel(run: ReportRun): string {
  const method = String(run.config['method'] ?? run.metrics[0]?.method ?? '?');
  return `${run.name} (${method}${run.config['pipeline'] === true && method === 'al' ? ', pipelined' : ''})`;
}

// ***** curves *****

function curveCharts(runs: readonly ReportRun[]): ChartSpec[] {
  const epoch: Axis = { label: 'epoch', integer: true };
  const charts: ChartSpec[] = [{
    id: 'test-accuracy', kind: 'line', section: 'curves', title: 'Test accuracy', x: epoch, y: { label: 'test accuracy (%)' },
    series: runs.map((r, i) => ({ label: runLabel(r), colour: colour(i), xy: xy(r.metrics, (m) => 100 * m.testAccuracy) })),
  }];
  const trained = runs.map((r, i) => ({ r, i })).filter(({ r }) => r.metrics.some((m) => typeof m.trainAccuracy === 'number'));
  if (trained.length > 0) {
    charts.push({
      id: 'train-accuracy', kind: 'line', section: 'curves', title: 'Training accuracy (during each epoch)', x: epoch, y: { label: 'training accuracy (%)' },
      series: trained.map(({ r, i }) => ({ label: runLabel(r), colour: colour(i), xy: xy(r.metrics, (m) => (typeof m.trainAccuracy === 'number' ? 100 * m.trainAccuracy : null)) })),
    });
  }
  runs.forEach((r, i) => {
    const values = xy(r.metrics, (m) => m.trainLoss);
    if (values.length === 0) return;
    const positive = values.every((v, k) => k % 2 === 0 || v > 0);
    const what = r.metrics.some((m) => m.layers) ? 'the sum of every AL layer\'s two losses' : 'cross-entropy';
    charts.push({
      id: `loss-${i}`, kind: 'line', section: 'curves', title: `Training loss: ${runLabel(r)}`, x: epoch, y: { label: `loss (${what})`, log: positive },
      series: [{ label: 'training loss', colour: colour(i), xy: values }],
    });
  });
  charts.push({
    id: 'throughput', kind: 'line', section: 'curves', title: 'Training throughput', x: epoch, y: { label: 'samples/s', min: 0 },
    series: runs.map((r, i) => ({ label: runLabel(r), colour: colour(i), xy: xy(r.metrics, (m) => m.samplesPerSec) })),
  });
  return charts;
}

// ***** per-layer losses *****

function layerLossCharts(runs: readonly ReportRun[]): ChartSpec[] {
  const charts: ChartSpec[] = [];
  runs.forEach((r, i) => {
    const withLayers = r.metrics.filter((m) => m.layers && m.layers.length > 0);
    if (withLayers.length === 0) return;
    const depth = Math.max(...withLayers.map((m) => m.layers!.length));
    const series: Series[] = [];
    for (let k = 0; k < depth; k++) {
      series.push({ label: `layer ${k + 1} associated`, colour: colour(k), xy: xy(withLayers, (m) => m.layers![k]?.associatedLoss) });
      series.push({ label: `layer ${k + 1} autoencoder`, colour: colour(k), dashed: true, xy: xy(withLayers, (m) => m.layers![k]?.autoencoderLoss) });
    }
    // log axes cannot show zeros: drop them (a loss of exactly 0 is not a trend anyone reads)
    for (const s of series) s.xy = s.xy!.filter((_, j, a) => (j % 2 === 0 ? a[j + 1]! > 0 : a[j]! > 0));
    charts.push({
      id: `layer-losses-${i}`, kind: 'line', section: 'layers', title: `Per-layer losses: ${runLabel(r)}`, x: { label: 'epoch', integer: true },
      y: { label: 'loss (log scale)', log: true }, series: series.filter((s) => s.xy!.length > 0),
    });
  });
  return charts;
}

/** The last epoch's associated loss of layer 1 over layer L, per AL run (the authors' slides: it falls with depth). */
export function depthRatios(runs: readonly ReportRun[]): { run: ReportRun; table: ReturnType<typeof layerLossTable> }[] {
  return runs.filter((r) => r.metrics.some((m) => m.layers && m.layers.length > 0)).map((run) => ({ run, table: layerLossTable(run.metrics, `${run.dir}/metrics.jsonl`) }));
}

// ***** curves by step (steps.jsonl) *****

/** Lines of steps.jsonl drawn per run at most: more would only make the page heavy. */
export const MAX_STEP_POINTS = 2000;

/** Every k-th record (and the last), k chosen so that at most MAX_STEP_POINTS remain. */
function thin(steps: readonly StepRecord[]): StepRecord[] {
  const every = Math.ceil(steps.length / MAX_STEP_POINTS);
  if (every <= 1) return [...steps];
  return steps.filter((_, i) => i % every === 0 || i === steps.length - 1);
}

function stepXy(steps: readonly StepRecord[], y: (r: StepRecord) => number | undefined): number[] {
  const out: number[] = [];
  for (const r of steps) {
    const v = y(r);
    // log axes: only positive losses
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out.push(r.step, round(v));
  }
  return out;
}

/** Per run with steps.jsonl: each AL layer's two losses against the step (BP: the training loss). */
function stepLossCharts(runs: readonly ReportRun[]): ChartSpec[] {
  const charts: ChartSpec[] = [];
  const step: Axis = { label: 'training step (batch)', integer: true };
  runs.forEach((r, i) => {
    if (!r.steps || r.steps.length === 0) return;
    const steps = thin(r.steps);
    const depth = Math.max(0, ...steps.map((s) => s.layers?.length ?? 0));
    if (depth === 0) {
      charts.push({
        id: `step-loss-${i}`, kind: 'line', section: 'curves', title: `Training loss by step: ${runLabel(r)}`, x: step, y: { label: 'loss (log scale)', log: true },
        series: [{ label: 'training loss', colour: colour(i), xy: stepXy(steps, (s) => s.loss) }],
      });
      return;
    }
    const series: Series[] = [];
    for (let k = 0; k < depth; k++) {
      series.push({ label: `layer ${k + 1} associated`, colour: colour(k), xy: stepXy(steps, (s) => s.layers?.[k]?.associatedLoss) });
      series.push({ label: `layer ${k + 1} autoencoder`, colour: colour(k), dashed: true, xy: stepXy(steps, (s) => s.layers?.[k]?.autoencoderLoss) });
    }
    charts.push({
      id: `step-layer-losses-${i}`, kind: 'line', section: 'layers', title: `Per-layer losses by step: ${runLabel(r)}`, x: step,
      y: { label: 'loss (log scale)', log: true }, series: series.filter((s) => s.xy!.length > 0),
    });
  });
  return charts;
}

/**
 * Test accuracy after each epoch against the training time it was reached at (the epochs'
 * seconds summed, from metrics.jsonl), for the runs with steps.jsonl: methods that differ in
 * speed compared on the clock rather than by epoch.
 */
function accuracyTimeChart(runs: readonly ReportRun[]): ChartSpec[] {
  const timed = runs.map((r, i) => ({ r, i })).filter(({ r }) => (r.steps?.length ?? 0) > 0);
  if (timed.length === 0) return [];
  const series = timed.map(({ r, i }): Series => {
    let seconds = 0;
    const flat: number[] = [];
    for (const m of r.metrics) {
      seconds += m.seconds;
      if (Number.isFinite(m.testAccuracy)) flat.push(round(seconds), round(100 * m.testAccuracy));
    }
    return { label: runLabel(r), colour: colour(i), xy: flat };
  });
  return [{
    id: 'accuracy-time', kind: 'line', section: 'curves', title: 'Test accuracy against training time',
    x: { label: 'training time (s, after each epoch)', min: 0 }, y: { label: 'test accuracy (%)' }, series,
  }];
}

// ***** t-SNE *****

function tsneCharts(runs: readonly ReportRun[]): ChartSpec[] {
  const charts: ChartSpec[] = [];
  runs.forEach((r, i) => {
    r.analysis?.tsne?.layers.forEach((layer, k) => {
      const classes = [...new Set(layer.labels)].sort((a, b) => a - b);
      const series = classes.map((c): Series => {
        const flat: number[] = [];
        layer.labels.forEach((y, j) => {
          if (y === c) flat.push(round(layer.points[2 * j]!), round(layer.points[2 * j + 1]!));
        });
        return { label: `class ${c}`, colour: colour(c), xy: flat };
      });
      charts.push({
        id: `tsne-${i}-${k}`, kind: 'scatter', section: `tsne-${i}`, legend: classes.length <= 20,
        title: `${layer.name}${layer.kl === null ? '' : ` (KL ${layer.kl.toFixed(3)})`}`, x: { label: 't-SNE 1' }, y: { label: 't-SNE 2' }, series,
      });
    });
  });
  return charts;
}

// ***** exit accuracy, utilisation *****

function exitChart(runs: readonly ReportRun[]): ChartSpec[] {
  const withExits = runs.map((r, i) => ({ r, i })).filter(({ r }) => (r.analysis?.exitAccuracy?.length ?? 0) > 0);
  if (withExits.length === 0) return [];
  const depth = Math.max(...withExits.flatMap(({ r }) => r.analysis!.exitAccuracy!.map((e) => e.exit)));
  const categories = Array.from({ length: depth }, (_, k) => `exit ${k + 1}`);
  return [{
    id: 'exit-accuracy', kind: 'bar', section: 'exits', title: 'Test accuracy by exit layer', categories, x: { label: 'AL layer predicted from' }, y: { label: 'test accuracy (%)', min: 0 },
    series: withExits.map(({ r, i }) => ({
      label: runLabel(r), colour: colour(i),
      values: categories.map((_, k) => {
        const e = r.analysis!.exitAccuracy!.find((x) => x.exit === k + 1);
        return e === undefined ? null : round(100 * e.testAccuracy);
      }),
    })),
  }];
}

/** Per-stage utilisation of one pipelined run: each measured view beside the simulated schedule's. */
export function utilisationChart(run: ReportRun, index: number, views: { label: string; perStage: number[] }[], stageLabels: readonly string[]): ChartSpec {
  return {
    id: `utilisation-${index}`, kind: 'bar', section: `pipeline-${index}`, title: `Per-stage utilisation: ${runLabel(run)}`,
    categories: [...stageLabels], x: { label: 'stage' }, y: { label: 'busy share of the span (%)', min: 0, max: 100 },
    series: views.map((v, k) => ({ label: v.label, colour: colour(k), values: v.perStage.map((u) => round(100 * u)) })),
  };
}

/** Every chart of the report except the pipeline's (pipeline_section.ts adds those). */
export function reportCharts(runs: readonly ReportRun[]): ChartSpec[] {
  // in the order of the page's sections, as the page script expects them
  const steps = stepLossCharts(runs);
  const inSection = (section: string): ChartSpec[] => steps.filter((c) => c.section === section);
  return [...curveCharts(runs), ...accuracyTimeChart(runs), ...inSection('curves'), ...layerLossCharts(runs), ...inSection('layers'), ...tsneCharts(runs), ...exitChart(runs)];
}

/** Points a chart draws: what the page's script reports in data-rendered. */
export function pointCount(spec: ChartSpec): number {
  return spec.series.reduce((n, s) => n + (s.xy ? s.xy.length / 2 : (s.values ?? []).filter((v) => v !== null).length), 0);
}
