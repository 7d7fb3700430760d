// Adam (Kingma & Ba 2015, https://arxiv.org/abs/1412.6980) and, with decoupled: true,
// AdamW (Loshchilov & Hutter 2019, https://arxiv.org/abs/1711.05101):
//   g += wd p (Adam) | p *= 1 - lr wd (AdamW)
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
// Defaults lr 1e-3, betas (0.9, 0.999), eps 1e-8, as PyTorch.
import { backend } from '../backend/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, copyBuffers, decayMask, lrScales, requireInRange, stateBuffers, type OptimizerState } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  decoupled?: boolean;
  /** the parameters weight decay applies to (default: every one) */
  decayed?: readonly Tensor[];
  /** per-parameter multipliers of lr (default 1 for every parameter) */
  lrScale?: ReadonlyMap<Tensor, number>;
}

export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  /** per parameter: whether weight decay applies to it */
  readonly decays: boolean[];
  /** per parameter: the multiplier of lr */
  readonly lrScales: number[];
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];

  constructor(params: Tensor[], options: AdamOptions = {}) {
    super(params, options.lr ?? 1e-3);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.decoupled = options.decoupled ?? false;
    requireInRange('Adam', 'beta1', this.beta1, 0, 1);
    requireInRange('Adam', 'beta2', this.beta2, 0, 1);
    requireInRange('Adam', 'eps', this.eps, 0, Infinity, false);
    requireInRange('Adam', 'weightDecay', this.weightDecay, 0, Infinity);
    this.decays = decayMask('Adam', params, options.decayed);
    this.lrScales = lrScales('Adam', params, options.lrScale);
    this.m = stateBuffers(params);
    this.v = stateBuffers(params);
  }

  protected update(param: Tensor, grad: Float32Array, i: number): void {
    backend().adamStep(param.data, grad, this.m[i]!, this.v[i]!, {
      lr: this.lr * this.lrScales[i]!, beta1: this.beta1, beta2: this.beta2, eps: this.eps,
      weightDecay: this.decays[i] ? this.weightDecay : 0, decoupled: this.decoupled, step: this.stepCount,
    });
  }

  state(): OptimizerState {
    return { step: this.stepCount, lr: this.lr, buffers: { m: this.m, v: this.v } };
  }

  loadState(state: OptimizerState, adopt = false): void {
    const sizes = this.params.map((p) => p.size);
    copyBuffers('Adam', this.m, state.buffers['m'], adopt, sizes);
    copyBuffers('Adam', this.v, state.buffers['v'], adopt, sizes);
    this.stepCount = state.step;
    this.lr = state.lr;
  }
}
