// Throughput projections from measured costs, and the balanced contiguous cut that both the
// projections and the pipeline engine use to group layers into stages.
//
// Inputs are milliseconds per batch of `batchSize` samples on one device, per layer: forward,
// backward and update for BP and GPipe; for AL the whole local step of each AL layer (forward
// through f_i, b_i, g_i, h_i, the two local losses' backward and the update).
//
//   BP         one device runs every layer in turn:       ms/batch = Σ (forward + backward + update)
//   GPipe      D balanced stages, M micro-batches; a micro-batch costs cost/M (see projectGpipe)
//   AL         D balanced stages in steady state:          ms/batch = max over stages of Σ step

/** Measured costs of one layer, in ms per batch. */
export interface PhaseCost {
  forward: number;
  backward: number;
  update: number;
}

export interface LinearPartition {
  /** group j holds the items [ranges[j][0], ranges[j][1]) */
  ranges: Array<[number, number]>;
  /** the cost of each group */
  sums: number[];
  /** the largest group cost: the quantity minimised */
  max: number;
}

export interface Projection {
  /** ms per batch of batchSize samples in steady state */
  msPerBatch: number;
  samplesPerSec: number;
}

export interface StagedProjection extends Projection {
  /** the layers of each stage, as [first, end) ranges */
  stages: Array<[number, number]>;
}

function checkCosts(what: string, costs: readonly number[]): void {
  if (costs.length === 0) throw new RangeError(`${what}: expected at least one cost, got none`);
  costs.forEach((c, i) => {
    if (!Number.isFinite(c) || c < 0) throw new RangeError(`${what}: expected finite costs >= 0, got ${c} at index ${i}`);
  });
}

function checkCount(what: string, name: string, value: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${what}: expected ${name} from 1${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}, got ${value}`);
  }
}

/**
 * Splits `costs` into `parts` non-empty contiguous groups so that the largest group sum is as
 * small as possible (the linear partition problem), exactly, by dynamic programming over
 * prefix sums in O(parts · n²). Among optimal cuts the one found first scanning cut points
 * from the left is returned, so the result is deterministic.
 */
export function linearPartition(costs: readonly number[], parts: number): LinearPartition {
  checkCosts('linearPartition', costs);
  const n = costs.length;
  checkCount('linearPartition', `a number of parts (at most the ${n} costs)`, parts, n);
  const prefix = [0];
  for (const c of costs) prefix.push(prefix[prefix.length - 1]! + c);
  // best[j][i]: the smallest possible largest sum when the first i items form j + 1 groups;
  // cut[j][i]: where the last of those groups starts.
  const best: number[][] = [prefix.slice()];
  const cut: number[][] = [new Array<number>(n + 1).fill(0)];
  for (let j = 1; j < parts; j++) {
    const row = new Array<number>(n + 1).fill(Infinity);
    const at = new Array<number>(n + 1).fill(0);
    for (let i = j + 1; i <= n; i++) {
      for (let k = j; k < i; k++) {
        const value = Math.max(best[j - 1]![k]!, prefix[i]! - prefix[k]!);
        if (value < row[i]!) {
          row[i] = value;
          at[i] = k;
        }
      }
    }
    best.push(row);
    cut.push(at);
  }
  const ranges: Array<[number, number]> = [];
  let end = n;
  for (let j = parts - 1; j >= 0; j--) {
    const start = j === 0 ? 0 : cut[j]![end]!;
    ranges.unshift([start, end]);
    end = start;
  }
  const sums = ranges.map(([a, b]) => prefix[b]! - prefix[a]!);
  return { ranges, sums, max: Math.max(...sums) };
}

function sumOver(values: readonly number[], [a, b]: [number, number]): number {
  let s = 0;
  for (let i = a; i < b; i++) s += values[i]!;
  return s;
}

function throughput(msPerBatch: number, batchSize: number): number {
  return msPerBatch > 0 ? (1000 * batchSize) / msPerBatch : Infinity;
}

function checkLayers(what: string, layers: readonly PhaseCost[]): void {
  if (layers.length === 0) throw new RangeError(`${what}: expected at least one layer's costs, got none`);
  layers.forEach((l, i) => checkCosts(`${what}: layer ${i}`, [l.forward, l.backward, l.update]));
}

/** BP on one device: every layer's forward, backward and update in turn, nothing overlaps. */
export function projectBp(layers: readonly PhaseCost[], batchSize: number): Projection {
  checkLayers('projectBp', layers);
  checkCount('projectBp', 'a batch size', batchSize);
  const msPerBatch = layers.reduce((s, l) => s + l.forward + l.backward + l.update, 0);
  return { msPerBatch, samplesPerSec: throughput(msPerBatch, batchSize) };
}

/**
 * GPipe on `devices` stages with `microBatches` micro-batches per mini-batch.
 *
 * The layers are cut into contiguous stages balanced by forward + backward + update. Assumption:
 * a micro-batch of batchSize/M samples costs cost/M, i.e. compute is linear in the batch size;
 * on a CPU small batches run less efficiently, so this is optimistic for GPipe. Updates do not
 * shrink with M (the parameters are the same) and run on all stages at once at the flush.
 *
 * With f_k, b_k the micro-batch costs of stage k, the forward phase is a flow shop of M identical
 * jobs, which takes exactly Σ_k f_k + (M − 1) · max_k f_k; the backward phase the same with b_k;
 * then the flush, max_k u_k. For balanced stages this is the familiar (M + D − 1) × the slowest
 * stage's micro-batch time for each phase; with the unit costs of the authors' slides (D = M = 4) it is
 * 7 + 7 + 1 = 15.
 */
export function projectGpipe(layers: readonly PhaseCost[], options: { devices: number; microBatches: number; batchSize: number }): StagedProjection {
  checkLayers('projectGpipe', layers);
  const { devices, microBatches: m, batchSize } = options;
  checkCount('projectGpipe', `a number of devices (at most the ${layers.length} layers)`, devices, layers.length);
  checkCount('projectGpipe', 'a number of micro-batches', m);
  checkCount('projectGpipe', 'a batch size', batchSize);
  const { ranges } = linearPartition(layers.map((l) => l.forward + l.backward + l.update), devices);
  const phase = (values: number[]): number => {
    const stage = ranges.map((r) => sumOver(values, r) / m);
    return stage.reduce((s, c) => s + c, 0) + (m - 1) * Math.max(...stage);
  };
  const flush = Math.max(...ranges.map((r) => sumOver(layers.map((l) => l.update), r)));
  const msPerBatch = phase(layers.map((l) => l.forward)) + phase(layers.map((l) => l.backward)) + flush;
  return { msPerBatch, samplesPerSec: throughput(msPerBatch, batchSize), stages: ranges };
}

/**
 * Pipelined AL: the AL layers grouped into `devices` contiguous balanced stages. Each stage takes
 * batch m while the next takes m − 1, so in steady state a batch completes every max-stage-sum
 * ms. `fillMs` is the extra time before the first batch completes (a run of N batches takes
 * fillMs + N · msPerBatch), negligible over an epoch.
 */
export function projectAl(stepMs: readonly number[], options: { devices: number; batchSize: number }): StagedProjection & { fillMs: number } {
  checkCosts('projectAl', stepMs);
  const { devices, batchSize } = options;
  checkCount('projectAl', `a number of devices (at most the ${stepMs.length} AL layers)`, devices, stepMs.length);
  checkCount('projectAl', 'a batch size', batchSize);
  const { ranges, sums, max } = linearPartition(stepMs, devices);
  return { msPerBatch: max, samplesPerSec: throughput(max, batchSize), stages: ranges, fillMs: sums.reduce((s, c) => s + c, 0) - max };
}

export interface ProjectionRow {
  devices: number;
  bp: number;
  /** undefined when there are more devices than layers to give them */
  gpipe: number | undefined;
  al: number | undefined;
}

/**
 * Samples/s of BP, GPipe and pipelined AL for each device count: the table the benchmark prints
 * (4, 8, 16 devices). BP cannot spread its layers over devices (backward locking), so its figure
 * is the same on every row.
 */
export function projectThroughput(options: {
  bpLayers: readonly PhaseCost[];
  alStepMs: readonly number[];
  devices: readonly number[];
  microBatches: number;
  batchSize: number;
}): ProjectionRow[] {
  const bp = projectBp(options.bpLayers, options.batchSize).samplesPerSec;
  return options.devices.map((devices) => ({
    devices,
    bp,
    gpipe: devices <= options.bpLayers.length
      ? projectGpipe(options.bpLayers, { devices, microBatches: options.microBatches, batchSize: options.batchSize }).samplesPerSec
      : undefined,
    al: devices <= options.alStepMs.length ? projectAl(options.alStepMs, { devices, batchSize: options.batchSize }).samplesPerSec : undefined,
  }));
}
