// Batch normalisation over the last axis: x is viewed as [rows, c] (rows = n for [n, c],
// n*h*w for NHWC images), which is why one op serves BatchNorm1d and BatchNorm2d. Blocked images
// stay blocked (the kernels are told how many images the rows make).
//   training: y = gamma (x - mean_B) / sqrt(var_B + eps) + beta, with batch statistics, and
//             running = (1 - momentum) running + momentum stat (variance unbiased, as PyTorch);
//   eval:     the running statistics instead (no gradient through them).
// With relu, the op is relu(batchNorm(x)) in one kernel: the training forward leaves a workspace
// (where the output is positive) from which the backward masks dy, so neither pass needs a
// separate sweep over the activation.
import { backend } from '../../backend/backend.js';
import type { BatchNormAttrs } from '../../backend/kernel_names.js';
import { ShapeError, shapeString } from '../errors.js';
import { Tensor, freeGradBuffer, fromOp, gradBuffer } from '../tensor.js';
import { addInto } from './grad_util.js';

export interface BatchNormState {
  runningMean: Float32Array;
  runningVar: Float32Array;
  momentum: number;
  eps: number;
}

export function batchNorm(x: Tensor, gamma: Tensor, beta: Tensor, state: BatchNormState, training: boolean, relu = false): Tensor {
  const c = x.shape[x.shape.length - 1] ?? 0;
  if (x.shape.length < 2 || gamma.size !== c || beta.size !== c) {
    throw new ShapeError(`batchNorm: expected x [..., ${gamma.size}] with channels last, got ${shapeString(x.shape)}`);
  }
  const rows = x.size / c;
  const attrs: BatchNormAttrs = { rows, c, eps: state.eps };
  if (x.layout === 'blocked') attrs.images = x.shape[0]!;
  if (relu) attrs.relu = true;
  const name = relu ? 'batchNormRelu' : 'batchNorm';
  const b = backend();
  const y = Tensor.empty(x.shape, x.layout);
  if (!training) {
    b.batchNormForwardInference(x.storage, gamma.data, beta.data, state.runningMean, state.runningVar, y.storage, attrs);
    return fromOp(name, y, [x, gamma, beta], () => {
      throw new Error('batchNorm: backward through eval mode is not supported (call model.train() before training)');
    });
  }
  if (rows < 2) throw new ShapeError(`batchNorm: training needs more than one value per channel, got x ${shapeString(x.shape)}`);
  const mean = new Float32Array(c);
  const variance = new Float32Array(c);
  const workspace = relu ? new Uint8Array(b.batchNormWorkspaceBytes(attrs)) : undefined;
  b.batchNormForwardTraining(x.storage, gamma.data, beta.data, y.storage, mean, variance, attrs, workspace);
  const m = state.momentum;
  b.axpby(m, mean, 1 - m, state.runningMean);
  b.axpby((m * rows) / (rows - 1), variance, 1 - m, state.runningVar);
  return fromOp(name, y, [x, gamma, beta], (dy) => {
    const dx = gradBuffer(x.size);
    const dGamma = gradBuffer(c);
    const dBeta = gradBuffer(c);
    b.batchNormBackward(x.storage, dy, gamma.data, mean, variance, dx, dGamma, dBeta, attrs, workspace);
    addInto(gamma, dGamma);
    addInto(beta, dBeta);
    if (x.requiresGrad) return [dx, null, null];
    freeGradBuffer(dx);
    return [null, null, null];
  });
}
