// Pooling over NHWC or blocked images; max pooling keeps the layout, the global average's [n, c]
// is the same either way.
import { backend } from '../../backend/backend.js';
import type { ImageAttrs, PoolAttrs } from '../../backend/kernel_names.js';
import { ShapeError, shapeString } from '../errors.js';
import { Tensor, fromOp, gradBuffer } from '../tensor.js';
import { windowOutput } from './conv.js';

function imageShape(op: string, x: Tensor): [number, number, number, number] {
  if (x.shape.length !== 4) throw new ShapeError(`${op}: expected x [n, h, w, c] (NHWC), got ${shapeString(x.shape)}`);
  return x.shape as [number, number, number, number];
}

/** Max over size x size windows: [n, h, w, c] -> [n, outH, outW, c]. */
export function maxPool2d(x: Tensor, size: number, stride = size, padding = 0): Tensor {
  const [n, h, w, c] = imageShape('maxPool2d', x);
  const outH = windowOutput(h, size, stride, padding);
  const outW = windowOutput(w, size, stride, padding);
  if (outH < 1 || outW < 1) throw new ShapeError(`maxPool2d: window ${size}x${size} does not fit input ${shapeString(x.shape)}`);
  const attrs: PoolAttrs = {
    n, h, w, c, kh: size, kw: size, strideH: stride, strideW: stride, padH: padding, padW: padding, outH, outW, blocked: x.layout === 'blocked',
  };
  const b = backend();
  const y = Tensor.empty([n, outH, outW, c], x.layout);
  const workspace = new Uint8Array(b.maxPool2dWorkspaceBytes(attrs));
  b.maxPool2dForward(x.storage, y.storage, workspace, attrs);
  return fromOp('maxPool2d', y, [x], (dy) => {
    const dx = gradBuffer(x.size);
    b.maxPool2dBackward(dy, workspace, dx, attrs);
    return [dx];
  });
}

/** Mean over h and w: [n, h, w, c] -> [n, c]. */
export function globalAvgPool(x: Tensor): Tensor {
  const [n, h, w, c] = imageShape('globalAvgPool', x);
  const attrs: ImageAttrs = { n, h, w, c, blocked: x.layout === 'blocked' };
  const b = backend();
  const y = Tensor.empty([n, c]);
  b.globalAvgPoolForward(x.storage, y.data, attrs);
  return fromOp('globalAvgPool', y, [x], (dy) => {
    const dx = gradBuffer(x.size);
    b.globalAvgPoolBackward(dy, dx, attrs);
    return [dx];
  });
}
