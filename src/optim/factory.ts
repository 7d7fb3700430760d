// The optimizers a BP run can choose, built from plain settings: the CLI builds the whole model's
// optimizer from them and a pipeline stage builds the same optimizer over its own parameters
// (Adam and SGD are per-parameter updates, so per-stage optimizers compute exactly what one
// optimizer over all parameters does).
import type { Tensor } from '../tensor/tensor.js';
import { Adam } from './adam.js';
import { ConfigError, type Optimizer } from './optimizer.js';
import { SGD } from './sgd.js';

export interface OptimizerSettings {
  kind: 'adam' | 'sgd';
  lr: number;
  weightDecay: number;
  /**
   * Which parameters weight decay reaches (default 'all'); any other scope needs the `decayed`
   * tensors of createOptimizer, which the caller selects from its layers (nn's decayedParameters).
   */
  decayOn?: 'all' | 'kernels' | 'conv-kernels';
}

export function createOptimizer(params: Tensor[], settings: OptimizerSettings, decayed?: readonly Tensor[]): Optimizer {
  const scoped = settings.decayOn !== undefined && settings.decayOn !== 'all';
  if (scoped && decayed === undefined) throw new ConfigError(`createOptimizer: weight decay on '${settings.decayOn}' needs the decayed tensors, got none`);
  const only = scoped ? { decayed } : {};
  return settings.kind === 'adam'
    ? new Adam(params, { lr: settings.lr, weightDecay: settings.weightDecay, ...only })
    : new SGD(params, { lr: settings.lr, momentum: 0.9, weightDecay: settings.weightDecay, ...only });
}
