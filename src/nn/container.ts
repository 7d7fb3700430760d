import type { Tensor } from '../tensor/tensor.js';
import { Layer } from './layer.js';

/** Applies its layers in order; children are named by index ("0", "1", ...). */
export class Sequential extends Layer {
  readonly layers: Layer[];

  constructor(...layers: Layer[]) {
    super();
    this.layers = layers;
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const layer of this.layers) y = layer.forward(y);
    return y;
  }

  override children(): [string, Layer][] {
    return this.layers.map((layer, i): [string, Layer] => [String(i), layer]);
  }
}
