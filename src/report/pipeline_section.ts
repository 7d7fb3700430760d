// The pipeline part of the report for one run with trace.json: the measured Gantt chart (the last
// epoch's first batches, at most MAX_CHART_INTERVALS intervals) beside the authors' slides' unit-time schedule of the
// same method on as many stages and batches, both as inline SVG from ganttSvg; and each stage's
// utilisation, measured (whole trace, inside the epochs, last epoch from metrics.jsonl) and simulated.
import { chartWindow, epochBatches, traceStats } from '../analysis/trace_stats.js';
import { ganttSvg } from './gantt_svg.js';
import { utilisation } from '../pipeline/plan/utilisation.js';
import { scheduleSize, simulate, type Schedule, type SimulateOptions } from '../pipeline/plan/simulator.js';
import { utilisationChart, type ChartSpec } from './charts.js';
import type { ReportRun, RunTrace } from './run_files.js';

/**
 * Each Gantt chart draws this many intervals at most (about 250 bytes of SVG each, so a run's two
 * charts stay under 1 MB): longer traces show the first batches of their last epoch.
 */
export const MAX_CHART_INTERVALS = 2000;

export interface PipelineView {
  run: ReportRun;
  /** inline <svg> elements (no XML prolog) */
  measuredSvg: string;
  simulatedSvg: string;
  /** what the measured chart shows, e.g. "epoch 2, 4 batches" */
  shown: string;
  simulated: Schedule;
  chart: ChartSpec;
  bubble: { measured: number; inEpochs: number | null; simulated: number };
  staleness: number | null;
}

/** ganttSvg writes a standalone document; inside HTML the XML prolog has no place. */
function inline(svg: string): string {
  return svg.replace(/^<\?xml[^>]*\?>\s*/, '');
}

/**
 * The slides' schedule (docs/reproduction.md) of the run's method on its stages: AL one unit per layer step; GPipe one
 * layer per stage with the run's micro-batches; naive pipelined BP as the slides draw it, one
 * row per forward and per backward of K layers (K − 1 hidden + output).
 */
export function simulatedScheduleFor(t: RunTrace, batches: number, config: Record<string, unknown>): Schedule {
  const stages = t.stageLabels.length;
  const micro = typeof config['microBatches'] === 'number' ? config['microBatches'] : 4;
  const options: SimulateOptions = t.alLayers !== null
    ? { schedule: 'al', layers: t.alLayers.flat().length, stages }
    : t.method === 'naive-pipeline' ? { schedule: 'naive', layers: Math.max(1, stages - 1) } : { schedule: 'gpipe', layers: stages, stages, microBatches: micro };
  const perBatch = scheduleSize({ ...options, batches: 1 }).intervals;
  return simulate({ ...options, batches: Math.max(1, Math.min(batches, Math.floor(MAX_CHART_INTERVALS / perBatch))) });
}

const METHOD_NAMES: Record<string, string> = { al: 'AL', gpipe: 'GPipe', 'naive-pipeline': 'naive pipelined BP' };

export function pipelineView(run: ReportRun, index: number): PipelineView {
  const t: RunTrace = run.trace!;
  const batchSize = typeof run.config['batch'] === 'number' ? run.config['batch'] : null;
  const perEpoch = batchSize === null ? undefined : epochBatches(run.metrics, batchSize);
  const stats = traceStats(t.trace, perEpoch);
  const stages = t.stageLabels.length;
  // chartWindow counts stages × batches; GPipe and naive BP record several intervals per stage and batch
  const perBatch = t.trace.intervals.length / stats.batches;
  const window = chartWindow(t.trace, Math.max(1, Math.floor(MAX_CHART_INTERVALS / perBatch)) * stages, perEpoch);
  const sim = simulatedScheduleFor(t, window.batches, run.config);
  const simUse = utilisation(sim.intervals, sim.stages);
  const method = METHOD_NAMES[t.method] ?? t.method;
  const shown = (window.epoch === null ? '' : `epoch ${window.epoch}, `) +
    (window.batches < stats.batches ? `batches ${window.firstBatch + 1}–${window.firstBatch + window.batches} of ${stats.batches}` : `${window.batches} batches`);
  const measuredSvg = inline(ganttSvg(window.intervals, {
    title: `measured: ${run.name}, ${method} on ${stages} worker threads, ${shown}`, unit: 'ms', stageLabels: t.stageLabels,
  }));
  const simulatedSvg = inline(ganttSvg(sim.intervals, {
    title: `simulated: ${sim.schedule}, ${sim.schedule === 'naive' ? `${sim.layers} hidden + output layer` : `${sim.layers} layers`} on ${sim.stages} stages, ${sim.batches} batches: ${sim.totalUnits} units`,
    unit: 'units', stageLabels: sim.stageLabels,
  }));
  const last = run.metrics[run.metrics.length - 1]!;
  const views = [{ label: 'measured, whole trace', perStage: stats.stages.map((s) => s.utilisation) }];
  if (stats.inEpochs) views.push({ label: 'measured, inside the epochs', perStage: stats.inEpochs.perStage });
  if (last.utilisation && last.utilisation.length === stages) views.push({ label: `measured, epoch ${last.epoch} (metrics.jsonl)`, perStage: last.utilisation });
  // the simulated schedule has its own rows (naive: one per forward and backward), so it joins only when they match
  if (sim.stages === stages) views.push({ label: 'simulated (unit steps)', perStage: simUse.perStage });
  return {
    run, measuredSvg, simulatedSvg, shown, simulated: sim,
    chart: utilisationChart(run, index, views, t.stageLabels),
    bubble: { measured: stats.bubble, inEpochs: stats.inEpochs?.bubble ?? null, simulated: simUse.bubble },
    staleness: typeof last.staleness === 'number' ? last.staleness : null,
  };
}
