// The timeline of a pipelined run (trace.json, written by `al train --pipeline --trace`): each
// stage's measured busy intervals, what they say about the pipeline, the slides' time-unit AL
// schedule for the same stages and batches (src/pipeline/plan/simulator.ts), and the throughput
// projection (src/pipeline/plan/projection.ts) fed with the measured step times.
//
//   per stage     intervals, mean step ms, busy ms, utilisation = busy / span
//   bubble        1 − Σ busy / (stages · span), span from the first start to the last end
//                 (utilisation() of pipeline/plan/utilisation.ts). The span includes the drain at each epoch's
//                 end, where the coordinator collects the weights and measures test accuracy, so
//                 the same figures are also given inside the epochs only (their batches known
//                 from metrics.jsonl), which is what the pipeline itself achieves
//   mean step     the mean over a stage's intervals without its first one: the first batch pays
//                 for one-time work (JIT, oneDNN primitive creation, first-touch memory) and can
//                 take 50× a steady step, which no later batch repeats
//   projection    the AL layers' step times → samples/s on 1, 2, 4, 8 devices (projectAl). A stage
//                 that ran several AL layers gives each an equal share of its mean step (the trace
//                 times stages, not layers); the sum, and so the 1-device figure, is exact. The
//                 caller feeds it the last epoch's steps (lastEpoch) when it compares the result
//                 with the last epoch's measured samples/s: on a shared machine the speed drifts.
import { utilisation, type GanttInterval } from '../pipeline/plan/utilisation.js';
import { projectAl } from '../pipeline/plan/projection.js';
import { simulate, type Schedule } from '../pipeline/plan/simulator.js';
import { AnalysisError } from './errors.js';

export interface Trace {
  clock: string;
  /** stage k ran the AL layers `layers` (1-based) */
  stages: { stage: number; layers: number[] }[];
  intervals: GanttInterval[];
}

const KINDS = new Set(['forward', 'backward', 'step', 'update']);

function checkInterval(v: unknown, stages: number, where: string): GanttInterval {
  const i = v as Record<string, unknown>;
  const ok = typeof v === 'object' && v !== null && Number.isInteger(i['stage']) && (i['stage'] as number) >= 0 && (i['stage'] as number) < stages &&
    Number.isInteger(i['batch']) && (i['batch'] as number) >= 0 && KINDS.has(i['kind'] as string) &&
    Number.isFinite(i['start']) && Number.isFinite(i['end']) && (i['end'] as number) >= (i['start'] as number);
  if (!ok) throw new AnalysisError(`${where}: expected {stage: 0..${stages - 1}, batch >= 0, kind, start, end >= start}, got ${JSON.stringify(v)}`);
  return v as GanttInterval;
}

/** trace.json's contents, checked; errors name the file and the offending entry. */
export function parseTrace(text: string, file: string): Trace {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AnalysisError(`${file}: not JSON (${(error as Error).message})`);
  }
  const t = value as Record<string, unknown>;
  if (typeof value !== 'object' || value === null || !Array.isArray(t['stages']) || !Array.isArray(t['intervals'])) {
    throw new AnalysisError(`${file}: expected an object with 'stages' and 'intervals' lists`);
  }
  const stages = t['stages'] as unknown[];
  if (stages.length === 0) throw new AnalysisError(`${file}: 'stages' is empty`);
  stages.forEach((s, k) => {
    const r = s as Record<string, unknown>;
    const ok = typeof s === 'object' && s !== null && r['stage'] === k && Array.isArray(r['layers']) && r['layers'].length > 0 &&
      r['layers'].every((l: unknown) => Number.isInteger(l) && (l as number) >= 1);
    if (!ok) throw new AnalysisError(`${file}: stages[${k}]: expected {stage: ${k}, layers: [AL layers from 1]}, got ${JSON.stringify(s)}`);
  });
  const layers = (stages as Trace['stages']).flatMap((s) => s.layers);
  if (!layers.every((l, i) => l === i + 1)) {
    throw new AnalysisError(`${file}: expected the stages to hold AL layers 1..${layers.length} in order, once each, got ${JSON.stringify(layers)}`);
  }
  const intervals = (t['intervals'] as unknown[]).map((v, j) => checkInterval(v, stages.length, `${file}: intervals[${j}]`));
  if (intervals.length === 0) throw new AnalysisError(`${file}: no intervals recorded (the run stopped before its first batch)`);
  return { clock: typeof t['clock'] === 'string' ? t['clock'] : 'ms', stages: stages as Trace['stages'], intervals };
}

export interface StageStats {
  stage: number;
  layers: number[];
  intervals: number;
  /** mean interval length without the stage's first (warm-up) interval, ms */
  meanStepMs: number;
  /** the first interval's length, ms */
  firstStepMs: number;
  busyMs: number;
  utilisation: number;
}

/** Utilisation inside the epochs only: each epoch's own span, the drains between epochs left out. */
export interface InEpochUtilisation {
  perStage: number[];
  bubble: number;
  /** the sum of the epochs' spans */
  spanMs: number;
}

export interface TraceStats {
  stages: StageStats[];
  /** distinct batches in the trace */
  batches: number;
  spanMs: number;
  bubble: number;
  /** null without the batches of each epoch, or when they do not add up to the trace's */
  inEpochs: InEpochUtilisation | null;
}

/**
 * Batches of each epoch from metrics.jsonl: an epoch saw samplesPerSec × seconds samples (the
 * loop computes samplesPerSec as samples / seconds), in batches of `batchSize`, the last one
 * possibly short.
 */
export function epochBatches(records: readonly { samplesPerSec: number; seconds: number }[], batchSize: number): number[] {
  return records.map((r) => Math.ceil(Math.round(r.samplesPerSec * r.seconds) / batchSize));
}

/**
 * Batch indices count on across epochs (0, 1, … over the whole run), so epoch e holds the batches
 * [Σ_{j<e} b_j, Σ_{j≤e} b_j).
 */
function inEpochUtilisation(trace: Trace, perEpoch: readonly number[]): InEpochUtilisation | null {
  const total = perEpoch.reduce((s, b) => s + b, 0);
  if (perEpoch.length === 0 || total !== maxBatchOf(trace) + 1) return null;
  const stages = trace.stages.length;
  const busy = new Array<number>(stages).fill(0);
  let span = 0, first = 0;
  for (const batches of perEpoch) {
    const mine = trace.intervals.filter((i) => i.batch >= first && i.batch < first + batches);
    first += batches;
    if (mine.length === 0) continue;
    const use = utilisation(mine, stages);
    use.busy.forEach((b, k) => (busy[k]! += b));
    span += use.span;
  }
  if (span <= 0) return null;
  return { perStage: busy.map((b) => b / span), bubble: 1 - busy.reduce((s, b) => s + b, 0) / (stages * span), spanMs: span };
}

/** Per-stage figures and the bubble; `perEpoch` (batches of each epoch) adds the in-epoch figures. */
export function traceStats(trace: Trace, perEpoch?: readonly number[]): TraceStats {
  const use = utilisation(trace.intervals, trace.stages.length);
  const stages = trace.stages.map(({ stage, layers }) => {
    const mine = trace.intervals.filter((i) => i.stage === stage).sort((a, b) => a.batch - b.batch || a.start - b.start);
    const lengths = mine.map((i) => i.end - i.start);
    const steady = lengths.length > 1 ? lengths.slice(1) : lengths;
    return {
      stage, layers, intervals: mine.length,
      meanStepMs: steady.length > 0 ? steady.reduce((s, x) => s + x, 0) / steady.length : 0,
      firstStepMs: lengths[0] ?? 0,
      busyMs: use.busy[stage]!,
      utilisation: use.perStage[stage]!,
    };
  });
  return {
    stages, batches: new Set(trace.intervals.map((i) => i.batch)).size, spanMs: use.span, bubble: use.bubble,
    inEpochs: perEpoch ? inEpochUtilisation(trace, perEpoch) : null,
  };
}

/** Mean step ms of each AL layer, in layer order: a stage's mean shared equally by its layers. */
export function layerStepMs(stats: TraceStats): number[] {
  const perLayer: number[] = [];
  for (const s of stats.stages) for (const layer of s.layers) perLayer[layer - 1] = s.meanStepMs / s.layers.length;
  return perLayer;
}

export interface ProjectionRow {
  devices: number;
  /** null when there are more devices than AL layers to give them */
  samplesPerSec: number | null;
  msPerBatch: number | null;
}

export interface TimelineProjection {
  batchSize: number;
  layerStepMs: number[];
  rows: ProjectionRow[];
  /** the run's own stage count and its measured samples/s beside the projection for as many devices */
  measured: { stages: number; samplesPerSec: number; projected: number; deviation: number };
}

/**
 * Samples/s projected for each device count from the measured step times, and the measured
 * throughput of the run (metrics.jsonl, last epoch) beside the projection for its stage count.
 * deviation = measured / projected − 1.
 */
export function projectTimeline(stats: TraceStats, options: { batchSize: number; measuredSamplesPerSec: number; devices?: readonly number[] }): TimelineProjection {
  const steps = layerStepMs(stats);
  const rows = (options.devices ?? [1, 2, 4, 8]).map((devices) => {
    if (devices > steps.length) return { devices, samplesPerSec: null, msPerBatch: null };
    const p = projectAl(steps, { devices, batchSize: options.batchSize });
    return { devices, samplesPerSec: p.samplesPerSec, msPerBatch: p.msPerBatch };
  });
  const projected = projectAl(steps, { devices: stats.stages.length, batchSize: options.batchSize }).samplesPerSec;
  return {
    batchSize: options.batchSize, layerStepMs: steps, rows,
    measured: { stages: stats.stages.length, samplesPerSec: options.measuredSamplesPerSec, projected, deviation: options.measuredSamplesPerSec / projected - 1 },
  };
}

/** The AL schedule of the authors' slides (one unit per layer step) on the run's stages, for `batches` batches. */
export function simulatedSchedule(trace: Trace, batches: number): Schedule {
  const layers = trace.stages.reduce((n, s) => n + s.layers.length, 0);
  return simulate({ schedule: 'al', layers, stages: trace.stages.length, batches });
}

/**
 * The same schedule with each layer's step taking its measured mean (ms; a stage's mean shared
 * by its layers): what the run's pipeline would do with no transfer or waiting overheads, so the
 * gap to the measured span is what the engine loses beyond the schedule's own bubble.
 */
export function weightedSchedule(stats: TraceStats, batches: number): Schedule {
  const costs = layerStepMs(stats).map((ms) => ({ forward: ms, backward: 0, update: 0 }));
  return simulate({ schedule: 'al', layers: costs.length, stages: stats.stages.length, batches, costs });
}

export interface ChartWindow {
  intervals: GanttInterval[];
  /** batches shown: [firstBatch, firstBatch + batches) */
  firstBatch: number;
  batches: number;
  /** 1-based epoch shown, when the epochs' batches are known */
  epoch: number | null;
}

/**
 * What a chart of the trace shows: the last epoch when the batches of each epoch are known (past
 * the warm-up, and without the drains between epochs, which would squeeze the steps into slivers),
 * else the whole trace; in both cases only its first batches when it has more than
 * `maxIntervals` intervals, so the file stays small enough to open (a long run has hundreds of
 * thousands).
 */
export function chartWindow(trace: Trace, maxIntervals: number, perEpoch?: readonly number[]): ChartWindow {
  const last = lastEpoch(trace, perEpoch);
  const first = last?.firstBatch ?? 0;
  const end = Math.min(last ? last.firstBatch + last.batches : maxBatchOf(trace) + 1, first + Math.max(1, Math.floor(maxIntervals / trace.stages.length)));
  return { intervals: trace.intervals.filter((i) => i.batch >= first && i.batch < end), firstBatch: first, batches: end - first, epoch: last?.epoch ?? null };
}

function maxBatchOf(trace: Trace): number {
  return trace.intervals.reduce((m, i) => Math.max(m, i.batch), -1);
}

/**
 * The trace of the last epoch alone, when the batches of each epoch (`perEpoch`) add up to the
 * trace's; else null. Its steps are the ones the last epoch's samples/s in metrics.jsonl was
 * measured over, so a projection from them compares like with like.
 */
export function lastEpoch(trace: Trace, perEpoch?: readonly number[]): { trace: Trace; epoch: number; firstBatch: number; batches: number } | null {
  const end = maxBatchOf(trace) + 1;
  if (!perEpoch || perEpoch.length === 0 || perEpoch.reduce((s, b) => s + b, 0) !== end) return null;
  const batches = perEpoch[perEpoch.length - 1]!;
  const firstBatch = end - batches;
  return { trace: { ...trace, intervals: trace.intervals.filter((i) => i.batch >= firstBatch) }, epoch: perEpoch.length, firstBatch, batches };
}
