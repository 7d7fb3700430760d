// Which parameters L2 regularisation reaches. Kao & Chen's code (TensorFlow) regularises kernels
// only: the weight matrices of dense layers and the filters of convolutions, never biases or batch
// norm's scale and shift; in some networks only the convolutions (docs/fidelity.md).
import { Conv2d } from './conv.js';
import type { Layer } from './layer.js';
import { Linear } from './linear.js';
import type { Tensor } from '../tensor/tensor.js';

/** 'all': every parameter; 'kernels': Linear and Conv2d weights; 'conv-kernels': Conv2d weights. */
export type DecayScope = 'all' | 'kernels' | 'conv-kernels';

export const DECAY_SCOPES: readonly DecayScope[] = ['all', 'kernels', 'conv-kernels'];

/** The kernels below `layers` that `scope` selects, in parameter order ('all' selects every parameter). */
export function decayedParameters(layers: Layer | readonly Layer[], scope: DecayScope): Tensor[] {
  const roots = Array.isArray(layers) ? layers : [layers as Layer];
  if (scope === 'all') return roots.flatMap((l) => l.parameters());
  const out: Tensor[] = [];
  const visit = (layer: Layer): void => {
    if (layer instanceof Conv2d || (scope === 'kernels' && layer instanceof Linear)) out.push(layer.weight);
    for (const [, child] of layer.children()) visit(child);
  };
  roots.forEach(visit);
  return out;
}
