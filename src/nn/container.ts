import type { Tensor } from '../tensor/tensor.js';
import { Activation } from './activation.js';
import { Layer } from './layer.js';
import { BatchNorm } from './norm.js';

/**
 * Applies its layers in order; children are named by index ("0", "1", ...). A BatchNorm followed
 * by a ReLU runs as one fused kernel (the same values, one pass fewer each way), the two layers
 * staying separate children so names and checkpoints do not depend on the fusion.
 */
export class Sequential extends Layer {
  readonly layers: Layer[];

  constructor(...layers: Layer[]) {
    super();
    this.layers = layers;
  }

  forward(x: Tensor): Tensor {
    let y = x;
    const layers = this.layers;
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i]!;
      if (layer instanceof BatchNorm && isPlainRelu(layers[i + 1])) {
        y = layer.forwardRelu(y);
        i++;
      } else {
        y = layer.forward(y);
      }
    }
    return y;
  }

  override children(): [string, Layer][] {
    return this.layers.map((layer, i): [string, Layer] => [String(i), layer]);
  }
}

function isPlainRelu(layer: Layer | undefined): boolean {
  return layer instanceof Activation && layer.kind === 'relu' && layer.alpha === 0;
}
