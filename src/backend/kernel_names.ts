// The whole boundary between TypeScript and compute kernels.
//
// Every kernel takes Float32Array views, shape integers and a small attributes object, and writes
// into output buffers that the caller allocated. Kernels never keep references to their arguments.
// Two backends implement this interface: `native` (the oneDNN addon, src/backend/native_backend.ts)
// and `reference` (plain TypeScript, src/backend/reference_backend.ts, the test oracle).
//
// Layouts, fixed for both backends:
//   - matrices are row-major;
//   - images are channels-last, x: [n, h, w, c] (NHWC), because oneDNN's CPU convolutions run
//     on it without reorders and batch norm becomes a plain [rows, c] problem; the image kernels
//     also take them in a blocked layout (flags in their attributes: `channelBlock` channels
//     together, [n, c / block, h, w, block], oneDNN's nChw8c or nChw16c), which its convolutions
//     run faster on, so that a run of kernels can carry it (src/tensor/layout.ts);
//   - convolution weights are [outChannels, inChannels, kh, kw] (OIHW, PyTorch's order);
//   - labels are Int32Array.

export type F32 = Float32Array;

/** out[m, n] = op(a) @ op(b) (+ bias[n] on every row) (+ out, when accumulate). */
export interface MatMulAttrs {
  m: number;
  k: number;
  n: number;
  /** a is stored [k, m] and used transposed. */
  transA: boolean;
  /** b is stored [n, k] and used transposed (Linear's weight [out, in]). */
  transB: boolean;
  /** add the product to what out already holds (gradient accumulation). */
  accumulate: boolean;
}

/** A 2-D convolution or pooling window over NHWC images. outH/outW are derived by the caller. */
export interface Window2dAttrs {
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  outH: number;
  outW: number;
}

export interface Conv2dAttrs extends Window2dAttrs {
  /** output channels */
  o: number;
  /** x and dx are in the blocked layout (c a multiple of the backend's channelBlock) */
  xBlocked?: boolean;
  /** y and dy are in the blocked layout (o a multiple of channelBlock) */
  yBlocked?: boolean;
  /** conv2dForward only: an activation applied to y in the same pass (the backward kernels take dy after the activation's backward) */
  activation?: Activation;
  /** that activation's alpha (ELU's, >= 0; ignored by the others) */
  alpha?: number;
}

/** Max pooling's x, y, dy and dx all in the blocked layout when `blocked`. */
export interface PoolAttrs extends Window2dAttrs {
  blocked?: boolean;
}

/** Images [n, h, w, c]; global average pooling reduces h and w. */
export interface ImageAttrs {
  n: number;
  h: number;
  w: number;
  c: number;
  /** images (x, dx of global average pooling) in the blocked layout; [n, c] results are the same bytes either way */
  blocked?: boolean;
}

/** reorderImages: to the blocked layout from NHWC, or back. */
export interface ReorderAttrs extends ImageAttrs {
  toBlocked: boolean;
}

/** Batch norm over x viewed as [rows, c] (rows = n*h*w for NHWC images, n for [n, c]). */
export interface BatchNormAttrs {
  rows: number;
  c: number;
  eps: number;
  /** x, y, dy, dx are this many blocked images of rows / images pixels (absent: [rows, c]) */
  images?: number;
  /**
   * y = max(0, normalised): a ReLU fused in (saves two passes over y each way). The training
   * forward then fills a workspace of batchNormWorkspaceBytes bytes that the backward reads;
   * dy is the gradient of the ReLU's output.
   */
  relu?: boolean;
}

/** The CIFAR training augmentation of a batch: see Backend.augmentImages. */
export interface AugmentAttrs extends ImageAttrs {
  /** zero padding on each side before the crop */
  pad: number;
}

export type Activation = 'relu' | 'elu' | 'sigmoid' | 'tanh';

export interface AdamAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW (decoupled decay, param *= 1 - lr*wd) instead of L2 added to the gradient. */
  decoupled: boolean;
  /** 1-based step count, for bias correction. */
  step: number;
}

export interface SgdAttrs {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

/**
 * The most compute threads setNumThreads accepts, on either backend (the addon's kMaxThreads):
 * many times any core count this runs on, and far below where the OpenMP runtime stops failing
 * cleanly (65536 threads crash the process in the next kernel).
 */
export const MAX_THREADS = 1024;

/** A thread count for setNumThreads: an integer from 1 to MAX_THREADS, else a RangeError naming `where` and `arg`. */
export function checkThreadCount(n: unknown, where = 'setNumThreads', arg = 'n'): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new RangeError(`${where}: expected an integer from 1 to ${MAX_THREADS} for ${arg}, got ${String(n)}`);
  }
  return n;
}

export interface Backend {
  readonly name: 'native' | 'reference';

  // ***** threads and machine *****
  setNumThreads(n: number): void;
  getNumThreads(): number;
  /** The instruction set the kernels dispatch to, e.g. "avx512_core" (reference: "typescript"). */
  cpuIsa(): string;

  // ***** memory *****
  /**
   * An ArrayBuffer of `bytes` uninitialised bytes for a kernel output, from memory the backend
   * keeps for reuse; null where it keeps none for that size (the caller then allocates plainly).
   */
  pooledBuffer(bytes: number): ArrayBuffer | null;
  /**
   * An ArrayBuffer of `bytes` zero bytes for long-lived arrays (weights, optimizer moments), on
   * memory the backend makes cheap to touch first; null where it has none for that size.
   */
  zeroedBuffer(bytes: number): ArrayBuffer | null;
  /**
   * Hands memory the allocator holds free back to the system; true when some was. For the end of
   * a phase that allocated and freed a lot (an epoch, with its evaluation and checkpoint).
   */
  releaseFreeMemory(): boolean;

  // ***** layout *****
  /** Channels per block of the blocked image layout (8 with AVX2, 16 with AVX-512; reference: 8). */
  readonly channelBlock: number;
  /** y = x in the other layout; c must be a multiple of channelBlock. */
  reorderImages(x: F32, y: F32, attrs: ReorderAttrs): void;

  // ***** dense *****
  matmul(a: F32, b: F32, bias: F32 | null, out: F32, attrs: MatMulAttrs): void;
  /** out[cols] = sum over rows of x[rows, cols] (bias gradients). */
  sumRows(x: F32, out: F32, rows: number, cols: number): void;
  /** out[i, :] = x[index[i], :] for x [rows, cols], out [index.length, cols]. */
  gatherRows(x: F32, index: Int32Array, out: F32, rows: number, cols: number): void;
  /** out[r, :] = sum over i with index[i] = r of dy[i, :] for dy [index.length, cols], out [rows, cols] (overwritten; summed in float32 in the order of i). */
  scatterAddRows(dy: F32, index: Int32Array, out: F32, rows: number, cols: number): void;

  // ***** convolution *****
  /** y[n, outH, outW, o] = conv(x[n, h, w, c], weight[o, c, kh, kw]) + bias[o] */
  conv2dForward(x: F32, weight: F32, bias: F32 | null, y: F32, attrs: Conv2dAttrs): void;
  conv2dBackwardData(dy: F32, weight: F32, dx: F32, attrs: Conv2dAttrs): void;
  /** dWeight[o, c, kh, kw] and dBias[o] (when not null) from x and dy; overwrites. */
  conv2dBackwardWeights(x: F32, dy: F32, dWeight: F32, dBias: F32 | null, attrs: Conv2dAttrs): void;

  // ***** pooling *****
  /** Bytes of the opaque buffer maxPool2dForward fills for its backward pass. */
  maxPool2dWorkspaceBytes(attrs: PoolAttrs): number;
  maxPool2dForward(x: F32, y: F32, workspace: Uint8Array, attrs: PoolAttrs): void;
  maxPool2dBackward(dy: F32, workspace: Uint8Array, dx: F32, attrs: PoolAttrs): void;
  /** y[n, c] = mean over h, w of x[n, h, w, c] */
  globalAvgPoolForward(x: F32, y: F32, attrs: ImageAttrs): void;
  globalAvgPoolBackward(dy: F32, dx: F32, attrs: ImageAttrs): void;

  // ***** normalisation *****
  /** Bytes of the opaque buffer a relu-fused training forward fills for its backward (0 without relu). */
  batchNormWorkspaceBytes(attrs: BatchNormAttrs): number;
  /** Uses batch statistics; writes the biased mean and variance it used into mean and variance. */
  batchNormForwardTraining(x: F32, gamma: F32, beta: F32, y: F32, mean: F32, variance: F32, attrs: BatchNormAttrs, workspace?: Uint8Array): void;
  batchNormForwardInference(x: F32, gamma: F32, beta: F32, mean: F32, variance: F32, y: F32, attrs: BatchNormAttrs): void;
  /** mean and variance are the ones the training forward pass wrote. */
  batchNormBackward(
    x: F32, dy: F32, gamma: F32, mean: F32, variance: F32,
    dx: F32, dGamma: F32, dBeta: F32, attrs: BatchNormAttrs, workspace?: Uint8Array,
  ): void;

  // ***** elementwise *****
  activationForward(kind: Activation, x: F32, y: F32, alpha: number): void;
  /** Backward from the forward output y (all three activations allow it), not the input. */
  activationBackward(kind: Activation, y: F32, dy: F32, dx: F32, alpha: number): void;
  /** out = a + b (out may alias a or b). */
  add(a: F32, b: F32, out: F32): void;
  /** y = alpha * x + beta * y */
  axpby(alpha: number, x: F32, beta: number, y: F32): void;

  // ***** losses: return the mean loss; write its gradient when grad is not null *****
  /** mean over rows of -log softmax(logits)[label]; grad = (softmax - onehot) / rows. */
  softmaxCrossEntropy(logits: F32, labels: Int32Array, grad: F32 | null, rows: number, cols: number): number;
  /** mean over all elements of (pred - target)^2; grad = 2 (pred - target) / numel. */
  meanSquaredError(pred: F32, target: F32, grad: F32 | null): number;
  /** out[r] = index of the largest x[r, :] (the first one on ties). */
  argmaxRows(x: F32, out: Int32Array, rows: number, cols: number): void;

  // ***** initialisation *****
  /**
   * out[i] = scale × the next standard normal of the xoshiro128** generator whose 4-word state is
   * `state` (advanced in place), drawn in pairs by the polar method (src/backend/reference/random.ts).
   * Returns the unused second normal of the last pair, NaN when none is left.
   */
  normalFill(out: F32, state: Uint32Array, scale: number): number;

  // ***** data augmentation *****
  /**
   * y[i] = standardise(contrast(brightness(flip(crop(pad(x[i])))))) for each image of x [n, h, w, c]:
   * zero-pad by attrs.pad, take the h x w window at (top, left) = (crop[3i], crop[3i+1]) of the
   * padded image, mirror it left-right when crop[3i+2] = 1, add adjust[2i] to every value, scale
   * each channel's deviation from its mean by adjust[2i+1], then (v - mean) / max(std, 1/sqrt(h w c))
   * with the image's mean and (population) std. crop is [n, 3] with offsets in 0..2 pad, adjust [n, 2].
   */
  augmentImages(x: F32, crop: Int32Array, adjust: F32, y: F32, attrs: AugmentAttrs): void;

  // ***** optimizers: fused in-place updates *****
  adamStep(param: F32, grad: F32, m: F32, v: F32, attrs: AdamAttrs): void;
  /** momentumBuffer is ignored (and may be empty) when momentum is 0. */
  sgdStep(param: F32, grad: F32, momentumBuffer: F32, attrs: SgdAttrs): void;
}
