import type { Activation as ActivationKind } from '../backend/kernel_names.js';
import { activation } from '../tensor/ops/activation.js';
import { add } from '../tensor/ops/elementwise.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { Conv2d } from './conv.js';
import { Layer } from './layer.js';
import { BatchNorm } from './norm.js';

/**
 * The CIFAR ResNet basic block (He et al. 2016, https://arxiv.org/abs/1512.03385):
 *   y = act(bn2(conv2(act(bn1(conv1(x))))) + shortcut(x)),
 * shortcut = identity, or a 1x1 convolution with stride + batch norm when the shape changes
 * (option B of the paper). Shape: [n, h, w, inChannels] -> [n, h/stride, w/stride, outChannels].
 */
export class BasicBlock extends Layer {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm;
  readonly shortcut: [Conv2d, BatchNorm] | null;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly stride: number, rng: Rng, readonly act: ActivationKind = 'relu') {
    super();
    this.conv1 = new Conv2d(inChannels, outChannels, 3, rng, { stride, padding: 1, bias: false });
    this.bn1 = new BatchNorm(outChannels);
    this.conv2 = new Conv2d(outChannels, outChannels, 3, rng, { padding: 1, bias: false });
    this.bn2 = new BatchNorm(outChannels);
    this.shortcut = stride !== 1 || inChannels !== outChannels
      ? [new Conv2d(inChannels, outChannels, 1, rng, { stride, bias: false }), new BatchNorm(outChannels)]
      : null;
  }

  forward(x: Tensor): Tensor {
    const z = this.conv1.forward(x);
    const h = this.act === 'relu' ? this.bn1.forwardRelu(z) : activation(this.act, this.bn1.forward(z));
    const main = this.bn2.forward(this.conv2.forward(h));
    const skip = this.shortcut ? this.shortcut[1].forward(this.shortcut[0].forward(x)) : x;
    return activation(this.act, add(main, skip));
  }

  override children(): [string, Layer][] {
    const kids: [string, Layer][] = [['conv1', this.conv1], ['bn1', this.bn1], ['conv2', this.conv2], ['bn2', this.bn2]];
    if (this.shortcut) kids.push(['shortcut.0', this.shortcut[0]], ['shortcut.1', this.shortcut[1]]);
    return kids;
  }

  override describe(): string {
    return `${this.inChannels}, ${this.outChannels}, stride=${this.stride}, act=${this.act}`;
  }
}
