// A run directory as the report reads it: config.json and metrics.jsonl (required), trace.json
// (pipelined runs with --trace), steps.jsonl (--log-every) and analysis.json (`al analyze`), all optional. Each file is
// checked where it is read, and an error names the file and what is wrong in it; keys of
// analysis.json that the report does not know are ignored, and missing ones leave their section out.
import { readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseMetrics, type MetricsRecord } from '../analysis/layer_losses.js';
import { parseTrace, type Trace } from '../analysis/trace_stats.js';
import type { GanttInterval } from '../pipeline/plan/utilisation.js';
import { STEPS_FILE, type StepRecord } from '../train/step_log.js';
import { ReportError } from './errors.js';

/** One metrics.jsonl line, with the fields beyond the analyses' that the report plots. */
export interface EpochRecord extends MetricsRecord {
  method?: string;
  trainLoss?: number;
  /** null where the method makes no predictions while training (pipelined AL) */
  trainAccuracy?: number | null;
  lr?: number;
  /** naive-pipeline: optimizer updates between a forward and its backward */
  staleness?: number;
}

/** trace.json of any pipelined method: AL stages hold AL layers, BP stages (gpipe, naive) modules. */
export interface RunTrace {
  method: string;
  /** the trace in the analyses' shape; BP stages get empty `layers` (the helpers read only the stage count) */
  trace: Trace;
  stageLabels: string[];
  /** AL stages: their AL layers (1-based); BP: null */
  alLayers: number[][] | null;
}

export interface DistanceRow {
  name: string;
  features: number;
  inter: number;
  intra: number;
  ratio: number | null;
}

export interface TsneLayer {
  name: string;
  kl: number | null;
  /** x0, y0, x1, y1, … */
  points: number[];
  labels: number[];
}

export interface ProjectionView {
  rows: { devices: number; samplesPerSec: number | null; msPerBatch: number | null }[];
  measured?: { stages: number; samplesPerSec: number; projected: number; deviation: number };
}

/** The keys of analysis.json the report shows; each may be missing. */
/** One AL layer's code measures (al analyze --layer-codes). */
export interface LayerCodeView {
  layer: number;
  associated: number;
  spread: number;
  normalised: number | null;
  nearestCodeAccuracy: number;
}

export interface RunAnalysis {
  layerCodes?: { samples?: number; rows: LayerCodeView[] };
  distanceRatio?: { samples?: number; seed?: number; rows: DistanceRow[]; targets: { name: string; inter: number; features: number }[] };
  exitAccuracy?: { exit: number; testAccuracy: number }[];
  tsne?: { perplexity?: number; samples?: number; layers: TsneLayer[] };
  timeline?: { projection?: ProjectionView };
}

export interface ReportRun {
  /** the directory as given */
  dir: string;
  /** a short unique name: the directory's base name (the path where two share one) */
  name: string;
  config: Record<string, unknown>;
  metrics: EpochRecord[];
  trace: RunTrace | null;
  analysis: RunAnalysis | null;
  /** steps.jsonl of a run trained with --log-every; absent or null without it */
  steps?: StepRecord[] | null;
}

const why = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

function readOptional(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ReportError(`${file}: cannot read it (${why(error)})`);
  }
}

function readRequired(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ReportError(`${file}: cannot read ${what} (${why(error)}); a run directory written by al train has it`);
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ReportError(`${file}: not JSON (${(error as Error).message})`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumberOrNull = (v: unknown): boolean => v === null || isNumber(v);

// ***** trace.json *****

const KINDS = new Set(['forward', 'backward', 'step', 'update']);

/** BP pipelines' stages: {stage, modules: [module indices]} (gpipe, naive-pipeline). */
function parseBpTrace(value: Record<string, unknown>, file: string): RunTrace {
  const stages = value['stages'] as unknown[];
  const modules = stages.map((s, k) => {
    const ok = isObject(s) && s['stage'] === k && Array.isArray(s['modules']) && s['modules'].length > 0 && s['modules'].every((m) => Number.isInteger(m) && (m as number) >= 0);
    if (!ok) throw new ReportError(`${file}: stages[${k}]: expected {stage: ${k}, layers: [AL layers]} or {stage: ${k}, modules: [module indices]}, got ${JSON.stringify(s)}`);
    return (s as { modules: number[] }).modules;
  });
  const intervals = (value['intervals'] as unknown[]).map((v, j) => {
    const i = v as Record<string, unknown>;
    const ok = isObject(v) && Number.isInteger(i['stage']) && (i['stage'] as number) >= 0 && (i['stage'] as number) < stages.length &&
      Number.isInteger(i['batch']) && (i['batch'] as number) >= 0 && KINDS.has(i['kind'] as string) && isNumber(i['start']) && isNumber(i['end']) && (i['end'] as number) >= (i['start'] as number);
    if (!ok) throw new ReportError(`${file}: intervals[${j}]: expected {stage: 0..${stages.length - 1}, batch >= 0, kind, start, end >= start}, got ${JSON.stringify(v)}`);
    return v as GanttInterval;
  });
  if (intervals.length === 0) throw new ReportError(`${file}: no intervals recorded (the run stopped before its first batch)`);
  const span = (m: number[]): string => (m.length === 1 ? `module ${m[0]}` : `modules ${m[0]}–${m[m.length - 1]}`);
  return {
    method: typeof value['method'] === 'string' ? value['method'] : 'bp',
    trace: { clock: typeof value['clock'] === 'string' ? value['clock'] : 'ms', stages: modules.map((_, stage) => ({ stage, layers: [] })), intervals },
    stageLabels: modules.map((m, k) => `S${k + 1} (${span(m)})`),
    alLayers: null,
  };
}

export function parseRunTrace(text: string, file: string): RunTrace {
  const value = parseJson(text, file);
  if (!isObject(value) || !Array.isArray(value['stages']) || !Array.isArray(value['intervals']) || value['stages'].length === 0) {
    throw new ReportError(`${file}: expected an object with non-empty 'stages' and 'intervals' lists`);
  }
  const first = value['stages'][0];
  if (isObject(first) && 'modules' in first) return parseBpTrace(value, file);
  const trace = parseTrace(text, file);
  return {
    method: typeof value['method'] === 'string' ? value['method'] : 'al',
    trace,
    stageLabels: trace.stages.map((s) => `S${s.stage + 1} (AL ${s.layers.join('+')})`),
    alLayers: trace.stages.map((s) => s.layers),
  };
}

// ***** analysis.json *****

function bad(file: string, key: string, expected: string): ReportError {
  return new ReportError(`${file}: '${key}': expected ${expected}`);
}

function checkDistances(v: unknown, file: string): RunAnalysis['distanceRatio'] {
  const rowOk = (r: unknown): boolean => isObject(r) && typeof r['name'] === 'string' && isNumber(r['inter']) && isNumber(r['intra']) && isNumberOrNull(r['ratio']) && isNumber(r['features']);
  const targetOk = (t: unknown): boolean => isObject(t) && typeof t['name'] === 'string' && isNumber(t['inter']) && isNumber(t['features']);
  if (!isObject(v) || !Array.isArray(v['rows']) || !v['rows'].every(rowOk) || (v['targets'] !== undefined && !(Array.isArray(v['targets']) && v['targets'].every(targetOk)))) {
    throw bad(file, 'distanceRatio', '{rows: [{name, features, inter, intra, ratio}], targets: [{name, features, inter}]}');
  }
  return { samples: isNumber(v['samples']) ? v['samples'] : undefined, seed: isNumber(v['seed']) ? v['seed'] : undefined, rows: v['rows'] as DistanceRow[], targets: (v['targets'] ?? []) as { name: string; inter: number; features: number }[] };
}

function checkLayerCodes(v: unknown, file: string): RunAnalysis['layerCodes'] {
  const rowOk = (r: unknown): boolean => isObject(r) && Number.isInteger(r['layer']) && isNumber(r['associated']) && isNumber(r['spread']) &&
    isNumberOrNull(r['normalised']) && isNumber(r['nearestCodeAccuracy']);
  if (!isObject(v) || !Array.isArray(v['rows']) || !v['rows'].every(rowOk)) throw bad(file, 'layerCodes', '{rows: [{layer, associated, spread, normalised, nearestCodeAccuracy}]}');
  return { samples: isNumber(v['samples']) ? v['samples'] : undefined, rows: v['rows'] as LayerCodeView[] };
}

function checkExits(v: unknown, file: string): RunAnalysis['exitAccuracy'] {
  const ok = Array.isArray(v) && v.every((e) => isObject(e) && Number.isInteger(e['exit']) && isNumber(e['testAccuracy']));
  if (!ok) throw bad(file, 'exitAccuracy', 'a list of {exit, testAccuracy}');
  return v as { exit: number; testAccuracy: number }[];
}

function checkTsne(v: unknown, file: string): RunAnalysis['tsne'] {
  if (!isObject(v) || !Array.isArray(v['layers'])) throw bad(file, 'tsne', '{perplexity, samples, layers: [{name, kl, points, labels}]}');
  const layers = v['layers'].map((l, k) => {
    const where = `tsne.layers[${k}]`;
    if (!isObject(l) || typeof l['name'] !== 'string' || !Array.isArray(l['points']) || !Array.isArray(l['labels'])) throw bad(file, where, '{name, kl, points: [x, y, …], labels: […]}');
    const points = l['points'] as unknown[], labels = l['labels'] as unknown[];
    if (points.length !== 2 * labels.length) throw bad(file, where, `2 coordinates per label, got ${points.length} coordinates for ${labels.length} labels`);
    if (!points.every(isNumber)) throw bad(file, `${where}.points`, 'finite numbers');
    if (!labels.every((y) => Number.isInteger(y) && (y as number) >= 0)) throw bad(file, `${where}.labels`, 'class indices (integers >= 0)');
    return { name: l['name'], kl: isNumber(l['kl']) ? l['kl'] : null, points: points as number[], labels: labels as number[] };
  });
  return { perplexity: isNumber(v['perplexity']) ? v['perplexity'] : undefined, samples: isNumber(v['samples']) ? v['samples'] : undefined, layers };
}

function checkTimeline(v: unknown, file: string): RunAnalysis['timeline'] {
  if (!isObject(v)) throw bad(file, 'timeline', 'an object');
  const p = v['projection'];
  if (p === undefined) return {};
  const rowOk = (r: unknown): boolean => isObject(r) && Number.isInteger(r['devices']) && isNumberOrNull(r['samplesPerSec']) && isNumberOrNull(r['msPerBatch']);
  if (!isObject(p) || !Array.isArray(p['rows']) || !p['rows'].every(rowOk)) throw bad(file, 'timeline.projection', '{rows: [{devices, samplesPerSec, msPerBatch}]}');
  const m = p['measured'];
  const measuredOk = isObject(m) && ['stages', 'samplesPerSec', 'projected', 'deviation'].every((k) => isNumber(m[k]));
  return { projection: { rows: p['rows'] as ProjectionView['rows'], ...(measuredOk ? { measured: m as unknown as NonNullable<ProjectionView['measured']> } : {}) } };
}

export function parseAnalysis(text: string, file: string): RunAnalysis {
  const value = parseJson(text, file);
  if (!isObject(value)) throw new ReportError(`${file}: expected a JSON object (al analyze RUN_DIR --json)`);
  const analysis: RunAnalysis = {};
  if (value['layerCodes'] !== undefined) analysis.layerCodes = checkLayerCodes(value['layerCodes'], file);
  if (value['distanceRatio'] !== undefined) analysis.distanceRatio = checkDistances(value['distanceRatio'], file);
  if (value['exitAccuracy'] !== undefined) analysis.exitAccuracy = checkExits(value['exitAccuracy'], file);
  if (value['tsne'] !== undefined) analysis.tsne = checkTsne(value['tsne'], file);
  if (value['timeline'] !== undefined) analysis.timeline = checkTimeline(value['timeline'], file);
  return analysis;
}

// ***** steps.jsonl *****

/** The lines of steps.jsonl (src/train/step_log.ts), each checked for the fields the charts read. */
export function parseSteps(text: string, file: string): StepRecord[] {
  const layerOk = (l: unknown): boolean => isObject(l) && isNumber(l['associatedLoss']) && isNumber(l['autoencoderLoss']);
  const records: StepRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const value = parseJson(line, `${file}:${i + 1}`);
    const ok = isObject(value) && Number.isInteger(value['step']) && (value['step'] as number) >= 1 && Number.isInteger(value['epoch']) &&
      isNumber(value['seconds']) && typeof value['loss'] === 'number' && (value['layers'] === undefined || (Array.isArray(value['layers']) && value['layers'].every(layerOk)));
    if (!ok) throw new ReportError(`${file}:${i + 1}: expected {step >= 1, epoch, seconds, loss, layers?: [{associatedLoss, autoencoderLoss}]} (al train --log-every), got ${line.slice(0, 200)}`);
    records.push(value as unknown as StepRecord);
  });
  return records;
}

// ***** the run directory *****

/** Reads and checks one run directory; `name` is filled in by loadRuns. */
export function loadRun(dir: string): ReportRun {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (error) {
    throw new ReportError(`${dir}: cannot read the run directory (${why(error)})`);
  }
  if (!isDir) throw new ReportError(`${dir}: not a directory; expected a run directory written by al train`);
  const configFile = join(dir, 'config.json');
  const config = parseJson(readRequired(configFile, "the run's settings"), configFile);
  if (!isObject(config)) throw new ReportError(`${configFile}: expected a JSON object`);
  const metricsFile = join(dir, 'metrics.jsonl');
  const metrics = parseMetrics(readRequired(metricsFile, 'the per-epoch metrics'), metricsFile) as EpochRecord[];
  const traceFile = join(dir, 'trace.json'), analysisFile = join(dir, 'analysis.json'), stepsFile = join(dir, STEPS_FILE);
  const traceText = readOptional(traceFile), analysisText = readOptional(analysisFile), stepsText = readOptional(stepsFile);
  return {
    dir, name: basename(resolve(dir)), config, metrics,
    trace: traceText === null ? null : parseRunTrace(traceText, traceFile),
    analysis: analysisText === null ? null : parseAnalysis(analysisText, analysisFile),
    steps: stepsText === null ? null : parseSteps(stepsText, stepsFile),
  };
}

/** Every run, each named by its base name, or by the path as given where base names repeat. */
export function loadRuns(dirs: readonly string[]): ReportRun[] {
  const seen = new Map<string, string>();
  for (const dir of dirs) {
    const key = resolve(dir);
    if (seen.has(key)) throw new ReportError(`${dir}: given twice (as ${seen.get(key)} too)`);
    seen.set(key, dir);
  }
  const runs = dirs.map(loadRun);
  const count = new Map<string, number>();
  for (const r of runs) count.set(r.name, (count.get(r.name) ?? 0) + 1);
  return runs.map((r) => (count.get(r.name)! > 1 ? { ...r, name: r.dir } : r));
}
