// 2-D convolution, NHWC images and OIHW weights, no dilation, no groups.
//   y[n, oh, ow, o] = bias[o] + sum_{c, i, j} x[n, oh*sH - pH + i, ow*sW - pW + j, c] * w[o, c, i, j]
// The two backward kernels are the transposes of that sum: backward data scatters dy through the
// same taps into dx; backward weights correlates x with dy. All three accumulate in float64.
import type { Conv2dAttrs, F32 } from '../kernel_names.js';
import { requireDims, requireLength } from './check.js';
import { activationForward } from './elementwise.js';
import { checkWindow, forEachTap } from './window.js';

function checkConv(kernel: string, attrs: Conv2dAttrs): { xLen: number; wLen: number; yLen: number } {
  checkWindow(kernel, attrs);
  requireDims(kernel, { o: attrs.o });
  const { n, h, w, c, kh, kw, outH, outW, o } = attrs;
  return { xLen: n * h * w * c, wLen: o * c * kh * kw, yLen: n * outH * outW * o };
}

export function conv2dForward(x: F32, weight: F32, bias: F32 | null, y: F32, attrs: Conv2dAttrs): void {
  const { xLen, wLen, yLen } = checkConv('conv2dForward', attrs);
  requireLength('conv2dForward', 'x', x, xLen);
  requireLength('conv2dForward', 'weight', weight, wLen);
  requireLength('conv2dForward', 'y', y, yLen);
  if (bias !== null) requireLength('conv2dForward', 'bias', bias, attrs.o);
  const { c, o } = attrs;
  const taps = attrs.kh * attrs.kw;
  const acc = new Float64Array(yLen);
  if (bias !== null) for (let p = 0; p < yLen; p++) acc[p] = bias[p % o];
  forEachTap(attrs, (xBase, yPixel, tap) => {
    for (let oc = 0; oc < o; oc++) {
      let s = 0;
      for (let ci = 0; ci < c; ci++) s += x[xBase + ci] * weight[(oc * c + ci) * taps + tap];
      acc[yPixel * o + oc] += s;
    }
  });
  y.set(acc);
  if (attrs.activation !== undefined) {
    if (attrs.activation === 'elu' && !((attrs.alpha ?? Number.NaN) >= 0)) throw new RangeError(`conv2dForward: expected attrs.alpha >= 0 for elu, got ${attrs.alpha}`);
    activationForward(attrs.activation, y, y, attrs.alpha ?? 0);
  }
}

/** dx[n, hi, wi, c] = sum over the (output, tap) pairs that read it of dy[n, oh, ow, o] * w[o, c, i, j]. */
export function conv2dBackwardData(dy: F32, weight: F32, dx: F32, attrs: Conv2dAttrs): void {
  const { xLen, wLen, yLen } = checkConv('conv2dBackwardData', attrs);
  requireLength('conv2dBackwardData', 'dy', dy, yLen);
  requireLength('conv2dBackwardData', 'weight', weight, wLen);
  requireLength('conv2dBackwardData', 'dx', dx, xLen);
  const { c, o } = attrs;
  const taps = attrs.kh * attrs.kw;
  const acc = new Float64Array(xLen);
  forEachTap(attrs, (xBase, yPixel, tap) => {
    for (let ci = 0; ci < c; ci++) {
      let s = 0;
      for (let oc = 0; oc < o; oc++) s += dy[yPixel * o + oc] * weight[(oc * c + ci) * taps + tap];
      acc[xBase + ci] += s;
    }
  });
  dx.set(acc);
}

/** dW[o, c, i, j] = sum_{n, oh, ow} dy[n, oh, ow, o] * x[n, hi, wi, c]; dBias[o] = sum_{n, oh, ow} dy[n, oh, ow, o]. */
export function conv2dBackwardWeights(x: F32, dy: F32, dWeight: F32, dBias: F32 | null, attrs: Conv2dAttrs): void {
  const { xLen, wLen, yLen } = checkConv('conv2dBackwardWeights', attrs);
  requireLength('conv2dBackwardWeights', 'x', x, xLen);
  requireLength('conv2dBackwardWeights', 'dy', dy, yLen);
  requireLength('conv2dBackwardWeights', 'dWeight', dWeight, wLen);
  if (dBias !== null) requireLength('conv2dBackwardWeights', 'dBias', dBias, attrs.o);
  const { c, o } = attrs;
  const taps = attrs.kh * attrs.kw;
  const accW = new Float64Array(wLen);
  forEachTap(attrs, (xBase, yPixel, tap) => {
    for (let oc = 0; oc < o; oc++) {
      const g = dy[yPixel * o + oc];
      for (let ci = 0; ci < c; ci++) accW[(oc * c + ci) * taps + tap] += g * x[xBase + ci];
    }
  });
  dWeight.set(accW);
  if (dBias !== null) {
    const accB = new Float64Array(o);
    for (let p = 0; p < yLen; p++) accB[p % o] += dy[p];
    dBias.set(accB);
  }
}
