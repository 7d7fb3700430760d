import type { Activation as ActivationKind } from '../backend/kernel_names.js';
import { activation } from '../tensor/ops/activation.js';
import type { Tensor } from '../tensor/tensor.js';
import { Layer } from './layer.js';

/** relu(x) = max(x, 0); elu(x) = x > 0 ? x : alpha (e^x - 1); sigmoid(x) = 1 / (1 + e^-x); tanh(x). */
export class Activation extends Layer {
  constructor(readonly kind: ActivationKind, readonly alpha = kind === 'elu' ? 1 : 0) {
    super();
  }

  forward(x: Tensor): Tensor {
    return activation(this.kind, x, this.alpha);
  }

  override describe(): string {
    return this.kind === 'elu' ? `elu, alpha=${this.alpha}` : this.kind;
  }
}

export const ReLU = (): Activation => new Activation('relu');
export const ELU = (alpha = 1): Activation => new Activation('elu', alpha);
export const Sigmoid = (): Activation => new Activation('sigmoid');
export const Tanh = (): Activation => new Activation('tanh');
