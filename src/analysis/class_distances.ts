// Inter-class and intra-class distances of a representation, and their ratio: how well a layer
// separates the classes (the paper's table of "inter- and intra-distances"; the paper gives no
// formula, so we use the centroid form below and say so in docs/cli.md).
//
// For N points x_i ∈ R^D with labels y_i, over the set C of classes present (n_c ≥ 1 points each):
//
//   centroid      μ_c   = (1/n_c) Σ_{i: y_i = c} x_i
//   intra-class   intra = (1/|C|) Σ_{c ∈ C} (1/n_c) Σ_{i: y_i = c} ||x_i − μ_c||
//   inter-class   inter = mean over the |C|(|C|−1)/2 unordered pairs {c, c'} of ||μ_c − μ_c'||
//   ratio         inter / intra     (higher = better separated; null when intra = 0)
//
// with ||·|| the Euclidean norm. Intra is a mean of per-class means, so a large class does not
// outweigh a small one, as inter does not weigh classes by size either.
//
// The work stays in kernels: the centroids are one matrix product per batch,
// μ += Wᵀ X with W[i, c] = 1/n_c at the point's class ([N, |C|]ᵀ [N, D] → [|C|, D]); each
// squared distance is one call of the meanSquaredError kernel on two D-float rows (× D), which
// sums in double, so there is no cancellation as in ||x||² − 2x·μ + ||μ||². TypeScript loops only
// over points and class pairs, never over features.
//
// Representations too big to hold for N points (a conv layer's s_1 is 25k floats a sample) are
// streamed: pass 1 feeds every batch to addToCentroids, pass 2 the same batches again to
// addToDistances, so memory is |C| × D plus one batch.
import { backend } from '../backend/backend.js';

export interface ClassDistances {
  inter: number;
  intra: number;
  /** inter / intra; null when intra is 0 (every class a single point) */
  ratio: number | null;
  /** classes present among the points */
  classes: number;
  samples: number;
  features: number;
}

/** sqrt(Σ (a − b)²) of two equal-length rows, by the meanSquaredError kernel. */
function distance(a: Float32Array, b: Float32Array): number {
  return Math.sqrt(backend().meanSquaredError(a, b, null) * a.length);
}

/**
 * The mean Euclidean distance over all unordered pairs of the `count` rows of `rows` [count, D]:
 * the inter-class distance when the rows are class centroids. Needs at least 2 rows.
 */
export function meanPairwiseDistance(rows: Float32Array, count: number, features: number): number {
  if (!Number.isInteger(count) || count < 2) throw new RangeError(`meanPairwiseDistance: expected at least 2 rows, got ${count}`);
  if (rows.length !== count * features) throw new RangeError(`meanPairwiseDistance: expected ${count} × ${features} = ${count * features} floats, got ${rows.length}`);
  let total = 0;
  for (let a = 0; a < count; a++) {
    const ra = rows.subarray(a * features, (a + 1) * features);
    for (let b = a + 1; b < count; b++) total += distance(ra, rows.subarray(b * features, (b + 1) * features));
  }
  return total / ((count * (count - 1)) / 2);
}

/** Both passes over a representation, batch by batch; see the header. */
export class ClassDistanceAccumulator {
  /** class → row of the centroid matrix, −1 for absent classes */
  private readonly slot: Int32Array;
  private readonly counts: number[] = [];
  private readonly centroids: Float32Array;
  private readonly distanceSums: Float64Array;
  private centroidRows = 0;
  private distanceRows = 0;

  /** `labels` are the labels of all N points, in the order the batches will arrive. */
  constructor(private readonly labels: Int32Array, classes: number, readonly features: number) {
    if (!Number.isInteger(features) || features < 1) throw new RangeError(`ClassDistanceAccumulator: expected features >= 1, got ${features}`);
    this.slot = new Int32Array(classes).fill(-1);
    labels.forEach((label, i) => {
      if (!(label >= 0 && label < classes)) throw new RangeError(`ClassDistanceAccumulator: expected labels in 0..${classes - 1}, got ${label} at point ${i}`);
      if (this.slot[label] === -1) {
        this.slot[label] = this.counts.length;
        this.counts.push(0);
      }
      this.counts[this.slot[label]!]!++;
    });
    if (this.counts.length < 2) throw new RangeError(`ClassDistanceAccumulator: expected points of at least 2 classes, got ${this.counts.length}`);
    this.centroids = new Float32Array(this.counts.length * features);
    this.distanceSums = new Float64Array(this.counts.length);
  }

  get classes(): number {
    return this.counts.length;
  }

  private rowsOf(what: string, rows: Float32Array, start: number, expected: number): number {
    const n = rows.length / this.features;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`${what}: expected a whole number of ${this.features}-float rows, got ${rows.length} floats`);
    if (start !== expected) throw new RangeError(`${what}: expected the batch starting at point ${expected}, got ${start}`);
    if (start + n > this.labels.length) throw new RangeError(`${what}: points ${start}..${start + n - 1} exceed the ${this.labels.length} labels`);
    return n;
  }

  /** Pass 1: the batch [n, D] of points start..start+n−1 adds its share to every centroid. */
  addToCentroids(rows: Float32Array, start: number): void {
    const n = this.rowsOf('addToCentroids', rows, start, this.centroidRows);
    const k = this.counts.length;
    const weights = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      const s = this.slot[this.labels[start + i]!]!;
      weights[i * k + s] = 1 / this.counts[s]!;
    }
    // centroids[k, D] += weightsᵀ [k, n] @ rows [n, D]
    backend().matmul(weights, rows, null, this.centroids, { m: k, k: n, n: this.features, transA: true, transB: false, accumulate: true });
    this.centroidRows += n;
  }

  /** Pass 2, after every point went through pass 1: each point's distance to its centroid. */
  addToDistances(rows: Float32Array, start: number): void {
    if (this.centroidRows !== this.labels.length) {
      throw new RangeError(`addToDistances: the centroids have ${this.centroidRows} of ${this.labels.length} points; finish pass 1 first`);
    }
    const n = this.rowsOf('addToDistances', rows, start, this.distanceRows);
    const d = this.features;
    for (let i = 0; i < n; i++) {
      const s = this.slot[this.labels[start + i]!]!;
      this.distanceSums[s]! += distance(rows.subarray(i * d, (i + 1) * d), this.centroids.subarray(s * d, (s + 1) * d));
    }
    this.distanceRows += n;
  }

  /** The class centroids [classes present, D], in order of first appearance among the labels. */
  centroidMatrix(): Float32Array {
    return this.centroids;
  }

  result(): ClassDistances {
    if (this.distanceRows !== this.labels.length) {
      throw new RangeError(`ClassDistanceAccumulator: pass 2 has ${this.distanceRows} of ${this.labels.length} points`);
    }
    const k = this.counts.length;
    let intra = 0;
    for (let s = 0; s < k; s++) intra += this.distanceSums[s]! / this.counts[s]!;
    intra /= k;
    const inter = meanPairwiseDistance(this.centroids, k, this.features);
    return { inter, intra, ratio: intra > 0 ? inter / intra : null, classes: k, samples: this.labels.length, features: this.features };
  }
}

/**
 * Distances of points held in memory: x [N, D] row-major with `labels` [N].
 *
 *   classDistances(Float32Array.of(0, 0, 2, 0, 10, 0, 12, 0), Int32Array.of(0, 0, 1, 1), 2, 2)
 *     → intra 1 (every point 1 from its centroid), inter 10, ratio 10
 */
export function classDistances(x: Float32Array, labels: Int32Array, classes: number, features: number, batchRows = 512): ClassDistances {
  if (x.length !== labels.length * features) {
    throw new RangeError(`classDistances: expected ${labels.length} points × ${features} features = ${labels.length * features} floats, got ${x.length}`);
  }
  const acc = new ClassDistanceAccumulator(labels, classes, features);
  for (const pass of [acc.addToCentroids, acc.addToDistances]) {
    for (let start = 0; start < labels.length; start += batchRows) {
      const end = Math.min(start + batchRows, labels.length);
      pass.call(acc, x.subarray(start * features, end * features), start);
    }
  }
  return acc.result();
}
