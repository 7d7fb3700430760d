// The oneDNN backend: a typed wrapper over the addon, whose functions carry the Backend method
// names and arguments. The wrapper checks buffer lengths against the attributes (the addon checks
// again, but only to protect memory; these messages are the ones meant for people) and forwards.
//
// Shapes with a zero dimension never reach oneDNN, which rejects some of them: they go to the
// reference backend, for which they cost nothing.
//
// The addon is loaded when the first kernel runs, not when this module is imported: importing it
// makes the native backend the default (backend.ts), the library's entry imports it, and
// importing the library must work on a machine without the addon, for a user of the reference
// backend.
import { checkThreadCount } from './kernel_names.js';
import type {
  Activation, AdamAttrs, AugmentAttrs, Backend, BatchNormAttrs, Conv2dAttrs, F32, ImageAttrs, MatMulAttrs, PoolAttrs, ReorderAttrs, SgdAttrs, Window2dAttrs,
} from './kernel_names.js';
import { loadNative, type NativeAddon, type ConvLayout, type NativeInfo } from './load_native.js';
import { setDefaultBackend } from './backend.js';
import { checkAugment } from './reference/image.js';
import { referenceBackend as reference } from './reference_backend.js';

let loaded: NativeAddon | null = null;

/** The addon, loaded on first use; throws load_native's error (the paths tried and the fix) if it is missing. */
function addon(): NativeAddon {
  return (loaded ??= loadNative());
}

/** Outputs this large come from the addon's buffer pool. */
export const POOLED_MIN_BYTES = 4 << 20;

function fail(kernel: string, what: string, arg: string, value: unknown): never {
  throw new RangeError(`${kernel}: expected ${what} for ${arg}, got ${String(value)}`);
}

/** A size attribute; returns whether it is zero (the call is then degenerate). */
function dim(kernel: string, name: string, v: number): boolean {
  if (!Number.isSafeInteger(v) || v < 0) fail(kernel, 'a non-negative integer', name, v);
  return v === 0;
}

function stride(kernel: string, name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) fail(kernel, 'a positive integer', name, v);
}

/** A buffer may be longer than the shape needs (a prefix view is used), never shorter. */
function len(kernel: string, arg: string, a: { length: number } | null | undefined, needed: number, formula: string): void {
  if (a === null || a === undefined) fail(kernel, `a buffer of ${needed} elements (${formula})`, arg, a);
  if (a.length < needed) fail(kernel, `at least ${needed} elements (${formula})`, arg, `${a.length} elements`);
}

function windowDegenerate(kernel: string, a: Window2dAttrs): boolean {
  stride(kernel, 'strideH', a.strideH);
  stride(kernel, 'strideW', a.strideW);
  dim(kernel, 'padH', a.padH);
  dim(kernel, 'padW', a.padW);
  // Every size is checked, so that a bad one is reported even when another is zero.
  let zero = false;
  for (const [name, v] of [['n', a.n], ['h', a.h], ['w', a.w], ['c', a.c], ['kh', a.kh], ['kw', a.kw], ['outH', a.outH], ['outW', a.outW]] as const) {
    if (dim(kernel, name, v)) zero = true;
  }
  return zero;
}

function convDegenerate(kernel: string, a: Conv2dAttrs): boolean {
  const zero = windowDegenerate(kernel, a);
  return dim(kernel, 'o', a.o) || zero;
}

function imageDegenerate(kernel: string, a: ImageAttrs): boolean {
  const zn = dim(kernel, 'n', a.n), zh = dim(kernel, 'h', a.h), zw = dim(kernel, 'w', a.w), zc = dim(kernel, 'c', a.c);
  return zn || zh || zw || zc;
}

function bnDegenerate(kernel: string, a: BatchNormAttrs): boolean {
  const zr = dim(kernel, 'rows', a.rows), zc = dim(kernel, 'c', a.c);
  if (!(a.eps >= 0)) fail(kernel, 'a number >= 0', 'eps', a.eps);
  return zr || zc;
}

function activationKind(kernel: string, kind: Activation): void {
  if (kind !== 'relu' && kind !== 'elu' && kind !== 'sigmoid' && kind !== 'tanh') fail(kernel, "'relu' | 'elu' | 'sigmoid' | 'tanh'", 'kind', kind);
}

let channelBlock: number | undefined;

export const nativeBackend: Backend = {
  name: 'native',

  setNumThreads(n: number): void {
    addon().setNumThreads(checkThreadCount(n));
  },
  getNumThreads: () => addon().getNumThreads(),
  cpuIsa: () => addon().cpuIsa(),
  // only the sizes glibc would map afresh (the 4 MB threshold addon.cc sets): see buffer_pool.cc
  pooledBuffer: (bytes: number) => (bytes >= POOLED_MIN_BYTES ? addon().pooledArrayBuffer(bytes) : null),
  zeroedBuffer: (bytes: number) => (bytes >= POOLED_MIN_BYTES ? addon().zeroedArrayBuffer(bytes) : null),
  releaseFreeMemory: () => addon().releaseFreeMemory(),

  // a constant of the CPU, asked once (layout choices read it on every convolution)
  get channelBlock(): number {
    return (channelBlock ??= addon().channelBlock());
  },
  reorderImages(x: F32, y: F32, attrs: ReorderAttrs): void {
    const k = 'reorderImages';
    if (imageDegenerate(k, attrs)) return;
    const { n, h, w, c } = attrs;
    len(k, 'x', x, n * h * w * c, 'n*h*w*c');
    len(k, 'y', y, n * h * w * c, 'n*h*w*c');
    addon().reorderImages(x, y, attrs);
  },

  matmul(a: F32, b: F32, bias: F32 | null, out: F32, attrs: MatMulAttrs): void {
    const k = 'matmul';
    const { m, n } = attrs;
    const zm = dim(k, 'm', m), zk = dim(k, 'k', attrs.k), zn = dim(k, 'n', n);
    len(k, 'a', a, m * attrs.k, attrs.transA ? 'k*m' : 'm*k');
    len(k, 'b', b, attrs.k * n, attrs.transB ? 'n*k' : 'k*n');
    len(k, 'out', out, m * n, 'm*n');
    if (bias !== null) len(k, 'bias', bias, n, 'n');
    if (zm || zk || zn) return reference.matmul(a, b, bias, out, attrs);
    addon().matmul(a, b, bias, out, attrs);
  },
  sumRows: (x, out, rows, cols) => addon().sumRows(x, out, rows, cols),
  gatherRows: (x, index, out, rows, cols) => addon().gatherRows(x, index, out, rows, cols),
  scatterAddRows: (dy, index, out, rows, cols) => addon().scatterAddRows(dy, index, out, rows, cols),

  conv2dForward(x: F32, weight: F32, bias: F32 | null, y: F32, attrs: Conv2dAttrs): void {
    const k = 'conv2dForward';
    const zero = convDegenerate(k, attrs);
    const { n, h, w, c, o, kh, kw, outH, outW } = attrs;
    len(k, 'x', x, n * h * w * c, 'n*h*w*c');
    len(k, 'weight', weight, o * c * kh * kw, 'o*c*kh*kw');
    len(k, 'y', y, n * outH * outW * o, 'n*outH*outW*o');
    if (bias !== null) len(k, 'bias', bias, o, 'o');
    if (zero) return reference.conv2dForward(x, weight, bias, y, attrs);
    addon().conv2dForward(x, weight, bias, y, attrs);
  },
  conv2dBackwardData(dy: F32, weight: F32, dx: F32, attrs: Conv2dAttrs): void {
    const k = 'conv2dBackwardData';
    const zero = convDegenerate(k, attrs);
    const { n, h, w, c, o, kh, kw, outH, outW } = attrs;
    len(k, 'dy', dy, n * outH * outW * o, 'n*outH*outW*o');
    len(k, 'weight', weight, o * c * kh * kw, 'o*c*kh*kw');
    len(k, 'dx', dx, n * h * w * c, 'n*h*w*c');
    if (zero) return reference.conv2dBackwardData(dy, weight, dx, attrs);
    addon().conv2dBackwardData(dy, weight, dx, attrs);
  },
  conv2dBackwardWeights(x: F32, dy: F32, dWeight: F32, dBias: F32 | null, attrs: Conv2dAttrs): void {
    const k = 'conv2dBackwardWeights';
    const zero = convDegenerate(k, attrs);
    const { n, h, w, c, o, kh, kw, outH, outW } = attrs;
    len(k, 'x', x, n * h * w * c, 'n*h*w*c');
    len(k, 'dy', dy, n * outH * outW * o, 'n*outH*outW*o');
    len(k, 'dWeight', dWeight, o * c * kh * kw, 'o*c*kh*kw');
    if (dBias !== null) len(k, 'dBias', dBias, o, 'o');
    if (zero) return reference.conv2dBackwardWeights(x, dy, dWeight, dBias, attrs);
    addon().conv2dBackwardWeights(x, dy, dWeight, dBias, attrs);
  },

  maxPool2dWorkspaceBytes(attrs: PoolAttrs): number {
    const k = 'maxPool2dWorkspaceBytes';
    if (windowDegenerate(k, attrs)) return reference.maxPool2dWorkspaceBytes(attrs);
    return addon().maxPool2dWorkspaceBytes(attrs);
  },
  maxPool2dForward(x: F32, y: F32, workspace: Uint8Array, attrs: PoolAttrs): void {
    const k = 'maxPool2dForward';
    const zero = windowDegenerate(k, attrs);
    const { n, h, w, c, outH, outW } = attrs;
    len(k, 'x', x, n * h * w * c, 'n*h*w*c');
    len(k, 'y', y, n * outH * outW * c, 'n*outH*outW*c');
    if (zero) return reference.maxPool2dForward(x, y, workspace, attrs);
    // The workspace size is oneDNN's; the addon checks it (asking oneDNN here would cost a call).
    addon().maxPool2dForward(x, y, workspace, attrs);
  },
  maxPool2dBackward(dy: F32, workspace: Uint8Array, dx: F32, attrs: PoolAttrs): void {
    const k = 'maxPool2dBackward';
    const zero = windowDegenerate(k, attrs);
    const { n, h, w, c, outH, outW } = attrs;
    len(k, 'dy', dy, n * outH * outW * c, 'n*outH*outW*c');
    len(k, 'dx', dx, n * h * w * c, 'n*h*w*c');
    if (zero) return reference.maxPool2dBackward(dy, workspace, dx, attrs);
    addon().maxPool2dBackward(dy, workspace, dx, attrs);
  },
  globalAvgPoolForward(x: F32, y: F32, attrs: ImageAttrs): void {
    const k = 'globalAvgPoolForward';
    const zero = imageDegenerate(k, attrs);
    const { n, h, w, c } = attrs;
    len(k, 'x', x, n * h * w * c, 'n*h*w*c');
    len(k, 'y', y, n * c, 'n*c');
    if (zero) return reference.globalAvgPoolForward(x, y, attrs);
    addon().globalAvgPoolForward(x, y, attrs);
  },
  globalAvgPoolBackward(dy: F32, dx: F32, attrs: ImageAttrs): void {
    const k = 'globalAvgPoolBackward';
    const zero = imageDegenerate(k, attrs);
    const { n, h, w, c } = attrs;
    len(k, 'dy', dy, n * c, 'n*c');
    len(k, 'dx', dx, n * h * w * c, 'n*h*w*c');
    if (zero) return reference.globalAvgPoolBackward(dy, dx, attrs);
    addon().globalAvgPoolBackward(dy, dx, attrs);
  },

  batchNormWorkspaceBytes(attrs: BatchNormAttrs): number {
    const k = 'batchNormWorkspaceBytes';
    if (bnDegenerate(k, attrs)) return reference.batchNormWorkspaceBytes(attrs);
    return addon().batchNormWorkspaceBytes(attrs);
  },
  batchNormForwardTraining(x: F32, gamma: F32, beta: F32, y: F32, mean: F32, variance: F32, attrs: BatchNormAttrs, workspace?: Uint8Array): void {
    const k = 'batchNormForwardTraining';
    const zero = bnDegenerate(k, attrs);
    const { rows, c } = attrs;
    len(k, 'x', x, rows * c, 'rows*c');
    len(k, 'gamma', gamma, c, 'c');
    len(k, 'beta', beta, c, 'c');
    len(k, 'y', y, rows * c, 'rows*c');
    len(k, 'mean', mean, c, 'c');
    len(k, 'variance', variance, c, 'c');
    if (zero) return reference.batchNormForwardTraining(x, gamma, beta, y, mean, variance, attrs, workspace);
    addon().batchNormForwardTraining(x, gamma, beta, y, mean, variance, attrs, workspace);
  },
  batchNormForwardInference(x: F32, gamma: F32, beta: F32, mean: F32, variance: F32, y: F32, attrs: BatchNormAttrs): void {
    const k = 'batchNormForwardInference';
    const zero = bnDegenerate(k, attrs);
    const { rows, c } = attrs;
    len(k, 'x', x, rows * c, 'rows*c');
    len(k, 'gamma', gamma, c, 'c');
    len(k, 'beta', beta, c, 'c');
    len(k, 'mean', mean, c, 'c');
    len(k, 'variance', variance, c, 'c');
    len(k, 'y', y, rows * c, 'rows*c');
    if (zero) return reference.batchNormForwardInference(x, gamma, beta, mean, variance, y, attrs);
    addon().batchNormForwardInference(x, gamma, beta, mean, variance, y, attrs);
  },
  batchNormBackward(
    x: F32, dy: F32, gamma: F32, mean: F32, variance: F32,
    dx: F32, dGamma: F32, dBeta: F32, attrs: BatchNormAttrs, workspace?: Uint8Array,
  ): void {
    const k = 'batchNormBackward';
    const zero = bnDegenerate(k, attrs);
    const { rows, c } = attrs;
    len(k, 'x', x, rows * c, 'rows*c');
    len(k, 'dy', dy, rows * c, 'rows*c');
    len(k, 'gamma', gamma, c, 'c');
    len(k, 'mean', mean, c, 'c');
    len(k, 'variance', variance, c, 'c');
    len(k, 'dx', dx, rows * c, 'rows*c');
    len(k, 'dGamma', dGamma, c, 'c');
    len(k, 'dBeta', dBeta, c, 'c');
    if (zero) return reference.batchNormBackward(x, dy, gamma, mean, variance, dx, dGamma, dBeta, attrs, workspace);
    addon().batchNormBackward(x, dy, gamma, mean, variance, dx, dGamma, dBeta, attrs, workspace);
  },

  activationForward(kind: Activation, x: F32, y: F32, alpha: number): void {
    const k = 'activationForward';
    activationKind(k, kind);
    if (y.length !== x.length) fail(k, `${x.length} elements (as x)`, 'y', `${y.length} elements`);
    addon().activationForward(kind, x, y, alpha);
  },
  activationBackward(kind: Activation, y: F32, dy: F32, dx: F32, alpha: number): void {
    const k = 'activationBackward';
    activationKind(k, kind);
    if (dy.length !== y.length) fail(k, `${y.length} elements (as y)`, 'dy', `${dy.length} elements`);
    if (dx.length !== y.length) fail(k, `${y.length} elements (as y)`, 'dx', `${dx.length} elements`);
    addon().activationBackward(kind, y, dy, dx, alpha);
  },
  // The addon's own kernels check their arguments with the reference backend's messages.
  add: (a, b, out) => addon().add(a, b, out),
  axpby: (alpha, x, beta, y) => addon().axpby(alpha, x, beta, y),

  softmaxCrossEntropy: (logits, labels, grad, rows, cols) => addon().softmaxCrossEntropy(logits, labels, grad, rows, cols),
  meanSquaredError: (pred, target, grad) => addon().meanSquaredError(pred, target, grad),
  argmaxRows: (x, out, rows, cols) => addon().argmaxRows(x, out, rows, cols),
  normalFill: (out, state, scale) => addon().normalFill(out, state, scale),

  augmentImages(x: F32, crop: Int32Array, adjust: F32, y: F32, attrs: AugmentAttrs): void {
    // The reference's checks, so both backends refuse the same calls with the same words.
    checkAugment(x, crop, adjust, y, attrs);
    addon().augmentImages(x, crop, adjust, y, attrs);
  },

  adamStep: (param: F32, grad: F32, m: F32, v: F32, attrs: AdamAttrs) => addon().adamStep(param, grad, m, v, attrs),
  sgdStep: (param: F32, grad: F32, momentumBuffer: F32, attrs: SgdAttrs) => addon().sgdStep(param, grad, momentumBuffer, attrs),
};

// the default backend: loading the addon now reports a missing one where the first kernel runs
setDefaultBackend(() => {
  addon();
  return nativeBackend;
});

/**
 * Where the binding's convolutions keep activations: 'auto' (the default) picks per shape,
 * 'nhwc' runs oneDNN on the user's buffers, 'blocked' reorders to oneDNN's layout and back.
 * For comparing the two; applies to the calling thread.
 */
export function setConvLayout(layout: ConvLayout): void {
  addon().setConvLayout(layout);
}

/** oneDNN version, runtime, effective ISA and the calling thread's thread count. */
export function nativeInfo(): NativeInfo {
  return addon().info();
}

export type { ConvLayout, NativeInfo };
