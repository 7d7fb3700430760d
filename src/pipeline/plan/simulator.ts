// The time-unit schedules of the authors' slides (docs/reproduction.md, "Pipeline timing"):
// one forward of one layer (or stage) on one (micro-)batch takes 1 unit, one backward
// 1 unit. Each schedule is a pure function of its sizes; the intervals it returns use the same
// {stage, batch, kind, start, end} shape as traces measured from real runs, so one Gantt drawer
// serves both. Unit t of the slides' tables (t = 1, 2, …) is the interval [t − 1, t).
//
//   bp     ℓ hidden layers plus the output layer (which computes the loss): forward through the
//          ℓ + 1 layers, then backward through them, each backward unit also applying that
//          layer's update. Backward locking: nothing overlaps, 2(ℓ + 1) units per update.
//   naive  the slides' "add pipeline directly": a new batch enters every unit. To finish one
//          update per unit, a layer's forward (on a new batch) and its backward (on an old one)
//          must run in the same unit, so the 2(ℓ + 1) steps are separate stages (rows f1 … ∂f1).
//          From unit 2(ℓ + 1) on one update completes per unit, but a batch's backward meets
//          weights that other batches updated after its forward read them: stale gradients.
//   gpipe  L layers cut into K balanced stages, M micro-batches per mini-batch: the forwards of
//          all micro-batches (pipelined), then their backwards (last micro-batch first, as in
//          the GPipe paper's figure), then the flush: every stage updates at once. 2(M + K − 1)
//          + 1 units per mini-batch with one layer per stage: 15 for K = M = 4.
//   al     L AL layers on K ≤ L stages (balanced contiguous groups): each layer's unit is its
//          forward, local backward and update, so stage i works on batch m while stage i + 1
//          works on m − 1. After the fill (L − 1 units with K = L) one update per unit, exact.
//
// "Without pipelining" means the same work done one unit at a time: the sum of every interval's
// length (workUnits). For GPipe that is K·M forwards + K·M backwards + K updates (each device
// updates its own stage) = K(2M + 1), the slides' 36 for K = M = 4 ("F_{0,0} … and all
// updates"). (M(2K + 1), one update after each micro-batch, also gives 36 there, but it is not
// the work GPipe does, so it is not what we count.)
//
// Measured costs (`costs`, ms per mini-batch per layer, as the projections take them) replace the
// unit: bp and naive run a layer's forward in its forward cost and its backward in backward +
// update; GPipe runs a micro-batch in cost/M (as projectGpipe assumes) and the flush in the
// stage's update cost; an AL layer's step takes forward + backward + update. Stages are then cut
// balanced by those costs, as the engine cuts them, instead of by layer count.
import { linearPartition, type PhaseCost } from './projection.js';

export const SCHEDULES = ['bp', 'naive', 'gpipe', 'al'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];
export type IntervalKind = 'forward' | 'backward' | 'step' | 'update';

/** One busy interval of one stage: simulated (time units) or measured (ms). Batches count from 0. */
export interface Interval {
  stage: number;
  batch: number;
  micro?: number;
  kind: IntervalKind;
  start: number;
  end: number;
}

export interface SimulateOptions {
  schedule: ScheduleName;
  /** bp, naive: hidden layers ℓ; gpipe: layers to cut into stages; al: AL layers */
  layers: number;
  /** gpipe, al: pipeline stages (default: one per layer) */
  stages?: number;
  /** gpipe: micro-batches per mini-batch (default 4) */
  microBatches?: number;
  /** (mini-)batches to simulate (default 4) */
  batches?: number;
  /**
   * Measured costs per layer (ms per mini-batch): bp and naive take layers + 1 of them (the
   * output layer too), gpipe and al one per layer. Without them every pass is one unit.
   */
  costs?: readonly PhaseCost[];
}

/** The parameter version a forward read: the slides' superscript in f_i^(j). */
export interface WeightRead {
  batch: number;
  micro?: number;
  /** parameter group: a layer (bp, naive, al) or a stage's layers (gpipe) */
  params: number;
  /** how many updates that group had received when the forward read it */
  version: number;
}

export interface Schedule {
  schedule: ScheduleName;
  layers: number;
  stages: number;
  microBatches: number;
  batches: number;
  /** a name for each stage's row: f1, ∂f1 (bp, naive), S1 (gpipe), S1 = AL layers (al) */
  stageLabels: string[];
  intervals: Interval[];
  /** when the last interval ends */
  totalUnits: number;
  /** the same work without any overlap: the sum of all interval lengths */
  workUnits: number;
  /** when each (mini-)batch's full update (every parameter group updated once) is complete */
  updateEnds: number[];
  firstUpdate: number;
  /** steady-state units between consecutive full updates */
  unitsPerUpdate: number;
  /** firstUpdate − unitsPerUpdate: the latency before the steady state */
  fillUnits: number;
  /** largest number of updates a group received between a batch's forward reading it and that batch's update */
  maxStaleness: number;
  stale: boolean;
  reads: WeightRead[];
}

/** The limit on simulated intervals, so a typo in a size cannot exhaust memory. */
export const MAX_INTERVALS = 1_000_000;

// ***** building a schedule *****

interface Task extends Interval {
  reads?: number;
  writes?: number;
}

/**
 * Tasks are added in an order that is topological and, per stage, the order the stage runs them;
 * each starts as soon as its stage is free and its dependencies have ended.
 */
class Builder {
  readonly tasks: Task[] = [];
  private readonly free: number[];

  constructor(stages: number) {
    this.free = new Array<number>(stages).fill(0);
  }

  add(task: Omit<Task, 'start' | 'end'>, duration: number, deps: readonly number[]): number {
    let start = this.free[task.stage]!;
    for (const d of deps) start = Math.max(start, this.tasks[d]!.end);
    const end = start + duration;
    this.free[task.stage] = end;
    this.tasks.push({ ...task, start, end });
    return this.tasks.length - 1;
  }
}

/** The slides' unit: every pass of every layer takes 1, and an update rides on its backward. */
const UNIT: PhaseCost = { forward: 1, backward: 1, update: 0 };

/** A layer's forward and its backward with the update it applies. */
const passes = (c: PhaseCost): [number, number] => [c.forward, c.backward + c.update];

function bp(costs: readonly PhaseCost[], batches: number): Builder {
  const n = costs.length;
  const b = new Builder(n);
  const last: number[] = [];
  for (let batch = 0; batch < batches; batch++) {
    for (let i = 0; i < n; i++) last.push(b.add({ stage: i, batch, kind: 'forward', reads: i }, passes(costs[i]!)[0], last.slice(-1)));
    for (let i = n - 1; i >= 0; i--) last.push(b.add({ stage: i, batch, kind: 'backward', writes: i }, passes(costs[i]!)[1], last.slice(-1)));
  }
  return b;
}

function naive(costs: readonly PhaseCost[], batches: number): Builder {
  const n = costs.length;
  const b = new Builder(2 * n);
  for (let batch = 0; batch < batches; batch++) {
    let previous: number[] = [];
    for (let s = 0; s < 2 * n; s++) {
      const task = s < n ? { stage: s, batch, kind: 'forward' as const, reads: s } : { stage: s, batch, kind: 'backward' as const, writes: 2 * n - 1 - s };
      previous = [b.add(task, s < n ? passes(costs[s]!)[0] : passes(costs[2 * n - 1 - s]!)[1], previous)];
    }
  }
  return b;
}

/** One GPipe stage's durations: a micro-batch's forward and backward, and the flush's update. */
interface StageTimes {
  forward: number;
  backward: number;
  update: number;
}

function gpipe(sizes: readonly StageTimes[], micro: number, batches: number): Builder {
  const k = sizes.length;
  const b = new Builder(k);
  let flush: number[] = [];
  for (let batch = 0; batch < batches; batch++) {
    const forward: number[][] = sizes.map(() => []);
    for (let m = 0; m < micro; m++) {
      for (let s = 0; s < k; s++) {
        forward[s]![m] = b.add({ stage: s, batch, micro: m, kind: 'forward', reads: s }, sizes[s]!.forward, s === 0 ? flush : [forward[s - 1]![m]!]);
      }
    }
    const backward: number[][] = sizes.map(() => []);
    for (let m = micro - 1; m >= 0; m--) {
      for (let s = k - 1; s >= 0; s--) {
        backward[s]![m] = b.add({ stage: s, batch, micro: m, kind: 'backward' }, sizes[s]!.backward, [s === k - 1 ? forward[s]![m]! : backward[s + 1]![m]!]);
      }
    }
    const lastBackward = backward.map((perStage) => perStage[0]!);
    flush = sizes.map((size, s) => b.add({ stage: s, batch, kind: 'update', writes: s }, size.update, lastBackward));
  }
  return b;
}

function al(stageOf: readonly number[], steps: readonly number[], batches: number): Builder {
  const b = new Builder(Math.max(...stageOf) + 1);
  for (let batch = 0; batch < batches; batch++) {
    let previous: number[] = [];
    stageOf.forEach((stage, layer) => {
      previous = [b.add({ stage, batch, kind: 'step', reads: layer, writes: layer }, steps[layer]!, previous)];
    });
  }
  return b;
}

// ***** measuring a schedule *****

/** Sorted update end times per parameter group. */
function writeEnds(tasks: readonly Task[]): Map<number, number[]> {
  const ends = new Map<number, number[]>();
  for (const t of tasks) {
    if (t.writes === undefined) continue;
    const list = ends.get(t.writes);
    if (list) list.push(t.end);
    else ends.set(t.writes, [t.end]);
  }
  for (const list of ends.values()) list.sort((a, b) => a - b);
  return ends;
}

/** How many values of the sorted `list` are <= x. */
function countAtMost(list: readonly number[], x: number): number {
  let lo = 0, hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A forward reads the weights as left by the updates that ended by its start (an update in the
 * same unit is not seen: the slides' batch 2 reads f3^(0) at t = 4 while batch 1 updates f3).
 * A batch's update is stale by the number of updates its group received between the batch's
 * first read of it and the start of the update.
 */
function weightVersions(tasks: readonly Task[]): { reads: WeightRead[]; maxStaleness: number } {
  const ends = writeEnds(tasks);
  const reads: WeightRead[] = [];
  const firstRead = new Map<string, number>();
  for (const t of tasks) {
    if (t.reads === undefined) continue;
    reads.push({ batch: t.batch, ...(t.micro === undefined ? {} : { micro: t.micro }), params: t.reads, version: countAtMost(ends.get(t.reads) ?? [], t.start) });
    const key = `${t.batch}:${t.reads}`;
    firstRead.set(key, Math.min(firstRead.get(key) ?? Infinity, t.start));
  }
  let maxStaleness = 0;
  for (const t of tasks) {
    if (t.writes === undefined) continue;
    const read = firstRead.get(`${t.batch}:${t.writes}`);
    if (read === undefined) throw new Error(`simulate: batch ${t.batch} updates parameter group ${t.writes} without reading it`);
    const list = ends.get(t.writes)!;
    maxStaleness = Math.max(maxStaleness, countAtMost(list, t.start) - countAtMost(list, read));
  }
  return { reads, maxStaleness };
}

function updateEnds(tasks: readonly Task[], batches: number): number[] {
  const ends = new Array<number>(batches).fill(0);
  for (const t of tasks) if (t.writes !== undefined) ends[t.batch] = Math.max(ends[t.batch]!, t.end);
  return ends;
}

// ***** the public function *****

function checkSize(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`simulate: expected ${name} to be an integer >= 1, got ${value}`);
}

function checkLayerCosts(costs: readonly PhaseCost[], expected: number): void {
  if (costs.length !== expected) throw new RangeError(`simulate: expected ${expected} layer costs, got ${costs.length}`);
  costs.forEach((c, i) => {
    for (const phase of ['forward', 'backward', 'update'] as const) {
      if (!Number.isFinite(c[phase]) || c[phase] < 0) throw new RangeError(`simulate: expected a finite ${phase} cost >= 0 for layer ${i}, got ${c[phase]}`);
    }
  });
}

/** Resolved sizes and how many intervals the schedule will have, checked without building it. */
export function scheduleSize(options: SimulateOptions): { stages: number; microBatches: number; batches: number; intervals: number } {
  const { schedule, layers } = options;
  if (!(SCHEDULES as readonly string[]).includes(schedule)) throw new RangeError(`simulate: expected a schedule among ${SCHEDULES.join(', ')}, got '${schedule}'`);
  checkSize('layers', layers);
  const batches = options.batches ?? 4;
  checkSize('batches', batches);
  const pipelined = schedule === 'gpipe' || schedule === 'al';
  if (!pipelined && options.stages !== undefined) throw new RangeError(`simulate: ${schedule} uses one device per layer; stages apply to gpipe and al only`);
  if (schedule !== 'gpipe' && options.microBatches !== undefined) throw new RangeError('simulate: micro-batches apply to gpipe only');
  const stages = schedule === 'bp' ? layers + 1 : schedule === 'naive' ? 2 * (layers + 1) : options.stages ?? layers;
  checkSize('stages', stages);
  if (pipelined && stages > layers) throw new RangeError(`simulate: expected at most ${layers} stages for ${layers} layers, got ${stages}`);
  const microBatches = schedule === 'gpipe' ? options.microBatches ?? 4 : 1;
  checkSize('microBatches', microBatches);
  if (options.costs) checkLayerCosts(options.costs, schedule === 'bp' || schedule === 'naive' ? layers + 1 : layers);
  const perBatch = schedule === 'bp' ? 2 * (layers + 1) : schedule === 'naive' ? stages : schedule === 'gpipe' ? 2 * stages * microBatches + stages : layers;
  return { stages, microBatches, batches, intervals: perBatch * batches };
}

function build(options: SimulateOptions, stages: number, microBatches: number, batches: number): { builder: Builder; stageLabels: string[] } {
  const { schedule, layers } = options;
  if (schedule === 'bp' || schedule === 'naive') {
    const costs = options.costs ?? new Array<PhaseCost>(layers + 1).fill(UNIT);
    const forward = Array.from({ length: layers + 1 }, (_, i) => `f${i + 1}`);
    return schedule === 'bp'
      ? { builder: bp(costs, batches), stageLabels: forward }
      : { builder: naive(costs, batches), stageLabels: [...forward, ...forward.map((f) => `∂${f}`).reverse()] };
  }
  const costs = options.costs;
  const total = (c: PhaseCost): number => c.forward + c.backward + c.update;
  const { ranges } = linearPartition(costs ? costs.map(total) : new Array<number>(layers).fill(1), stages);
  const span = ([a, b]: [number, number]): string => (b - a === 1 ? `${a + 1}` : `${a + 1}-${b}`);
  if (schedule === 'gpipe') {
    const sum = (r: [number, number], phase: keyof PhaseCost): number => costs!.slice(r[0], r[1]).reduce((t, c) => t + c[phase], 0);
    const times = ranges.map((r) => (costs
      ? { forward: sum(r, 'forward') / microBatches, backward: sum(r, 'backward') / microBatches, update: sum(r, 'update') }
      : { forward: r[1] - r[0], backward: r[1] - r[0], update: r[1] - r[0] }));
    return { builder: gpipe(times, microBatches, batches), stageLabels: ranges.map((r, s) => `S${s + 1} (${r[1] - r[0] === 1 ? 'layer' : 'layers'} ${span(r)})`) };
  }
  const stageOf = ranges.flatMap(([a, b], s) => new Array<number>(b - a).fill(s));
  const steps = costs ? costs.map(total) : new Array<number>(layers).fill(1);
  return { builder: al(stageOf, steps, batches), stageLabels: ranges.map((r, s) => `S${s + 1} (AL ${span(r)})`) };
}

/**
 * Simulates a schedule; see the header for each one's rules.
 *
 *   simulate({ schedule: 'gpipe', layers: 4, stages: 4, microBatches: 4, batches: 1 })
 *     → totalUnits 15, workUnits 36
 */
export function simulate(options: SimulateOptions): Schedule {
  const { schedule, layers } = options;
  const { stages, microBatches, batches, intervals: count } = scheduleSize(options);
  if (count > MAX_INTERVALS) throw new RangeError(`simulate: ${count} intervals is more than the ${MAX_INTERVALS} simulated at most`);
  const { builder, stageLabels } = build(options, stages, microBatches, batches);
  const tasks = builder.tasks;
  const ends = updateEnds(tasks, batches);
  const { reads, maxStaleness } = weightVersions(tasks);
  const firstUpdate = ends[0]!;
  const unitsPerUpdate = batches > 1 ? ends[batches - 1]! - ends[batches - 2]! : firstUpdate;
  return {
    schedule, layers, stages, microBatches, batches, stageLabels,
    intervals: tasks.map(({ stage, batch, micro, kind, start, end }) => ({ stage, batch, ...(micro === undefined ? {} : { micro }), kind, start, end })),
    totalUnits: tasks.reduce((m, t) => Math.max(m, t.end), 0),
    workUnits: tasks.reduce((s, t) => s + t.end - t.start, 0),
    updateEnds: ends,
    firstUpdate,
    unitsPerUpdate,
    fillUnits: firstUpdate - unitsPerUpdate,
    maxStaleness,
    stale: maxStaleness > 0,
    reads,
  };
}
