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

/**
 * Travels down the pipeline in order behind batch `index`: each stage, once it has trained on
 * every batch up to that one, sends the coordinator a copy of what prediction reads of its
 * layers (LayerSnapshot), passes the mark on and trains `stages - 1 - stage` more batches, then
 * holds until the coordinator's resume. So the last stage holds right after the batch while the
 * first is that many batches ahead, and no stage idles when the pipeline goes on.
 */
export interface MarkMessage {
  type: 'mark';
  index: number;
}

/** What prediction reads of an AL layer (f and h; b too on the net's last layer), by name, copied. */
export interface LayerSnapshot {
  index: number;
  tensors: [string, Float32Array][];
}

/** A free slot in the queue of the stage that sends it. */
export interface CreditMessage {
  type: 'credit';
}

/** What an AL stage reports to its coordinator. */
export type ALReport =
  | CreditMessage
  | { type: 'done'; stage: number; index: number; losses: LayerLosses[]; interval: TraceInterval; wireMs?: number }
  | { type: 'snapshot'; stage: number; index: number; layers: LayerSnapshot[] };

const INIT: Fields = { blueprint: 'object', layers: 'array', state: 'array', fault: 'object?' };
export const BATCH: ChannelSpec<BatchMessage | MarkMessage> = {
  batch: { index: 'number', epoch: 'number', epochs: 'number', s: 'tensor', t: 'tensor?', labels: 'i32?' },
  mark: { index: 'number' },
};
const CREDIT: ChannelSpec<CreditMessage> = { credit: {} };

export const AL_CHANNELS: StageChannels<BatchMessage | MarkMessage, CreditMessage> = { init: INIT, inbound: BATCH, feedback: CREDIT };

export const AL_REPORTS: ChannelSpec<ALReport> = {
  credit: {},
  done: { stage: 'number', index: 'number', losses: 'array', interval: 'object', wireMs: 'number?' },
  snapshot: { stage: 'number', index: 'number', layers: 'array' },
};
