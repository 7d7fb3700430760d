// Batch normalisation over x viewed as [rows, c], one set of statistics per channel.
//   forward:  xhat = (x - mean[c]) / sqrt(var[c] + eps),  y = gamma[c] * xhat + beta[c]
//   backward (batch statistics, so mean and var depend on x):
//     dbeta[c]  = sum_r dy
//     dgamma[c] = sum_r dy * xhat
//     dx        = gamma[c] / sqrt(var[c] + eps) * (dy - dbeta[c]/rows - xhat * dgamma[c]/rows)
// With attrs.relu the output is max(0, y); the workspace keeps one byte per element (1 where
// y > 0), and the backward pass first masks dy with it.
import type { BatchNormAttrs, F32 } from '../kernel_names.js';
import { requireDims, requireLength } from './check.js';

function checkBn(kernel: string, attrs: BatchNormAttrs, buffers: Record<string, F32>, perRow: string[]): void {
  const { rows, c, eps } = attrs;
  requireDims(kernel, { rows, c });
  if (!(eps >= 0)) throw new RangeError(`${kernel}: eps must be >= 0, got ${eps}`);
  for (const [name, a] of Object.entries(buffers)) requireLength(kernel, name, a, perRow.includes(name) ? rows * c : c);
}

/** The workspace a training pass needs with relu, and must not be given without. */
function checkWorkspace(kernel: string, attrs: BatchNormAttrs, workspace: Uint8Array | undefined): workspace is Uint8Array {
  if (!attrs.relu) {
    if (workspace) throw new Error(`${kernel}: a workspace is only used with relu`);
    return false;
  }
  if (!workspace) throw new Error(`${kernel}: relu needs the workspace (batchNormWorkspaceBytes bytes)`);
  requireLength(kernel, 'workspace', workspace, batchNormWorkspaceBytes(attrs));
  return true;
}

export function batchNormWorkspaceBytes(attrs: BatchNormAttrs): number {
  requireDims('batchNormWorkspaceBytes', { rows: attrs.rows, c: attrs.c });
  return attrs.relu ? attrs.rows * attrs.c : 0;
}

/** y = max(0, y) over the [rows, c] prefix, recording where y was positive when asked. */
function reluInPlace(y: F32, n: number, mask?: Uint8Array): void {
  for (let i = 0; i < n; i++) {
    const positive = y[i] > 0;
    if (mask) mask[i] = positive ? 1 : 0;
    if (!positive) y[i] = 0;
  }
}

/** y = gamma * (x - mean) / sqrt(var + eps) + beta, with the given per-channel mean and var. */
function normalise(x: F32, gamma: F32, beta: F32, mean: ArrayLike<number>, variance: ArrayLike<number>, y: F32, attrs: BatchNormAttrs): void {
  const { rows, c, eps } = attrs;
  for (let ch = 0; ch < c; ch++) {
    const scale = gamma[ch] / Math.sqrt(variance[ch] + eps);
    for (let r = 0; r < rows; r++) y[r * c + ch] = (x[r * c + ch] - mean[ch]) * scale + beta[ch];
  }
}

/** Batch mean and biased variance (divide by rows), two passes so the variance is not a difference of large sums. */
export function batchNormForwardTraining(x: F32, gamma: F32, beta: F32, y: F32, mean: F32, variance: F32, attrs: BatchNormAttrs, workspace?: Uint8Array): void {
  checkBn('batchNormForwardTraining', attrs, { x, gamma, beta, y, mean, variance }, ['x', 'y']);
  const fused = checkWorkspace('batchNormForwardTraining', attrs, workspace);
  const { rows, c } = attrs;
  const mu = new Float64Array(c);
  const v = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += x[r * c + ch];
    mu[ch] = s / rows;
    let q = 0;
    for (let r = 0; r < rows; r++) q += (x[r * c + ch] - mu[ch]) ** 2;
    v[ch] = q / rows;
  }
  normalise(x, gamma, beta, mu, v, y, attrs);
  if (fused) reluInPlace(y, rows * c, workspace);
  mean.set(mu);
  variance.set(v);
}

export function batchNormForwardInference(x: F32, gamma: F32, beta: F32, mean: F32, variance: F32, y: F32, attrs: BatchNormAttrs): void {
  checkBn('batchNormForwardInference', attrs, { x, gamma, beta, mean, variance, y }, ['x', 'y']);
  normalise(x, gamma, beta, mean, variance, y, attrs);
  if (attrs.relu) reluInPlace(y, attrs.rows * attrs.c);
}

export function batchNormBackward(
  x: F32, dy: F32, gamma: F32, mean: F32, variance: F32,
  dx: F32, dGamma: F32, dBeta: F32, attrs: BatchNormAttrs, workspace?: Uint8Array,
): void {
  checkBn('batchNormBackward', attrs, { x, dy, gamma, mean, variance, dx, dGamma, dBeta }, ['x', 'dy', 'dx']);
  const { rows, c, eps } = attrs;
  if (checkWorkspace('batchNormBackward', attrs, workspace)) dy = dy.map((g, i) => (i < rows * c && workspace[i] ? g : 0));
  for (let ch = 0; ch < c; ch++) {
    const invStd = 1 / Math.sqrt(variance[ch] + eps);
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let r = 0; r < rows; r++) {
      const g = dy[r * c + ch];
      sumDy += g;
      sumDyXhat += g * (x[r * c + ch] - mean[ch]) * invStd;
    }
    const k = gamma[ch] * invStd;
    for (let r = 0; r < rows; r++) {
      const xhat = (x[r * c + ch] - mean[ch]) * invStd;
      dx[r * c + ch] = k * (dy[r * c + ch] - sumDy / rows - xhat * sumDyXhat / rows);
    }
    dGamma[ch] = sumDyXhat;
    dBeta[ch] = sumDy;
  }
}
