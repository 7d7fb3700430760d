// The reference backend: every kernel of the contract in plain TypeScript, written to be obviously
// correct rather than fast. It is the oracle the native backend is tested against, and the backend
// unit tests run on. Sums accumulate in JS numbers (float64) and are rounded once, when written to
// a float32 output. Kernels live in ./reference/ by family; this file only assembles them.
import { checkThreadCount, type Backend } from './kernel_names.js';
import { conv2dBackwardData, conv2dBackwardWeights, conv2dForward } from './reference/conv.js';
import { gatherRows, matmul, scatterAddRows, sumRows } from './reference/dense.js';
import { augmentImages } from './reference/image.js';
import { activationBackward, activationForward, add, axpby } from './reference/elementwise.js';
import { argmaxRows, meanSquaredError, softmaxCrossEntropy } from './reference/loss.js';
import { normalFill } from './reference/random.js';
import { batchNormBackward, batchNormForwardInference, batchNormForwardTraining, batchNormWorkspaceBytes } from './reference/norm.js';
import { adamStep, sgdStep } from './reference/optim.js';
import {
  REFERENCE_CHANNEL_BLOCK, blockedBatchNormBackward, blockedBatchNormForwardInference, blockedBatchNormForwardTraining,
  blockedConvBackwardData, blockedConvBackwardWeights, blockedConvForward, blockedGlobalAvgPoolBackward,
  blockedGlobalAvgPoolForward, blockedMaxPoolBackward, blockedMaxPoolForward, reorderImages,
} from './reference/layout.js';
import {
  globalAvgPoolBackward, globalAvgPoolForward, maxPool2dBackward, maxPool2dForward, maxPool2dWorkspaceBytes,
} from './reference/pool.js';

// The reference runs on the calling thread only; the number is kept so that code which sets and
// reads it back behaves the same on either backend.
let numThreads = 1;

export const referenceBackend: Backend = {
  name: 'reference',

  setNumThreads(n: number): void {
    numThreads = checkThreadCount(n);
  },
  getNumThreads: () => numThreads,
  cpuIsa: () => 'typescript',
  pooledBuffer: () => null,
  zeroedBuffer: () => null,
  // its memory is V8's alone, which returns what it frees
  releaseFreeMemory: () => false,

  matmul,
  sumRows,
  gatherRows,
  scatterAddRows,

  channelBlock: REFERENCE_CHANNEL_BLOCK,
  reorderImages,

  conv2dForward: blockedConvForward(conv2dForward),
  conv2dBackwardData: blockedConvBackwardData(conv2dBackwardData),
  conv2dBackwardWeights: blockedConvBackwardWeights(conv2dBackwardWeights),

  maxPool2dWorkspaceBytes,
  maxPool2dForward: blockedMaxPoolForward(maxPool2dForward),
  maxPool2dBackward: blockedMaxPoolBackward(maxPool2dBackward),
  globalAvgPoolForward: blockedGlobalAvgPoolForward(globalAvgPoolForward),
  globalAvgPoolBackward: blockedGlobalAvgPoolBackward(globalAvgPoolBackward),

  batchNormWorkspaceBytes,
  batchNormForwardTraining: blockedBatchNormForwardTraining(batchNormForwardTraining),
  batchNormForwardInference: blockedBatchNormForwardInference(batchNormForwardInference),
  batchNormBackward: blockedBatchNormBackward(batchNormBackward),

  activationForward,
  activationBackward,
  add,
  axpby,

  softmaxCrossEntropy,
  meanSquaredError,
  argmaxRows,
  normalFill,

  augmentImages,

  adamStep,
  sgdStep,
};
