import type { Activation as ActivationKind } from '../backend/kernel_names.js';
import { activation } from '../tensor/ops/activation.js';
import { add } from '../tensor/ops/elementwise.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { Conv2d } from './conv.js';
import { Layer } from './layer.js';
import { BatchNorm, type BatchNormOptions } from './norm.js';

export interface BasicBlockOptions {
  /**
   * 'he' (default): y = act(bn2(conv2(h)) + shortcut(x)), shortcut = 1x1 conv + BN (option B of
   * the paper). 'authors': y = act(act(bn2(conv2(h))) + shortcut(x)), shortcut = 1x1 conv with a
   * bias and no BN, as Kao & Chen's CIFAR code builds its blocks (BP and AL alike).
   */
  form?: 'he' | 'authors';
  /** options of every batch norm of the block */
  batchNorm?: BatchNormOptions;
}

/**
 * The CIFAR ResNet basic block (He et al. 2016, https://arxiv.org/abs/1512.03385):
 *   h = act(bn1(conv1(x))), then y as `options.form` says,
 * shortcut = identity, or a 1x1 convolution with stride when the shape changes.
 * Shape: [n, h, w, inChannels] -> [n, h/stride, w/stride, outChannels].
 */
export class BasicBlock extends Layer {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm;
  readonly shortcut: [Conv2d, BatchNorm] | [Conv2d] | null;
  readonly form: 'he' | 'authors';

  constructor(readonly inChannels: number, readonly outChannels: number, readonly stride: number, rng: Rng, readonly act: ActivationKind = 'relu', options: BasicBlockOptions = {}) {
    super();
    this.form = options.form ?? 'he';
    this.conv1 = new Conv2d(inChannels, outChannels, 3, rng, { stride, padding: 1, bias: false });
    this.bn1 = new BatchNorm(outChannels, options.batchNorm);
    this.conv2 = new Conv2d(outChannels, outChannels, 3, rng, { padding: 1, bias: false });
    this.bn2 = new BatchNorm(outChannels, options.batchNorm);
    const changes = stride !== 1 || inChannels !== outChannels;
    this.shortcut = !changes ? null
      : this.form === 'authors' ? [new Conv2d(inChannels, outChannels, 1, rng, { stride })]
        : [new Conv2d(inChannels, outChannels, 1, rng, { stride, bias: false }), new BatchNorm(outChannels, options.batchNorm)];
  }

  forward(x: Tensor): Tensor {
    const z = this.conv1.forward(x);
    const h = this.act === 'relu' ? this.bn1.forwardRelu(z) : activation(this.act, this.bn1.forward(z));
    const z2 = this.conv2.forward(h);
    const main = this.form === 'he' ? this.bn2.forward(z2) : this.act === 'relu' ? this.bn2.forwardRelu(z2) : activation(this.act, this.bn2.forward(z2));
    const [conv, bn] = this.shortcut ?? [];
    const skip = conv ? (bn ? bn.forward(conv.forward(x)) : conv.forward(x)) : x;
    return activation(this.act, add(main, skip));
  }

  override children(): [string, Layer][] {
    const kids: [string, Layer][] = [['conv1', this.conv1], ['bn1', this.bn1], ['conv2', this.conv2], ['bn2', this.bn2]];
    this.shortcut?.forEach((layer, i) => kids.push([`shortcut.${i}`, layer]));
    return kids;
  }

  override describe(): string {
    return `${this.inChannels}, ${this.outChannels}, stride=${this.stride}, act=${this.act}${this.form === 'he' ? '' : `, form=${this.form}`}`;
  }
}
