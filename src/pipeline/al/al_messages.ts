// The messages of pipelined AL beside those every stage speaks (runtime/messages.ts): batches
// travel downstream, credits (no data: AL needs no backward messages) upstream, and each stage
// reports every batch it finished to the coordinator.
import type { LayerLosses } from '../../al/al_layer.js';
import type { OptimizerState } from '../../optim/optimizer.js';
import type { ALStageNet, BatchMessage, StageInitBase, TraceInterval } from '../runtime/messages.js';
import type { ChannelSpec, Fields } from '../runtime/parse.js';
import type { StageChannels } from '../runtime/stage_runtime.js';

/** The state of one AL layer: parameters and buffers by name, and both optimizers. */
export interface LayerState {
  index: number;
  tensors: [string, Float32Array][];
  optimizers: { forward: OptimizerState; target: OptimizerState };
}

export interface StageFault {
  batch: number;
  kind: 'throw' | 'exit';
}

/** Everything an AL stage needs to start: sent once, before any batch. */
export interface ALStageInit extends StageInitBase {
  /** what the stage builds its layers from */
  blueprint: ALStageNet;
  /** 0-based indices of the AL layers this stage owns, contiguous */
  layers: number[];
  /** initial state of those layers (the coordinator initialised the whole net from the seed) */
  state: LayerState[];
  /** fault injection for tests: throw (or end the worker) when this stage reaches this batch index */
  fault?: StageFault;
}

/** A free slot in the queue of the stage that sends it. */
export interface CreditMessage {
  type: 'credit';
}

/** What an AL stage reports to its coordinator. */
export type ALReport =
  | CreditMessage
  | { type: 'done'; stage: number; index: number; losses: LayerLosses[]; interval: TraceInterval; wireMs?: number };

const INIT: Fields = { blueprint: 'object', layers: 'array', state: 'array', fault: 'object?' };
export const BATCH: ChannelSpec<BatchMessage> = { batch: { index: 'number', epoch: 'number', epochs: 'number', s: 'tensor', t: 'tensor?', labels: 'i32?' } };
const CREDIT: ChannelSpec<CreditMessage> = { credit: {} };

export const AL_CHANNELS: StageChannels<BatchMessage, CreditMessage> = { init: INIT, inbound: BATCH, feedback: CREDIT };

export const AL_REPORTS: ChannelSpec<ALReport> = {
  credit: {},
  done: { stage: 'number', index: 'number', losses: 'array', interval: 'object', wireMs: 'number?' },
};
