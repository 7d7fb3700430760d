// Messages of the pipelined BP methods (GPipe and naive): activations travel downstream, and,
// unlike AL, gradients travel back upstream. Tensor data moves as transferred buffers.
import type { ModelName } from '../../models/index.js';
import type { OptimizerSettings } from '../../optim/factory.js';
import type { OptimizerState } from '../../optim/optimizer.js';
import type { Milestone } from '../../optim/schedule.js';
import type { BpPipelineMethod } from './bp_stage.js';
import type { StageInitBase, TraceInterval, WireTensor } from '../runtime/messages.js';
import type { ChannelSpec } from '../runtime/parse.js';
import type { StageChannels } from '../runtime/stage_runtime.js';

export interface BpStageInit extends StageInitBase {
  method: BpPipelineMethod;
  model: ModelName;
  inputShape: [number, number, number];
  classes: number;
  /** MLP: the hidden widths the coordinator's network was built with (undefined: the paper's) */
  hidden?: number[] | undefined;
  /** indices of the backbone's top-level modules this stage holds, contiguous */
  modules: number[];
  /** their tensors by name ("<module>.<name>") */
  tensors: [string, Float32Array][];
  optimizer: OptimizerSettings;
  milestones: readonly Milestone[];
  /** the stage's slice of the optimizer's state */
  optimizerState: OptimizerState;
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
  /** stage processes: ms in the transport since the previous report */
  wireMs?: number;
}

export const BP_CHANNELS: StageChannels<ForwardMessage, BackwardMessage> = {
  init: {
    method: 'string', model: 'string', inputShape: 'array', classes: 'number', modules: 'array', tensors: 'array',
    optimizer: 'object', milestones: 'array', optimizerState: 'object',
  },
  inbound: {
    forward: { index: 'number', micro: 'number', micros: 'number', epoch: 'number', epochs: 'number', share: 'number', s: 'tensor', labels: 'i32' },
  },
  feedback: { backward: { index: 'number', micro: 'number', grad: 'tensor' } },
};

export const BP_REPORTS: ChannelSpec<BpDone> = {
  done: { stage: 'number', index: 'number', staleness: 'number', intervals: 'array', loss: 'number?', correct: 'number?', wireMs: 'number?' },
};
