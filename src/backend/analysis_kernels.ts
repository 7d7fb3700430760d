// Native analysis kernels: the t-SNE steps (native/tsne.h), exported by the addon beside the
// Backend methods but not part of the Backend contract.
//
// Why not in Backend: Backend is the per-layer compute boundary that Tensor ops dispatch through,
// with a pure-TS twin for every kernel so that training can run on either. t-SNE is a whole
// algorithm run once on finished representations, never inside a training step; putting it in
// Backend would oblige the reference backend to carry a second t-SNE only to fill the contract.
// The oracle it deserves (an exact O(n^2) gradient and KL divergence) lives in the tests instead.
//
// The same rules as for kernels hold: Float32Array/Int32Array views, sizes in an attributes
// object, outputs in caller-allocated buffers, and nothing retained between calls.

export type F32 = Float32Array;
export type I32 = Int32Array;

export interface TsneAffinityAttrs {
  /** points */
  n: number;
  /** features per point */
  dims: number;
  /** neighbours per point, 1 <= k < n */
  k: number;
  /** the perplexity each conditional row p_{.|i} is calibrated to, >= 1 and below k */
  perplexity: number;
}

export interface TsneJointAttrs {
  n: number;
  k: number;
}

export interface TsneGradientAttrs {
  n: number;
  /** Barnes–Hut accuracy; 0 computes the exact gradient */
  theta: number;
  /** multiplies P in the attractive forces (early exaggeration) */
  exaggeration: number;
}

export interface TsneIterateAttrs extends TsneGradientAttrs {
  iterations: number;
  momentum: number;
  learningRate: number;
  minGain: number;
}

export interface AnalysisKernels {
  /**
   * Exact k nearest neighbours of each row of x [n, dims] (squared Euclidean, never the point
   * itself, ascending) into neighbours [n, k], and the calibrated conditionals p_{j|i} into condP [n, k].
   */
  tsneAffinities(x: F32, neighbours: I32, condP: F32, attrs: TsneAffinityAttrs): void;
  /**
   * The symmetrised joint P_ij = (p_{j|i} + p_{i|j}) / 2n in CSR form: rowPtr [n + 1]; cols and vals
   * need room for 2nk entries. Returns the number of non-zeros.
   */
  tsneJointP(neighbours: I32, condP: F32, rowPtr: I32, cols: I32, vals: F32, attrs: TsneJointAttrs): number;
  /** grad [n, 2] = dKL(P || Q)/dy at y [n, 2]; returns KL(P || Q) (Z from the same tree). */
  tsneGradient(y: F32, rowPtr: I32, cols: I32, vals: F32, grad: F32, attrs: TsneGradientAttrs): number;
  /**
   * `iterations` descent steps with momentum and gains on y, update and gains [n, 2] in place;
   * returns the KL divergence at the start of the last step.
   */
  tsneIterate(y: F32, update: F32, gains: F32, rowPtr: I32, cols: I32, vals: F32, attrs: TsneIterateAttrs): number;
}
