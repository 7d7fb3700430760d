// The blocked image layout in plain TypeScript: the reorder itself, and wrappers that let the
// reference kernels (written for NHWC) take blocked operands by reordering around them. Slow and
// obviously correct, like the rest of this backend; the native kernels run on the layout itself.
import type {
  BatchNormAttrs, Conv2dAttrs, F32, ImageAttrs, PoolAttrs, ReorderAttrs,
} from '../kernel_names.js';
import { requireDims, requireLength } from './check.js';

/** Channels per block: AVX2's nChw8c (the reference is not tied to a CPU; 8 is the smaller). */
export const REFERENCE_CHANNEL_BLOCK = 8;

function checkBlock(kernel: string, what: string, c: number): void {
  if (c % REFERENCE_CHANNEL_BLOCK !== 0) {
    throw new RangeError(`${kernel}: ${what} needs c to be a multiple of ${REFERENCE_CHANNEL_BLOCK}, got c = ${c}`);
  }
}

/** Index of NHWC element (ni, p = pixel, ci) in the blocked layout [n, c / B, h * w, B]. */
function blockedIndex(ni: number, p: number, ci: number, hw: number, c: number): number {
  const B = REFERENCE_CHANNEL_BLOCK;
  return ((ni * (c / B) + Math.floor(ci / B)) * hw + p) * B + (ci % B);
}

export function reorderImages(x: F32, y: F32, attrs: ReorderAttrs): void {
  const k = 'reorderImages';
  const { n, h, w, c, toBlocked } = attrs;
  requireDims(k, { n, h, w, c });
  checkBlock(k, 'the blocked layout', c);
  const size = n * h * w * c;
  requireLength(k, 'x', x, size);
  requireLength(k, 'y', y, size);
  const hw = h * w;
  for (let ni = 0; ni < n; ni++) {
    for (let p = 0; p < hw; p++) {
      for (let ci = 0; ci < c; ci++) {
        const plain = (ni * hw + p) * c + ci;
        const blocked = blockedIndex(ni, p, ci, hw, c);
        if (toBlocked) y[blocked] = x[plain]!;
        else y[plain] = x[blocked]!;
      }
    }
  }
}

function toPlain(kernel: string, x: F32, n: number, h: number, w: number, c: number): F32 {
  checkBlock(kernel, 'a blocked operand', c);
  requireLength(kernel, 'a blocked operand', x, n * h * w * c);
  const out = new Float32Array(n * h * w * c);
  reorderImages(x, out, { n, h, w, c, toBlocked: false });
  return out;
}

/** Runs `compute` on an NHWC result buffer and stores it into `out` in the blocked layout. */
function intoBlocked(kernel: string, out: F32, n: number, h: number, w: number, c: number, compute: (plain: F32) => void): void {
  checkBlock(kernel, 'a blocked result', c);
  const plain = new Float32Array(n * h * w * c);
  compute(plain);
  reorderImages(plain, out, { n, h, w, c, toBlocked: true });
}

type ConvForward = (x: F32, weight: F32, bias: F32 | null, y: F32, attrs: Conv2dAttrs) => void;
type ConvBackwardData = (dy: F32, weight: F32, dx: F32, attrs: Conv2dAttrs) => void;
type ConvBackwardWeights = (x: F32, dy: F32, dWeight: F32, dBias: F32 | null, attrs: Conv2dAttrs) => void;

export function blockedConvForward(kernel: ConvForward): ConvForward {
  return (x, weight, bias, y, a) => {
    const k = 'conv2dForward';
    const px = a.xBlocked ? toPlain(k, x, a.n, a.h, a.w, a.c) : x;
    if (a.yBlocked) intoBlocked(k, y, a.n, a.outH, a.outW, a.o, (py) => kernel(px, weight, bias, py, a));
    else kernel(px, weight, bias, y, a);
  };
}

export function blockedConvBackwardData(kernel: ConvBackwardData): ConvBackwardData {
  return (dy, weight, dx, a) => {
    const k = 'conv2dBackwardData';
    const pdy = a.yBlocked ? toPlain(k, dy, a.n, a.outH, a.outW, a.o) : dy;
    if (a.xBlocked) intoBlocked(k, dx, a.n, a.h, a.w, a.c, (pdx) => kernel(pdy, weight, pdx, a));
    else kernel(pdy, weight, dx, a);
  };
}

export function blockedConvBackwardWeights(kernel: ConvBackwardWeights): ConvBackwardWeights {
  return (x, dy, dWeight, dBias, a) => {
    const k = 'conv2dBackwardWeights';
    const px = a.xBlocked ? toPlain(k, x, a.n, a.h, a.w, a.c) : x;
    const pdy = a.yBlocked ? toPlain(k, dy, a.n, a.outH, a.outW, a.o) : dy;
    kernel(px, pdy, dWeight, dBias, a);
  };
}

type MaxPoolForward = (x: F32, y: F32, workspace: Uint8Array, attrs: PoolAttrs) => void;
type MaxPoolBackward = (dy: F32, workspace: Uint8Array, dx: F32, attrs: PoolAttrs) => void;
type GlobalAvgPool = (input: F32, output: F32, attrs: ImageAttrs) => void;

export function blockedMaxPoolForward(kernel: MaxPoolForward): MaxPoolForward {
  return (x, y, workspace, a) => {
    if (!a.blocked) return kernel(x, y, workspace, a);
    const k = 'maxPool2dForward';
    const px = toPlain(k, x, a.n, a.h, a.w, a.c);
    intoBlocked(k, y, a.n, a.outH, a.outW, a.c, (py) => kernel(px, py, workspace, a));
  };
}

export function blockedMaxPoolBackward(kernel: MaxPoolBackward): MaxPoolBackward {
  return (dy, workspace, dx, a) => {
    if (!a.blocked) return kernel(dy, workspace, dx, a);
    const k = 'maxPool2dBackward';
    const pdy = toPlain(k, dy, a.n, a.outH, a.outW, a.c);
    intoBlocked(k, dx, a.n, a.h, a.w, a.c, (pdx) => kernel(pdy, workspace, pdx, a));
  };
}

// The average's y / dy, [n, c], are the same bytes in either layout: only x / dx are reordered.
export function blockedGlobalAvgPoolForward(kernel: GlobalAvgPool): GlobalAvgPool {
  return (x, y, a) => kernel(a.blocked ? toPlain('globalAvgPoolForward', x, a.n, a.h, a.w, a.c) : x, y, a);
}

export function blockedGlobalAvgPoolBackward(kernel: GlobalAvgPool): GlobalAvgPool {
  return (dy, dx, a) => {
    if (!a.blocked) return kernel(dy, dx, a);
    intoBlocked('globalAvgPoolBackward', dx, a.n, a.h, a.w, a.c, (pdx) => kernel(dy, pdx, a));
  };
}

// Batch norm's blocked images are `images` images of rows / images pixels (a column each).
type BnForwardTraining = (x: F32, gamma: F32, beta: F32, y: F32, mean: F32, variance: F32, attrs: BatchNormAttrs, workspace?: Uint8Array) => void;
type BnForwardInference = (x: F32, gamma: F32, beta: F32, mean: F32, variance: F32, y: F32, attrs: BatchNormAttrs) => void;
type BnBackward = (x: F32, dy: F32, gamma: F32, mean: F32, variance: F32, dx: F32, dGamma: F32, dBeta: F32, attrs: BatchNormAttrs, workspace?: Uint8Array) => void;

const bnPlain = (kernel: string, buffer: F32, a: BatchNormAttrs): F32 => toPlain(kernel, buffer, a.images!, a.rows / a.images!, 1, a.c);
const bnIntoBlocked = (kernel: string, out: F32, a: BatchNormAttrs, compute: (plain: F32) => void): void =>
  intoBlocked(kernel, out, a.images!, a.rows / a.images!, 1, a.c, compute);

export function blockedBatchNormForwardTraining(kernel: BnForwardTraining): BnForwardTraining {
  // a relu workspace stays in the plain order both passes compute in
  return (x, gamma, beta, y, mean, variance, a, workspace) => {
    if (!a.images) return kernel(x, gamma, beta, y, mean, variance, a, workspace);
    const k = 'batchNormForwardTraining';
    const px = bnPlain(k, x, a);
    bnIntoBlocked(k, y, a, (py) => kernel(px, gamma, beta, py, mean, variance, a, workspace));
  };
}

export function blockedBatchNormForwardInference(kernel: BnForwardInference): BnForwardInference {
  return (x, gamma, beta, mean, variance, y, a) => {
    if (!a.images) return kernel(x, gamma, beta, mean, variance, y, a);
    const k = 'batchNormForwardInference';
    const px = bnPlain(k, x, a);
    bnIntoBlocked(k, y, a, (py) => kernel(px, gamma, beta, mean, variance, py, a));
  };
}

export function blockedBatchNormBackward(kernel: BnBackward): BnBackward {
  return (x, dy, gamma, mean, variance, dx, dGamma, dBeta, a, workspace) => {
    if (!a.images) return kernel(x, dy, gamma, mean, variance, dx, dGamma, dBeta, a, workspace);
    const k = 'batchNormBackward';
    const px = bnPlain(k, x, a), pdy = bnPlain(k, dy, a);
    bnIntoBlocked(k, dx, a, (pdx) => kernel(px, pdy, gamma, mean, variance, pdx, dGamma, dBeta, a, workspace));
  };
}
