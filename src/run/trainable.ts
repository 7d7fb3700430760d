// From a run's configuration to a trainable model: the BP network or the AL network of the
// chosen backbone, its learner, and its named tensors and optimizers for checkpoints. Shared by
// `al train`, and by loadRun (saved_run.ts), which `al eval` and `al analyze` use.
import { ALLearner } from '../al/al_learner.js';
import type { AssociatedNet } from '../al/associated_net.js';
import type { Bridge } from '../al/codes.js';
import { buildAssociatedNet } from '../al/decompositions.js';
import type { Split } from '../data/dataset.js';
import { buildModel, type ModelName } from '../models/index.js';
import type { ALNetBlueprint } from '../pipeline/runtime/messages.js';
import type { Sequential } from '../nn/container.js';
import { decayedParameters, type DecayScope } from '../nn/kernels.js';
import { countParameters } from '../nn/layer.js';
import { createOptimizer, type OptimizerSettings } from '../optim/factory.js';
import type { Optimizer } from '../optim/optimizer.js';
import { paperSchedule, scheduledLr, type Milestone } from '../optim/schedule.js';
import type { Rng } from '../tensor/rng.js';
import { BpLearner } from '../train/bp_trainer.js';
import { evaluateAccuracy } from '../train/evaluate.js';
import type { Learner } from '../train/loop.js';
import type { TrainingState } from './resume.js';

export interface ModelConfig {
  model: ModelName;
  method: 'bp' | 'al' | 'gpipe' | 'naive-pipeline';
  optimizer: 'adam' | 'sgd';
  lr: number;
  targetLr: number | undefined;
  weightDecay: number;
  /** which parameters weight decay reaches (undefined: all; AL: f's kernels when not all) */
  decayOn?: DecayScope | undefined;
  /** 'authors': the network as the authors' code builds it (undefined: ours) */
  variant?: 'authors' | undefined;
  schedule: 'paper' | 'constant';
  alLayers: number | undefined;
  /** AL: units of the backbone per AL layer (undefined: the authors' cut, or even for alLayers) */
  alCut?: number[] | undefined;
  tWidth: number | undefined;
  /** AL: the bridges b_i, 'wide', 'slim' or 'lean' (undefined: wide) */
  bridge?: Bridge | undefined;
  /** BP-trained MLP: the hidden layers' widths (undefined: the paper's) */
  hidden?: number[] | undefined;
}

/** A model with its learner; as a TrainingState it can be checkpointed and resumed. */
export interface Trainable extends TrainingState {
  learner: Learner;
  /** lines for the start of a run: parameter counts */
  summary: string[];
  parameters: number;
  tensors(): [string, Float32Array, readonly number[]][];
  testAccuracy(split: Split, exitLayer?: number): number;
  /** AL layer count (exit layers 1..depth); 0 for BP */
  depth: number;
  /** AL: the net and what a pipeline stage needs to rebuild its layers */
  al?: { net: AssociatedNet; blueprint: ALNetBlueprint };
  /** BP: the network and its optimizer, and what a pipeline stage needs to build the same one */
  bp?: { model: Sequential; optimizer: Optimizer; settings: OptimizerSettings; milestones: readonly Milestone[] };
}

function tensorsOf(named: [string, { data: Float32Array; shape: readonly number[] }][], buffers: [string, Float32Array][]): [string, Float32Array, readonly number[]][] {
  return [...named.map(([n, t]): [string, Float32Array, readonly number[]] => [n, t.data, t.shape]),
    ...buffers.map(([n, b]): [string, Float32Array, readonly number[]] => [n, b, [b.length]])];
}

const count = (ts: { size: number }[]): number => ts.reduce((n, t) => n + t.size, 0);
const fmt = (n: number): string => n.toLocaleString('en-US');

export function buildTrainable(config: ModelConfig, shape: [number, number, number], classes: number, rng: Rng): Trainable {
  const milestones = config.schedule === 'paper' ? paperSchedule : [];
  if (config.method === 'al') {
    const blueprint: ALNetBlueprint = {
      model: config.model, inputShape: shape, classes, layers: config.alLayers, ...(config.alCut ? { cut: config.alCut } : {}), tWidth: config.tWidth,
      lr: config.lr, targetLr: config.targetLr, weightDecay: config.weightDecay, milestones,
      ...(config.decayOn ? { decayOn: config.decayOn } : {}), ...(config.variant ? { variant: config.variant } : {}),
      ...(config.bridge ? { bridge: config.bridge } : {}),
    };
    const net: AssociatedNet = buildAssociatedNet({ ...blueprint, rng });
    const learner = new ALLearner(net);
    const effective = count(net.effectiveParameters()), affiliated = count(net.affiliatedParameters());
    return {
      learner,
      summary: [`${net.depth} AL layers${config.alCut ? ` (units per layer ${config.alCut.join(',')})` : ''}: ${fmt(effective)} effective parameters (every f and h, the last b), ${fmt(affiliated)} affiliated (the other b, every g)`],
      parameters: effective + affiliated,
      tensors: () => tensorsOf(net.namedParameters(), net.namedBuffers()),
      namedParameters: () => net.namedParameters(),
      namedBuffers: () => net.namedBuffers(),
      optimizers: () => net.layers.flatMap((layer) => [layer.forwardOptimizer, layer.targetOptimizer]),
      testAccuracy: (split, exit) => learner.testAccuracy(split, exit),
      depth: net.depth,
      al: { net, blueprint },
    };
  }
  const model: Sequential = buildModel(config.model, { inputShape: shape, classes, rng, ...(config.variant ? { variant: config.variant } : {}), hidden: config.hidden });
  const params = model.parameters();
  const settings: OptimizerSettings = { kind: config.optimizer, lr: config.lr, weightDecay: config.weightDecay, ...(config.decayOn ? { decayOn: config.decayOn } : {}) };
  const optimizer: Optimizer = createOptimizer(params, settings, config.decayOn ? decayedParameters(model, config.decayOn) : undefined);
  const lrAt = (epoch: number, epochs: number): number => scheduledLr(config.lr, epoch, epochs, milestones);
  const learner = new BpLearner(model, optimizer, lrAt);
  return {
    learner,
    summary: [`${fmt(countParameters(model))} parameters`],
    parameters: countParameters(model),
    tensors: () => tensorsOf(model.namedParameters(), model.namedBuffers()),
    namedParameters: () => model.namedParameters(),
    namedBuffers: () => model.namedBuffers(),
    optimizers: () => [optimizer],
    testAccuracy: (split) => evaluateAccuracy(model, split),
    depth: 0,
    bp: { model, optimizer, settings, milestones },
  };
}
