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

/** Wraps a kernel whose first `inputs` buffers are images [n, h, w, c] and whose next one is the image result [n, oh, ow, c]. */
export function blockedPool<A extends PoolAttrs | ImageAttrs>(
  kernel: string, outSize: (a: A) => [number, number],
  run: (input: F32, output: F32, a: A) => void,
  backward: boolean,
): (input: F32, output: F32, a: A) => void {
  return (input, output, a) => {
    if (!a.blocked) return run(input, output, a);
    const [oh, ow] = outSize(a);
    // forward: x [n, h, w, c] -> y [n, oh, ow, c]; backward: dy [n, oh, ow, c] -> dx [n, h, w, c]
    const [ih, iw, rh, rw] = backward ? [oh, ow, a.h, a.w] : [a.h, a.w, oh, ow];
    const pin = toPlain(kernel, input, a.n, ih, iw, a.c);
    intoBlocked(kernel, output, a.n, rh, rw, a.c, (pout) => run(pin, pout, a));
  };
}

/** A batch norm buffer of blocked images as its NHWC equivalent: images x (rows / images) pixels. */
export function bnPlain(kernel: string, buffer: F32, a: BatchNormAttrs): F32 {
  return toPlain(kernel, buffer, a.images!, a.rows / a.images!, 1, a.c);
}

export function bnIntoBlocked(kernel: string, out: F32, a: BatchNormAttrs, compute: (plain: F32) => void): void {
  intoBlocked(kernel, out, a.images!, a.rows / a.images!, 1, a.c, compute);
}
