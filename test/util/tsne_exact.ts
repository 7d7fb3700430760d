// The exact O(n^2) t-SNE objective and gradient in float64, written straight from the
// definitions (van der Maaten & Hinton 2008, eq. 2 and 5 with the Student-t kernel), as the
// oracle for the native Barnes–Hut code. P is the sparse joint in CSR form; Q is dense.

export interface Csr {
  rowPtr: Int32Array;
  cols: Int32Array;
  vals: Float32Array;
}

/** w_ij = 1 / (1 + ||y_i - y_j||^2) and Z = sum over i != j. */
function kernel(y: ArrayLike<number>, i: number, j: number): number {
  const dx = y[2 * i]! - y[2 * j]!;
  const dy = y[2 * i + 1]! - y[2 * j + 1]!;
  return 1 / (1 + dx * dx + dy * dy);
}

function normaliser(y: ArrayLike<number>, n: number): number {
  let z = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) z += kernel(y, i, j);
  return z;
}

/** KL(P || Q) = sum_ij P_ij ln(P_ij / q_ij), q_ij = w_ij / Z. */
export function exactKl(p: Csr, y: ArrayLike<number>, n: number): number {
  const z = normaliser(y, n);
  let kl = 0;
  for (let i = 0; i < n; i++) {
    for (let e = p.rowPtr[i]!; e < p.rowPtr[i + 1]!; e++) {
      const pij = p.vals[e]!;
      if (pij > 0) kl += pij * Math.log(pij / (kernel(y, i, p.cols[e]!) / z));
    }
  }
  return kl;
}

/** dC/dy_i = 4 sum_j (alpha P_ij - q_ij) w_ij (y_i - y_j), with P exaggerated by alpha. */
export function exactGradient(p: Csr, y: ArrayLike<number>, n: number, alpha = 1): Float64Array {
  const z = normaliser(y, n);
  const dense = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let e = p.rowPtr[i]!; e < p.rowPtr[i + 1]!; e++) dense[i * n + p.cols[e]!] = p.vals[e]!;
  const grad = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const w = kernel(y, i, j);
      const coefficient = 4 * (alpha * dense[i * n + j]! - w / z) * w;
      grad[2 * i] += coefficient * (y[2 * i]! - y[2 * j]!);
      grad[2 * i + 1] += coefficient * (y[2 * i + 1]! - y[2 * j + 1]!);
    }
  }
  return grad;
}
