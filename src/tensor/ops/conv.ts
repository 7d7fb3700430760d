// 2-D convolution over NHWC images with OIHW weights, optionally followed by an activation in the
// same kernel call. The input may be in either layout; the output is in the one convOutputLayout
// picks (./../layout.ts), so that a following convolution finds its input blocked.
import { backend } from '../../backend/backend.js';
import type { Activation, Conv2dAttrs } from '../../backend/kernel_names.js';
import { ShapeError, shapeString } from '../errors.js';
import { convOutputLayout } from '../layout.js';
import { Tensor, fromOp, gradBuffer } from '../tensor.js';
import { addInto } from './grad_util.js';

export interface ConvOptions {
  stride: number;
  padding: number;
  /**
   * An activation applied to the output in the forward kernel (a oneDNN post-op): one pass over
   * the output instead of three (write it, read it, write the activation's), and no pre-activation
   * kept. Backward goes through the activation from the output, as the separate op's does.
   */
  activation?: Activation | undefined;
  /** ELU's alpha (default 1); ignored by the others */
  alpha?: number | undefined;
}

/** Output size of a window of size k with the given stride and symmetric padding. */
export function windowOutput(size: number, k: number, stride: number, padding: number): number {
  return Math.floor((size + 2 * padding - k) / stride) + 1;
}

/**
 * x: [n, h, w, c], weight: [o, c, kh, kw], bias: [o] or null -> [n, outH, outW, o]
 * with outH = floor((h + 2 pad - kh) / stride) + 1.
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null, options: ConvOptions): Tensor {
  if (x.shape.length !== 4 || weight.shape.length !== 4 || x.shape[3] !== weight.shape[1]) {
    throw new ShapeError(`conv2d: expected x [n, h, w, ${weight.shape[1]}] (NHWC) for weight ${shapeString(weight.shape)}, got x ${shapeString(x.shape)}`);
  }
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [o, , kh, kw] = weight.shape as [number, number, number, number];
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== o)) {
    throw new ShapeError(`conv2d: expected bias [${o}], got ${shapeString(bias.shape)}`);
  }
  const { stride, padding, activation } = options;
  const alpha = activation === 'elu' ? (options.alpha ?? 1) : 0;
  const outH = windowOutput(h, kh, stride, padding);
  const outW = windowOutput(w, kw, stride, padding);
  if (outH < 1 || outW < 1) {
    throw new ShapeError(`conv2d: kernel ${kh}x${kw} with padding ${padding} does not fit input ${shapeString(x.shape)}`);
  }
  const layout = convOutputLayout(o);
  const attrs: Conv2dAttrs = {
    n, h, w, c, o, kh, kw, strideH: stride, strideW: stride, padH: padding, padW: padding, outH, outW,
    xBlocked: x.layout === 'blocked', yBlocked: layout === 'blocked',
  };
  const b = backend();
  const y = Tensor.empty([n, outH, outW, o], layout);
  b.conv2dForward(x.storage, weight.data, bias?.data ?? null, y.storage, activation === undefined ? attrs : { ...attrs, activation, alpha });
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return fromOp(activation === undefined ? 'conv2d' : `conv2d+${activation}`, y, inputs, (dy) => {
    // the gradient before the activation, in place: dy is the engine's own and dies with this closure
    if (activation !== undefined) b.activationBackward(activation, y.storage, dy, dy, alpha);
    let dx: Float32Array | null = null;
    if (x.requiresGrad) {
      dx = gradBuffer(x.size);
      b.conv2dBackwardData(dy, weight.data, dx, attrs);
    }
    if (weight.requiresGrad || bias?.requiresGrad) {
      const dw = gradBuffer(weight.size);
      const db = bias ? gradBuffer(o) : null;
      b.conv2dBackwardWeights(x.storage, dy, dw, db, attrs);
      addInto(weight, dw);
      if (bias && db) addInto(bias, db);
    }
    return [dx, null, null];
  });
}
