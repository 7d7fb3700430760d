// Losses (mean over the batch, returned as a float64 number) and row argmax.
import type { F32 } from '../kernel_names.js';
import { requireDims, requireLength, requireSameLength } from './check.js';

/**
 * For each row r of logits [rows, cols] with label t:
 *   lse = max + log sum_j exp(x[r, j] - max)          (shifted, so exp never overflows)
 *   loss_r = lse - x[r, t]
 *   grad[r, j] = (exp(x[r, j] - lse) - [j == t]) / rows
 * Returns (1/rows) sum_r loss_r. Math.max propagates NaN, so a NaN logit makes its row's loss and
 * gradient NaN.
 */
export function softmaxCrossEntropy(logits: F32, labels: Int32Array, grad: F32 | null, rows: number, cols: number): number {
  requireDims('softmaxCrossEntropy', { rows, cols });
  requireLength('softmaxCrossEntropy', 'logits', logits, rows * cols);
  requireLength('softmaxCrossEntropy', 'labels', labels, rows);
  if (grad !== null) requireLength('softmaxCrossEntropy', 'grad', grad, rows * cols);
  // All labels are checked before any output is written.
  for (let r = 0; r < rows; r++) {
    const t = labels[r];
    if (t < 0 || t >= cols) throw new RangeError(`softmaxCrossEntropy: row ${r} has label ${t}, outside [0, ${cols})`);
  }
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) max = Math.max(max, logits[base + j]);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(logits[base + j] - max);
    const lse = max + Math.log(s);
    total += lse - logits[base + labels[r]];
    if (grad !== null) {
      for (let j = 0; j < cols; j++) grad[base + j] = (Math.exp(logits[base + j] - lse) - (j === labels[r] ? 1 : 0)) / rows;
    }
  }
  return total / rows;
}

/** Returns (1/N) sum (p - t)^2 over all N elements; grad = 2 (p - t) / N. */
export function meanSquaredError(pred: F32, target: F32, grad: F32 | null): number {
  const n = pred.length;
  requireSameLength('meanSquaredError', 'target', target, n, 'pred');
  if (grad !== null) requireSameLength('meanSquaredError', 'grad', grad, n, 'pred');
  let total = 0;
  for (let i = 0; i < n; i++) {
    const d = pred[i] - target[i];
    total += d * d;
    if (grad !== null) grad[i] = (2 * d) / n;
  }
  return total / n;
}

/** out[r] = first index of the largest x[r, :]; a row holding NaN gives the index of its first NaN. */
export function argmaxRows(x: F32, out: Int32Array, rows: number, cols: number): void {
  requireDims('argmaxRows', { rows, cols });
  if (cols === 0 && rows > 0) throw new RangeError('argmaxRows: cols must be >= 1, a row with no entries has no argmax');
  requireLength('argmaxRows', 'x', x, rows * cols);
  requireLength('argmaxRows', 'out', out, rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let best = 0;
    for (let j = 0; j < cols; j++) {
      const v = x[base + j];
      if (v !== v) {
        best = j;
        break;
      }
      if (v > x[base + best]) best = j;
    }
    out[r] = best;
  }
}
