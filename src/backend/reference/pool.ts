// Max pooling and global average pooling over NHWC images.
//
// Max pool workspace (opaque to callers, this layout is the reference backend's own): one
// little-endian int32 per output element [n, outH, outW, c], the flat index into x of the element
// that won, or -1 when the window lies wholly in the padding (then y = -infinity and no gradient
// flows). Ties go to the first element in window scan order; a NaN wins over any number, and the
// first NaN over later ones, so NaN propagates as it does through argmaxRows.
import type { F32, ImageAttrs, Window2dAttrs } from '../kernel_names.js';
import { requireDims, requireLength } from './check.js';
import { checkWindow, forEachTap } from './window.js';

export function maxPool2dWorkspaceBytes(attrs: Window2dAttrs): number {
  checkWindow('maxPool2dWorkspaceBytes', attrs);
  return attrs.n * attrs.outH * attrs.outW * attrs.c * 4;
}

function workspaceView(kernel: string, workspace: Uint8Array, attrs: Window2dAttrs): DataView {
  requireLength(kernel, 'workspace', workspace, maxPool2dWorkspaceBytes(attrs));
  return new DataView(workspace.buffer, workspace.byteOffset, workspace.byteLength);
}

export function maxPool2dForward(x: F32, y: F32, workspace: Uint8Array, attrs: Window2dAttrs): void {
  checkWindow('maxPool2dForward', attrs);
  const { n, h, w, c, outH, outW } = attrs;
  const yLen = n * outH * outW * c;
  requireLength('maxPool2dForward', 'x', x, n * h * w * c);
  requireLength('maxPool2dForward', 'y', y, yLen);
  const ws = workspaceView('maxPool2dForward', workspace, attrs);
  const best = new Float64Array(yLen).fill(-Infinity);
  const arg = new Int32Array(yLen).fill(-1);
  forEachTap(attrs, (xBase, yPixel) => {
    for (let ci = 0; ci < c; ci++) {
      const v = x[xBase + ci];
      const q = yPixel * c + ci;
      const b = best[q];
      // Strict > keeps the first of equal values; once the best is NaN nothing replaces it.
      if (arg[q] < 0 || (b === b && (v > b || v !== v))) {
        best[q] = v;
        arg[q] = xBase + ci;
      }
    }
  });
  y.set(best);
  for (let q = 0; q < yLen; q++) ws.setInt32(4 * q, arg[q], true);
}

/** dx[argmax of output q] += dy[q]; every other dx is 0. Overlapping windows add up. */
export function maxPool2dBackward(dy: F32, workspace: Uint8Array, dx: F32, attrs: Window2dAttrs): void {
  checkWindow('maxPool2dBackward', attrs);
  const { n, h, w, c, outH, outW } = attrs;
  const xLen = n * h * w * c;
  const yLen = n * outH * outW * c;
  requireLength('maxPool2dBackward', 'dy', dy, yLen);
  requireLength('maxPool2dBackward', 'dx', dx, xLen);
  const ws = workspaceView('maxPool2dBackward', workspace, attrs);
  const acc = new Float64Array(xLen);
  for (let q = 0; q < yLen; q++) {
    const src = ws.getInt32(4 * q, true);
    if (src >= xLen) throw new RangeError(`maxPool2dBackward: workspace entry ${q} points at ${src}, past x (${xLen} elements)`);
    if (src >= 0) acc[src] += dy[q];
  }
  dx.set(acc);
}

function checkImage(kernel: string, attrs: ImageAttrs): void {
  const { n, h, w, c } = attrs;
  requireDims(kernel, { n, h, w, c });
}

/** y[n, c] = (1 / (h*w)) sum_{h, w} x[n, h, w, c] */
export function globalAvgPoolForward(x: F32, y: F32, attrs: ImageAttrs): void {
  checkImage('globalAvgPoolForward', attrs);
  const { n, h, w, c } = attrs;
  requireLength('globalAvgPoolForward', 'x', x, n * h * w * c);
  requireLength('globalAvgPoolForward', 'y', y, n * c);
  const hw = h * w;
  for (let ni = 0; ni < n; ni++) {
    for (let ci = 0; ci < c; ci++) {
      let s = 0;
      for (let p = 0; p < hw; p++) s += x[(ni * hw + p) * c + ci];
      y[ni * c + ci] = s / hw;
    }
  }
}

/** dx[n, h, w, c] = dy[n, c] / (h*w) */
export function globalAvgPoolBackward(dy: F32, dx: F32, attrs: ImageAttrs): void {
  checkImage('globalAvgPoolBackward', attrs);
  const { n, h, w, c } = attrs;
  requireLength('globalAvgPoolBackward', 'dy', dy, n * c);
  requireLength('globalAvgPoolBackward', 'dx', dx, n * h * w * c);
  const hw = h * w;
  for (let ni = 0; ni < n; ni++) {
    for (let p = 0; p < hw; p++) {
      for (let ci = 0; ci < c; ci++) dx[(ni * hw + p) * c + ci] = dy[ni * c + ci] / hw;
    }
  }
}
