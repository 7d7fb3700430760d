// The reference backend: every kernel of the contract in plain TypeScript, written to be obviously
// correct rather than fast. It is the oracle the native backend is tested against, and the backend
// unit tests run on. Sums accumulate in JS numbers (float64) and are rounded once, when written to
// a float32 output. Kernels live in ./reference/ by family; this file only assembles them.
import type { Backend, BatchNormAttrs, F32, ImageAttrs, PoolAttrs } from './kernel_names.js';
import { conv2dBackwardData, conv2dBackwardWeights, conv2dForward } from './reference/conv.js';
import { matmul, sumRows } from './reference/dense.js';
import { augmentImages } from './reference/image.js';
import { activationBackward, activationForward, add, axpby } from './reference/elementwise.js';
import { argmaxRows, meanSquaredError, softmaxCrossEntropy } from './reference/loss.js';
import { batchNormBackward, batchNormForwardInference, batchNormForwardTraining } from './reference/norm.js';
import { adamStep, sgdStep } from './reference/optim.js';
import {
  REFERENCE_CHANNEL_BLOCK, blockedConvBackwardData, blockedConvBackwardWeights, blockedConvForward, blockedPool,
  bnIntoBlocked, bnPlain, reorderImages,
} from './reference/layout.js';
import {
  globalAvgPoolBackward, globalAvgPoolForward, maxPool2dBackward, maxPool2dForward, maxPool2dWorkspaceBytes,
} from './reference/pool.js';

const poolOut = (a: PoolAttrs): [number, number] => [a.outH, a.outW];
const globalOut = (): [number, number] => [1, 1];

// The reference runs on the calling thread only; the number is kept so that code which sets and
// reads it back behaves the same on either backend.
let numThreads = 1;

export const referenceBackend: Backend = {
  name: 'reference',

  setNumThreads(n: number): void {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`setNumThreads: expected an integer >= 1, got ${n}`);
    numThreads = n;
  },
  getNumThreads: () => numThreads,
  cpuIsa: () => 'typescript',
  pooledBuffer: () => null,
  // its memory is V8's alone, which returns what it frees
  releaseFreeMemory: () => false,

  matmul,
  sumRows,

  channelBlock: REFERENCE_CHANNEL_BLOCK,
  reorderImages,

  conv2dForward: blockedConvForward(conv2dForward),
  conv2dBackwardData: blockedConvBackwardData(conv2dBackwardData),
  conv2dBackwardWeights: blockedConvBackwardWeights(conv2dBackwardWeights),

  maxPool2dWorkspaceBytes,
  maxPool2dForward(x: F32, y: F32, workspace: Uint8Array, attrs: PoolAttrs): void {
    blockedPool('maxPool2dForward', poolOut, (i, o, a) => maxPool2dForward(i, o, workspace, a), false)(x, y, attrs);
  },
  maxPool2dBackward(dy: F32, workspace: Uint8Array, dx: F32, attrs: PoolAttrs): void {
    blockedPool('maxPool2dBackward', poolOut, (i, o, a) => maxPool2dBackward(i, workspace, o, a), true)(dy, dx, attrs);
  },
  // y / dy are [n, c]: the same bytes in either layout, so only x / dx are reordered
  globalAvgPoolForward: (x: F32, y: F32, attrs: ImageAttrs) => blockedPool('globalAvgPoolForward', globalOut, globalAvgPoolForward, false)(x, y, attrs),
  globalAvgPoolBackward: (dy: F32, dx: F32, attrs: ImageAttrs) => blockedPool('globalAvgPoolBackward', globalOut, globalAvgPoolBackward, true)(dy, dx, attrs),

  batchNormForwardTraining(x, gamma, beta, y, mean, variance, attrs: BatchNormAttrs): void {
    const k = 'batchNormForwardTraining';
    if (!attrs.images) return batchNormForwardTraining(x, gamma, beta, y, mean, variance, attrs);
    const px = bnPlain(k, x, attrs);
    bnIntoBlocked(k, y, attrs, (py) => batchNormForwardTraining(px, gamma, beta, py, mean, variance, attrs));
  },
  batchNormForwardInference(x, gamma, beta, mean, variance, y, attrs: BatchNormAttrs): void {
    const k = 'batchNormForwardInference';
    if (!attrs.images) return batchNormForwardInference(x, gamma, beta, mean, variance, y, attrs);
    const px = bnPlain(k, x, attrs);
    bnIntoBlocked(k, y, attrs, (py) => batchNormForwardInference(px, gamma, beta, mean, variance, py, attrs));
  },
  batchNormBackward(x, dy, gamma, mean, variance, dx, dGamma, dBeta, attrs: BatchNormAttrs): void {
    const k = 'batchNormBackward';
    if (!attrs.images) return batchNormBackward(x, dy, gamma, mean, variance, dx, dGamma, dBeta, attrs);
    const px = bnPlain(k, x, attrs), pdy = bnPlain(k, dy, attrs);
    bnIntoBlocked(k, dx, attrs, (pdx) => batchNormBackward(px, pdy, gamma, mean, variance, pdx, dGamma, dBeta, attrs));
  },

  activationForward,
  activationBackward,
  add,
  axpby,

  softmaxCrossEntropy,
  meanSquaredError,
  argmaxRows,

  augmentImages,

  adamStep,
  sgdStep,
};
