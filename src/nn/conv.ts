import type { Activation } from '../backend/kernel_names.js';
import { conv2d } from '../tensor/ops/conv.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { constant, heNormal } from './init.js';
import { Layer } from './layer.js';

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
  bias?: boolean;
  /** an activation fused into the convolution's kernel: the same result as Conv2d then Activation, in one pass */
  activation?: Activation;
  /** ELU's alpha (default 1) */
  alpha?: number;
}

/**
 * 2-D convolution over channels-last images.
 * Shape: x [n, h, w, inChannels] -> [n, outH, outW, outChannels], outH = floor((h + 2p - k) / s) + 1.
 * Weight [outChannels, inChannels, k, k] He-normal (fan-in = inChannels k k), bias 0.
 * Example: new Conv2d(3, 32, 3, rng, { padding: 1 })
 */
export class Conv2d extends Layer {
  weight: Tensor;
  bias: Tensor | null;
  readonly stride: number;
  readonly padding: number;
  readonly activation: Activation | undefined;
  readonly alpha: number;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, rng: Rng, options: Conv2dOptions = {}) {
    super();
    for (const [name, v] of [['inChannels', inChannels], ['outChannels', outChannels], ['kernelSize', kernelSize]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`Conv2d: expected ${name} >= 1, got ${v}`);
    }
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    this.activation = options.activation;
    this.alpha = options.activation === 'elu' ? (options.alpha ?? 1) : 0;
    if (!Number.isInteger(this.stride) || this.stride < 1) throw new RangeError(`Conv2d: expected stride >= 1, got ${this.stride}`);
    if (!Number.isInteger(this.padding) || this.padding < 0) throw new RangeError(`Conv2d: expected padding >= 0, got ${this.padding}`);
    this.weight = heNormal([outChannels, inChannels, kernelSize, kernelSize], inChannels * kernelSize * kernelSize, rng);
    this.bias = options.bias === false ? null : constant([outChannels], 0);
  }

  resetParameters(rng: Rng): void {
    const k = this.kernelSize;
    this.weight.data.set(heNormal(this.weight.shape, this.inChannels * k * k, rng).data);
    this.bias?.data.fill(0);
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, activation: this.activation, alpha: this.alpha });
  }

  override ownParameters(): [string, Tensor][] {
    return this.bias ? [['weight', this.weight], ['bias', this.bias]] : [['weight', this.weight]];
  }

  override describe(): string {
    const fused = this.activation === undefined ? '' : `, activation=${this.activation === 'elu' ? `elu(alpha=${this.alpha})` : this.activation}`;
    return `${this.inChannels}, ${this.outChannels}, kernelSize=${this.kernelSize}, stride=${this.stride}, padding=${this.padding}, bias=${this.bias !== null}${fused}`;
  }
}
