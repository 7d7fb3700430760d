// The geometry shared by convolution and pooling over NHWC images: which input pixels an output
// pixel sees. Output (oh, ow) with tap (i, j) reads input row hi = oh*strideH - padH + i and column
// wi = ow*strideW - padW + j; taps that fall in the padding are skipped, so padding is zero for a
// convolution and -infinity for max pooling.
import type { Window2dAttrs } from '../kernel_names.js';
import { requireDims } from './check.js';

/**
 * Calls visit(xBase, yBase, tap) for every (output pixel, in-image tap) pair, where xBase is the
 * index of x[n, hi, wi, 0], yBase the index of output pixel [n, oh, ow] counted in pixels (multiply
 * by the output's channel count), and tap = i*kw + j. For each output pixel the taps come in
 * row-major order over (i, j), which is what makes "first in window scan order" well defined.
 */
export function forEachTap(attrs: Window2dAttrs, visit: (xBase: number, yPixel: number, tap: number) => void): void {
  const { n, h, w, c, kh, kw, strideH, strideW, padH, padW, outH, outW } = attrs;
  for (let ni = 0; ni < n; ni++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const yPixel = (ni * outH + oh) * outW + ow;
        for (let i = 0; i < kh; i++) {
          const hi = oh * strideH - padH + i;
          if (hi < 0 || hi >= h) continue;
          for (let j = 0; j < kw; j++) {
            const wi = ow * strideW - padW + j;
            if (wi < 0 || wi >= w) continue;
            visit(((ni * h + hi) * w + wi) * c, yPixel, i * kw + j);
          }
        }
      }
    }
  }
}

export function checkWindow(kernel: string, attrs: Window2dAttrs): void {
  const { n, h, w, c, kh, kw, strideH, strideW, padH, padW, outH, outW } = attrs;
  requireDims(kernel, { n, h, w, c, kh, kw, padH, padW, outH, outW });
  if (!(strideH >= 1 && strideW >= 1) || !Number.isSafeInteger(strideH) || !Number.isSafeInteger(strideW)) {
    throw new RangeError(`${kernel}: strides must be positive integers, got ${strideH}, ${strideW}`);
  }
}
