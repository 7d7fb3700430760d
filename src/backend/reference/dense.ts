// Dense kernels: matrix product, the row reduction that gives bias gradients, and row gathers
// with their scatter-adds.
import type { F32, MatMulAttrs } from '../kernel_names.js';
import { requireDims, requireLength } from './check.js';

/**
 * out[i, j] = sum_p op(a)[i, p] * op(b)[p, j] (+ bias[j]) (+ out[i, j] when accumulate).
 * Transposition only changes the strides: op(a)[i, p] = a[i*aI + p*aP], op(b)[p, j] = b[p*bP + j*bJ].
 */
export function matmul(a: F32, b: F32, bias: F32 | null, out: F32, attrs: MatMulAttrs): void {
  const { m, k, n, transA, transB, accumulate } = attrs;
  requireDims('matmul', { m, k, n });
  requireLength('matmul', 'a', a, m * k);
  requireLength('matmul', 'b', b, k * n);
  requireLength('matmul', 'out', out, m * n);
  if (bias !== null) requireLength('matmul', 'bias', bias, n);
  const [aI, aP] = transA ? [1, m] : [k, 1];
  const [bP, bJ] = transB ? [1, k] : [n, 1];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = bias === null ? 0 : bias[j];
      for (let p = 0; p < k; p++) s += a[i * aI + p * aP] * b[p * bP + j * bJ];
      // out is not read unless accumulating: it may hold anything, NaN included.
      out[i * n + j] = accumulate ? out[i * n + j] + s : s;
    }
  }
}

/** out[j] = sum_i x[i, j] for x [rows, cols]. */
export function sumRows(x: F32, out: F32, rows: number, cols: number): void {
  requireDims('sumRows', { rows, cols });
  requireLength('sumRows', 'x', x, rows * cols);
  requireLength('sumRows', 'out', out, cols);
  for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += x[i * cols + j];
    out[j] = s;
  }
}

/** Every index must name a row of a table of `rows`; checked before anything is written. */
function requireRowIndices(kernel: string, index: Int32Array, rows: number): void {
  index.forEach((r, i) => {
    if (r < 0 || r >= rows) throw new RangeError(`${kernel}: index[${i}] = ${r} is not a row of ${rows}`);
  });
}

/** out[i, :] = x[index[i], :] for x [rows, cols], out [index.length, cols]. */
export function gatherRows(x: F32, index: Int32Array, out: F32, rows: number, cols: number): void {
  requireDims('gatherRows', { rows, cols });
  requireLength('gatherRows', 'x', x, rows * cols);
  requireLength('gatherRows', 'out', out, index.length * cols);
  requireRowIndices('gatherRows', index, rows);
  index.forEach((r, i) => out.set(x.subarray(r * cols, (r + 1) * cols), i * cols));
}

/** out[r, :] = sum over i with index[i] = r of dy[i, :] (overwritten), added in float32 in the order of i. */
export function scatterAddRows(dy: F32, index: Int32Array, out: F32, rows: number, cols: number): void {
  requireDims('scatterAddRows', { rows, cols });
  requireLength('scatterAddRows', 'dy', dy, index.length * cols);
  requireLength('scatterAddRows', 'out', out, rows * cols);
  requireRowIndices('scatterAddRows', index, rows);
  out.fill(0, 0, rows * cols);
  index.forEach((r, i) => {
    // a Float32Array store rounds each sum of two floats once: float32 addition, as the native loop
    for (let j = 0; j < cols; j++) out[r * cols + j] += dy[i * cols + j];
  });
}
