import { flatten } from '../tensor/ops/elementwise.js';
import { globalAvgPool, maxPool2d } from '../tensor/ops/pool.js';
import type { Tensor } from '../tensor/tensor.js';
import { Layer } from './layer.js';

/** Max pooling over size x size windows: [n, h, w, c] -> [n, outH, outW, c]. */
export class MaxPool2d extends Layer {
  constructor(readonly size = 2, readonly stride = size) {
    super();
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.size, this.stride);
  }

  override describe(): string {
    return `size=${this.size}, stride=${this.stride}`;
  }
}

/** Mean over the spatial axes: [n, h, w, c] -> [n, c]. */
export class GlobalAvgPool extends Layer {
  forward(x: Tensor): Tensor {
    return globalAvgPool(x);
  }
}

/** [n, ...] -> [n, product of the rest]; a view, no copy. */
export class Flatten extends Layer {
  forward(x: Tensor): Tensor {
    return flatten(x);
  }
}
