// Dense kernels: matrix product and the row reduction that gives bias gradients.
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
