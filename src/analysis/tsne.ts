// t-SNE embeddings in 2-D, Barnes–Hut accelerated, on the native core (native/tsne.h).
//
// Method: van der Maaten & Hinton 2008, "Visualizing Data using t-SNE" (JMLR 9), with the
// O(n log n) approximations of van der Maaten 2014, "Accelerating t-SNE using tree-based
// algorithms" (JMLR 15): input affinities over each point's 3·perplexity nearest neighbours only,
// and repulsive forces from a quadtree.
//
// Schedule (the 2014 paper's, with the learning rate of Belkina et al. 2019, "Automated
// optimized parameters for t-SNE", which keeps large n from converging slowly):
//   - y_i ~ N(0, 1e-4 I) from `seed`;
//   - the first `exaggerationIterations` (250) steps multiply P by `earlyExaggeration` (12) and use
//     momentum 0.5; the rest use P itself and momentum 0.8;
//   - learning rate max(200, n / earlyExaggeration); per-coordinate gains, floored at 0.01.
// The result depends only on the inputs, the options and nothing else: not on the thread count,
// nor on how the run is split into step() calls.
//
// Cost: the neighbour search is exact, O(n^2 dims) (1.4 s for 5,000 MNIST images of 784 pixels
// here, 6.6 s for 10,000); the descent is O(n log n) a step (about 7 ms at n = 5,000 on one
// core). Beyond a few 10^4 points, subsample or reduce the dimension first. Threads: the
// addon's count (setNumThreads); below 2048 points the native code stays on one. On a loaded
// shared machine one thread can beat two, since every step ends in a barrier that waits for a
// parked thread (scripts/tsne_bench.mjs --threads measures both).
//
// Example:
//   const y = tsne(images, 5000, 784, { perplexity: 30, seed: 7 });   // Float32Array [5000, 2]
//
//   const run = new TsneRun(images, 5000, 784, { seed: 7 });          // the same, in chunks
//   while (!run.done) console.log(run.iteration, run.step(50));       // KL divergence per chunk
import type { AnalysisKernels, I32 } from '../backend/analysis_kernels.js';
import { loadNative } from '../backend/load_native.js';
import { Rng } from '../tensor/rng.js';

export interface TsneOptions {
  /** Effective number of neighbours of each point's Gaussian; 3·perplexity must be below n. Default 30. */
  perplexity?: number;
  /** Barnes–Hut accuracy: 0 is exact (O(n^2)), larger is faster and coarser. Default 0.5. */
  theta?: number;
  /** Gradient steps in all. Default 1000. */
  iterations?: number;
  /** Seed of the initial embedding. Default 1. */
  seed?: number;
  /** Step size. Default max(200, n / earlyExaggeration). */
  learningRate?: number;
  /** Factor on P during the first steps, which lets clusters form before they settle. Default 12. */
  earlyExaggeration?: number;
  /** Steps of exaggeration (and of the lower momentum, 0.5). Default 250. */
  exaggerationIterations?: number;
  /** Called every `progressEvery` steps and after the last one. */
  onProgress?: (progress: TsneProgress) => void;
  /** Default 50. */
  progressEvery?: number;
}

export interface TsneProgress {
  /** steps done */
  iteration: number;
  iterations: number;
  /** KL(P || Q) at the start of the latest step (Barnes–Hut estimate of Z when theta > 0) */
  kl: number;
}

const MOMENTUM_EARLY = 0.5;
const MOMENTUM_LATE = 0.8;
const MIN_GAIN = 0.01;
const INIT_STD = 1e-2; // N(0, 1e-4): standard deviation 1e-2

function fail(what: string, arg: string, value: unknown): never {
  throw new RangeError(`tsne: expected ${what} for ${arg}, got ${String(value)}`);
}

function integer(arg: string, v: number, min: number): number {
  if (!Number.isSafeInteger(v) || v < min) fail(`an integer >= ${min}`, arg, v);
  return v;
}

function finite(arg: string, v: number, min: number, strict = false): number {
  if (!Number.isFinite(v) || v < min || (strict && v === min)) fail(`a finite number ${strict ? '>' : '>='} ${min}`, arg, v);
  return v;
}

/** Every value finite; names the first bad one by point and feature. */
function checkPoints(points: Float32Array, n: number, dims: number): void {
  if (!(points instanceof Float32Array)) fail('a Float32Array', 'points', Object.prototype.toString.call(points));
  if (points.length !== n * dims) fail(`n * dims = ${n} * ${dims} = ${n * dims} values`, 'points', `${points.length} values`);
  for (let i = 0; i < points.length; i++) {
    const v = points[i]!;
    if (!Number.isFinite(v)) fail('finite values', 'points', `${v} at index ${i} (point ${Math.floor(i / dims)}, feature ${i % dims})`);
  }
}

interface Resolved {
  perplexity: number;
  theta: number;
  iterations: number;
  seed: number;
  learningRate: number;
  earlyExaggeration: number;
  exaggerationIterations: number;
}

function resolve(n: number, o: TsneOptions): Resolved {
  const perplexity = finite('perplexity', o.perplexity ?? 30, 1);
  if (3 * perplexity >= n) {
    fail(`3·perplexity below the number of points n = ${n} (each point needs 3·perplexity neighbours)`, 'perplexity', perplexity);
  }
  const earlyExaggeration = finite('earlyExaggeration', o.earlyExaggeration ?? 12, 0, true);
  return {
    perplexity,
    theta: finite('theta', o.theta ?? 0.5, 0),
    iterations: integer('iterations', o.iterations ?? 1000, 1),
    seed: integer('seed', o.seed ?? 1, 0),
    learningRate: finite('learningRate', o.learningRate ?? Math.max(200, n / earlyExaggeration), 0, true),
    earlyExaggeration,
    exaggerationIterations: integer('exaggerationIterations', o.exaggerationIterations ?? 250, 0),
  };
}

/** The sparse joint distribution P in CSR form (rows ascending columns; the values sum to 1). */
export interface JointP {
  rowPtr: Int32Array;
  cols: Int32Array;
  vals: Float32Array;
}

/** A t-SNE run whose state lives here, advanced by step(); see the file header for the method. */
export class TsneRun {
  readonly n: number;
  readonly iterations: number;
  readonly options: Readonly<Resolved>;
  readonly p: JointP;
  /** KL divergence at the start of the latest step (NaN before the first). */
  kl = Number.NaN;
  private done_ = 0;
  private readonly kernels: AnalysisKernels;
  private readonly y: Float32Array;
  private readonly update: Float32Array;
  private readonly gains: Float32Array;

  /** points [n, dims] row-major; computes the affinities (the expensive part for large dims) at once. */
  constructor(points: Float32Array, n: number, dims: number, options: TsneOptions = {}) {
    integer('n', n, 4);
    integer('dims', dims, 1);
    checkPoints(points, n, dims);
    this.options = resolve(n, options);
    this.n = n;
    this.iterations = this.options.iterations;
    const k = Math.floor(3 * this.options.perplexity);
    if (2 * n * k > 2 ** 31 - 1) fail('2·n·3·perplexity below 2^31 (the sparse P uses 32-bit indices)', 'n', n);
    this.kernels = loadNative();

    const neighbours = new Int32Array(n * k);
    const condP = new Float32Array(n * k);
    this.kernels.tsneAffinities(points, neighbours, condP, { n, dims, k, perplexity: this.options.perplexity });
    const rowPtr = new Int32Array(n + 1);
    const cols: I32 = new Int32Array(2 * n * k);
    const vals = new Float32Array(2 * n * k);
    const nnz = this.kernels.tsneJointP(neighbours, condP, rowPtr, cols, vals, { n, k });
    this.p = { rowPtr, cols: cols.slice(0, nnz), vals: vals.slice(0, nnz) };

    const rng = new Rng(this.options.seed);
    this.y = Float32Array.from({ length: 2 * n }, () => rng.normal() * INIT_STD);
    this.update = new Float32Array(2 * n);
    this.gains = new Float32Array(2 * n).fill(1);
  }

  /** Steps taken so far. */
  get iteration(): number {
    return this.done_;
  }

  get done(): boolean {
    return this.done_ >= this.iterations;
  }

  /** A copy of the current embedding, [n, 2] row-major. */
  get embedding(): Float32Array {
    return this.y.slice();
  }

  /** Takes up to `count` more steps (all that remain by default); returns the KL divergence. */
  step(count = this.iterations - this.done_): number {
    integer('count', count, 0);
    const { exaggerationIterations: early, earlyExaggeration, theta, learningRate } = this.options;
    let left = Math.min(count, this.iterations - this.done_);
    while (left > 0) {
      // The kernel runs with one momentum and one exaggeration, so a chunk stops at the switch.
      const inEarly = this.done_ < early;
      const run = inEarly ? Math.min(left, early - this.done_) : left;
      this.kl = this.kernels.tsneIterate(this.y, this.update, this.gains, this.p.rowPtr, this.p.cols, this.p.vals, {
        n: this.n,
        iterations: run,
        theta,
        exaggeration: inEarly ? earlyExaggeration : 1,
        momentum: inEarly ? MOMENTUM_EARLY : MOMENTUM_LATE,
        learningRate,
        minGain: MIN_GAIN,
      });
      this.done_ += run;
      left -= run;
    }
    return this.kl;
  }
}

/** The 2-D t-SNE embedding [n, 2] of points [n, dims]; see TsneOptions for the defaults. */
export function tsne(points: Float32Array, n: number, dims: number, options: TsneOptions = {}): Float32Array {
  const every = integer('progressEvery', options.progressEvery ?? 50, 1);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    fail('a function', 'onProgress', typeof options.onProgress);
  }
  const run = new TsneRun(points, n, dims, options);
  while (!run.done) {
    const kl = run.step(every);
    options.onProgress?.({ iteration: run.iteration, iterations: run.iterations, kl });
  }
  return run.embedding;
}
