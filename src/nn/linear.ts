import { linear } from '../tensor/ops/dense.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { constant, glorotUniform, heNormal, nearIdentity, type Initializer } from './init.js';
import { Layer } from './layer.js';

export interface LinearOptions {
  bias?: boolean;
  init?: Initializer;
}

/**
 * y = x W^T + b. Shape: x [batch, inFeatures] -> [batch, outFeatures].
 * Weight [outFeatures, inFeatures] He-normal by default (init 'glorot': Glorot-uniform; 'near-identity':
 * the identity plus small He-normal noise), bias 0.
 * Example: new Linear(784, 1024, rng).forward(x)
 */
export class Linear extends Layer {
  weight: Tensor;
  bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, rng: Rng, readonly options: LinearOptions = {}) {
    super();
    if (!Number.isInteger(inFeatures) || inFeatures < 1) throw new RangeError(`Linear: expected inFeatures >= 1, got ${inFeatures}`);
    if (!Number.isInteger(outFeatures) || outFeatures < 1) throw new RangeError(`Linear: expected outFeatures >= 1, got ${outFeatures}`);
    // drawn straight into the parameter: a wide bridge's weight is hundreds of megabytes
    this.weight = this.drawWeight(rng);
    this.bias = options.bias === false ? null : constant([outFeatures], 0);
  }

  private drawWeight(rng: Rng): Tensor {
    const shape = [this.outFeatures, this.inFeatures];
    const init = this.options.init ?? 'he';
    return init === 'glorot' ? glorotUniform(shape, this.inFeatures, this.outFeatures, rng)
      : init === 'near-identity' ? nearIdentity(shape, this.inFeatures, rng)
        : heNormal(shape, this.inFeatures, rng);
  }

  resetParameters(rng: Rng): void {
    this.weight.data.set(this.drawWeight(rng).data);
    this.bias?.data.fill(0);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override ownParameters(): [string, Tensor][] {
    return this.bias ? [['weight', this.weight], ['bias', this.bias]] : [['weight', this.weight]];
  }

  override describe(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
