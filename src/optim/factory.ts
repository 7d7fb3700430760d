// The optimizers a BP run can choose, built from plain settings: the CLI builds the whole model's
// optimizer from them and a pipeline stage builds the same optimizer over its own parameters
// (Adam and SGD are per-parameter updates, so per-stage optimizers compute exactly what one
// optimizer over all parameters does).
import type { Tensor } from '../tensor/tensor.js';
import { Adam } from './adam.js';
import type { Optimizer } from './optimizer.js';
import { SGD } from './sgd.js';

export interface OptimizerSettings {
  kind: 'adam' | 'sgd';
  lr: number;
  weightDecay: number;
}

export function createOptimizer(params: Tensor[], settings: OptimizerSettings): Optimizer {
  return settings.kind === 'adam'
    ? new Adam(params, { lr: settings.lr, weightDecay: settings.weightDecay })
    : new SGD(params, { lr: settings.lr, momentum: 0.9, weightDecay: settings.weightDecay });
}
