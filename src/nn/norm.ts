import { batchNorm, type BatchNormState } from '../tensor/ops/norm.js';
import type { Tensor } from '../tensor/tensor.js';
import { constant } from './init.js';
import { Layer } from './layer.js';

export interface BatchNormOptions {
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalisation (Ioffe & Szegedy 2015, https://arxiv.org/abs/1502.03167) over the last
 * (channel) axis: x [n, c] or channels-last images [n, h, w, c]; output has x's shape.
 * gamma = 1, beta = 0; running mean 0 and variance 1, updated with momentum 0.1 (PyTorch's default).
 */
export class BatchNorm extends Layer {
  gamma: Tensor;
  beta: Tensor;
  readonly state: BatchNormState;

  constructor(readonly channels: number, options: BatchNormOptions = {}) {
    super();
    if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`BatchNorm: expected channels >= 1, got ${channels}`);
    const momentum = options.momentum ?? 0.1;
    const eps = options.eps ?? 1e-5;
    if (!(momentum >= 0 && momentum <= 1)) throw new RangeError(`BatchNorm: expected 0 <= momentum <= 1, got ${momentum}`);
    if (!(eps > 0)) throw new RangeError(`BatchNorm: expected eps > 0, got ${eps}`);
    this.gamma = constant([channels], 1);
    this.beta = constant([channels], 0);
    this.state = { runningMean: new Float32Array(channels), runningVar: new Float32Array(channels).fill(1), momentum, eps };
  }

  resetParameters(): void {
    this.gamma.data.fill(1);
    this.beta.data.fill(0);
    this.state.runningMean.fill(0);
    this.state.runningVar.fill(1);
  }

  forward(x: Tensor): Tensor {
    return batchNorm(x, this.gamma, this.beta, this.state, this.training);
  }

  /** relu(this.forward(x)) as one kernel each way (Sequential and BasicBlock use it for BN then ReLU). */
  forwardRelu(x: Tensor): Tensor {
    return batchNorm(x, this.gamma, this.beta, this.state, this.training, true);
  }

  override ownParameters(): [string, Tensor][] {
    return [['weight', this.gamma], ['bias', this.beta]];
  }

  override ownBuffers(): [string, Float32Array][] {
    return [['runningMean', this.state.runningMean], ['runningVar', this.state.runningVar]];
  }

  override describe(): string {
    return `${this.channels}, eps=${this.state.eps}, momentum=${this.state.momentum}`;
  }
}

/** The same layer; the names say which input it is meant for. */
export const BatchNorm1d = BatchNorm;
export const BatchNorm2d = BatchNorm;
