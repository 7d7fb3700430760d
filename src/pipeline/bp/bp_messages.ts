// Messages of the pipelined BP methods (GPipe and naive): activations travel downstream, and,
// unlike AL, gradients travel back upstream. Tensor data moves as transferred buffers.
import type { ModelName } from '../../models/index.js';
import type { OptimizerSettings } from '../../optim/factory.js';
import type { OptimizerState } from '../../optim/optimizer.js';
import type { Milestone } from '../../optim/schedule.js';
import type { BpPipelineMethod } from './bp_stage.js';
import type { TraceInterval, WireTensor } from '../runtime/messages.js';

export interface BpStageInit {
  stage: number;
  stages: number;
  method: BpPipelineMethod;
  model: ModelName;
  inputShape: [number, number, number];
  classes: number;
  /** indices of the backbone's top-level modules this stage holds, contiguous */
  modules: number[];
  /** their tensors by name ("<module>.<name>") */
  tensors: [string, Float32Array][];
  optimizer: OptimizerSettings;
  milestones: readonly Milestone[];
  /** the stage's slice of the optimizer's state */
  optimizerState: OptimizerState;
  threads: number;
  timeOrigin: number;
}

export interface ForwardMessage {
  type: 'forward';
  index: number;
  micro: number;
  micros: number;
  epoch: number;
  epochs: number;
  /** this micro-batch's rows / the mini-batch's rows */
  share: number;
  s: WireTensor;
  labels: Int32Array;
}

export interface BackwardMessage {
  type: 'backward';
  index: number;
  micro: number;
  grad: WireTensor;
}

export interface BpStageState {
  tensors: [string, Float32Array][];
  optimizer: OptimizerState;
}

export interface BpDone {
  type: 'done';
  stage: number;
  index: number;
  /** last stage: the mini-batch's mean loss and correct predictions */
  loss?: number;
  correct?: number;
  /** updates made between a batch's forward and its backward, summed over this batch's micro-batches */
  staleness: number;
  intervals: TraceInterval[];
}
