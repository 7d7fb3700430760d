// Stochastic gradient descent with optional momentum (heavy ball or Nesterov) and L2 weight
// decay, PyTorch's semantics: g += wd p; buf = mu buf + g; g = nesterov ? g + mu buf : buf; p -= lr g.
import { backend } from '../backend/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { ConfigError, Optimizer, copyBuffers, decayMask, requireInRange, stateBuffers, type OptimizerState } from './optimizer.js';

export interface SgdOptions {
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
  /** the parameters weight decay applies to (default: every one) */
  decayed?: readonly Tensor[];
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  /** per parameter: whether weight decay applies to it */
  readonly decays: boolean[];
  private readonly buffers: Float32Array[];

  constructor(params: Tensor[], options: SgdOptions = {}) {
    super(params, options.lr ?? 0.01);
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
    requireInRange('SGD', 'momentum', this.momentum, 0, 1);
    requireInRange('SGD', 'weightDecay', this.weightDecay, 0, Infinity);
    if (this.nesterov && this.momentum === 0) throw new ConfigError('SGD: expected momentum > 0 with nesterov, got 0');
    this.decays = decayMask('SGD', params, options.decayed);
    this.buffers = this.momentum > 0 ? stateBuffers(params) : params.map(() => new Float32Array(0));
  }

  protected update(param: Tensor, grad: Float32Array, i: number): void {
    backend().sgdStep(param.data, grad, this.buffers[i]!, {
      lr: this.lr, momentum: this.momentum, weightDecay: this.decays[i] ? this.weightDecay : 0, nesterov: this.nesterov,
    });
  }

  state(): OptimizerState {
    return { step: this.stepCount, lr: this.lr, buffers: { momentum: this.buffers } };
  }

  loadState(state: OptimizerState, adopt = false): void {
    copyBuffers('SGD', this.buffers, state.buffers['momentum'], adopt, this.params.map((p) => (this.momentum > 0 ? p.size : 0)));
    this.stepCount = state.step;
    this.lr = state.lr;
  }
}
