// How close each AL layer's bridge output b_k(s_k) lands to its class code, in measures that can
// be compared from layer to layer.
//
//   class code     t_k(c) = g_k(... g_1(e_c)), the target of every sample of class c at layer k
//   associated     A_k = mean over test samples and features of (b_k(s_k) − t_k(y))², the
//                  training loss's own definition, on the test set
//   code spread    S_k = mean over ordered pairs of distinct classes c ≠ c' of
//                  mean over features of (t_k(c) − t_k(c'))²: how far apart the codes lie, in the
//                  loss's own units
//   normalised     A_k / S_k: 0 = every bridge output on its class code; 1 = as far from its own
//                  code, on average, as two codes are from each other (a bridge output that sat on
//                  the code of another class scores about 1)
//   nearest code   the fraction of test samples whose b_k(s_k) is nearer (Euclidean) to t_k(y)
//                  than to the code of any other class
//
// Why normalise: the raw loss's scale is set by S_k, and S_k changes with depth (each g_k maps
// the codes of the layer below through a sigmoid, which can draw them together), so a raw loss
// that falls with depth may only mean that the codes drew together. A_k / S_k and the
// nearest-code accuracy do not move when the codes are scaled.
//
// Work stays in kernels: each squared distance is one meanSquaredError call on two rows;
// TypeScript loops over samples and classes, never over features.
import type { AssociatedNet } from '../al/associated_net.js';
import { oneHot } from '../al/associated_net.js';
import { backend } from '../backend/backend.js';
import type { Split } from '../data/dataset.js';
import { Tensor, noGrad } from '../tensor/tensor.js';

export interface LayerCodeRow {
  /** 1-based AL layer */
  layer: number;
  /** width of t_k */
  features: number;
  /** A_k on the test set */
  associated: number;
  /** S_k */
  spread: number;
  /** A_k / S_k (null when the codes coincide, S_k = 0) */
  normalised: number | null;
  /** fraction of samples whose b_k(s_k) is nearest to their own class code */
  nearestCodeAccuracy: number;
}

/** The codes t_k(c) of classes 0..classes−1 for k = 1..depth: one [classes, width] row-major array per layer. */
export function classCodes(net: AssociatedNet): Float32Array[] {
  net.train(false);
  try {
    return noGrad(() => {
      let t = oneHot(Int32Array.from({ length: net.classes }, (_, c) => c), net.classes);
      return net.layers.map((layer) => {
        t = layer.parts.g.forward(t);
        return Float32Array.from(t.data);
      });
    });
  } finally {
    net.train(true);
  }
}

function row(rows: Float32Array, i: number, features: number): Float32Array {
  return rows.subarray(i * features, (i + 1) * features);
}

/** S: the mean per-feature squared distance between the codes of two distinct classes. */
export function codeSpread(codes: Float32Array, classes: number, features: number): number {
  if (!Number.isInteger(classes) || classes < 2) throw new RangeError(`codeSpread: expected at least 2 classes, got ${classes}`);
  if (codes.length !== classes * features) throw new RangeError(`codeSpread: expected ${classes} × ${features} = ${classes * features} floats, got ${codes.length}`);
  const mse = backend().meanSquaredError.bind(backend());
  let total = 0;
  for (let a = 0; a < classes; a++) for (let b = a + 1; b < classes; b++) total += mse(row(codes, a, features), row(codes, b, features), null);
  return total / ((classes * (classes - 1)) / 2);
}

/** Running sums of A_k and of nearest-code hits over batches of points. */
export class CodeAccumulator {
  private squared = 0;
  private hits = 0;
  private samples = 0;

  constructor(readonly codes: Float32Array, readonly classes: number, readonly features: number) {
    if (codes.length !== classes * features) throw new RangeError(`CodeAccumulator: expected ${classes} × ${features} codes, got ${codes.length} floats`);
  }

  /** points [n, features] row-major with their labels; ties go to the lower class index. */
  add(points: Float32Array, labels: ArrayLike<number>): void {
    const n = labels.length;
    if (points.length !== n * this.features) throw new RangeError(`CodeAccumulator: expected ${n} × ${this.features} floats, got ${points.length}`);
    const mse = backend().meanSquaredError.bind(backend());
    for (let i = 0; i < n; i++) {
      const p = row(points, i, this.features);
      const label = labels[i]!;
      if (!(label >= 0 && label < this.classes)) throw new RangeError(`CodeAccumulator: expected labels in 0..${this.classes - 1}, got ${label}`);
      let best = -1, bestDistance = Infinity, own = 0;
      for (let c = 0; c < this.classes; c++) {
        const d = mse(p, row(this.codes, c, this.features), null);
        if (c === label) own = d;
        if (d < bestDistance) {
          bestDistance = d;
          best = c;
        }
      }
      this.squared += own;
      if (best === label) this.hits++;
    }
    this.samples += n;
  }

  result(): { associated: number; nearestCodeAccuracy: number; samples: number } {
    return { associated: this.samples === 0 ? 0 : this.squared / this.samples, nearestCodeAccuracy: this.samples === 0 ? 0 : this.hits / this.samples, samples: this.samples };
  }
}

/** Every AL layer's row on `split`, in evaluation mode: the encoders run once per batch. */
export function layerCodeRows(net: AssociatedNet, split: Split, batchSize = 500): LayerCodeRow[] {
  const codes = classCodes(net);
  const widths = codes.map((c) => c.length / net.classes);
  const accumulators = codes.map((c, k) => new CodeAccumulator(c, net.classes, widths[k]!));
  const size = split.shape.reduce((p, d) => p * d, 1);
  net.train(false);
  try {
    noGrad(() => {
      for (let start = 0; start < split.n; start += batchSize) {
        const b = Math.min(batchSize, split.n - start);
        let s = new Tensor(split.images.subarray(start * size, (start + b) * size), [b, ...split.shape]);
        const labels = split.labels.subarray(start, start + b);
        net.layers.forEach((layer, k) => {
          s = layer.encode(s);
          accumulators[k]!.add(layer.bridge(s).data, labels);
        });
      }
    });
  } finally {
    net.train(true);
  }
  return accumulators.map((a, k) => {
    const { associated, nearestCodeAccuracy } = a.result();
    const spread = codeSpread(codes[k]!, net.classes, widths[k]!);
    return { layer: k + 1, features: widths[k]!, associated, spread, normalised: spread > 0 ? associated / spread : null, nearestCodeAccuracy };
  });
}
