// What travels between the coordinator and the stages of a pipeline, and between neighbouring
// stages. Between threads, tensor data travels as a transferred ArrayBuffer (moved, never copied);
// between processes as raw float32 frames (frames.ts). The rest is small plain data. Nothing here
// depends on the transport, so worker threads and stage processes speak the same messages.
import type { OptimizerState } from '../../optim/optimizer.js';
import type { ALNetSpec } from '../../al/decompositions.js';

/** One busy interval of a stage, in ms since the coordinator's clock origin. */
export interface TraceInterval {
  stage: number;
  batch: number;
  kind: 'step' | 'forward' | 'backward' | 'update';
  start: number;
  end: number;
}

/**
 * A busy interval from this thread's performance.now() readings, moved onto the coordinator's
 * clock (`timeOrigin` of the stage's init), so intervals of all stages share one time axis.
 */
export function traceInterval(init: { stage: number; timeOrigin: number }, batch: number, kind: TraceInterval['kind'], begin: number, end: number): TraceInterval {
  const origin = performance.timeOrigin - init.timeOrigin;
  return { stage: init.stage, batch, kind, start: origin + begin, end: origin + end };
}

/** A tensor on the wire: its data moves with the message. */
export interface WireTensor {
  data: Float32Array;
  shape: number[];
}

/** An ALNetSpec without its Rng: enough for a stage to build the same layers. */
export type ALNetBlueprint = Omit<ALNetSpec, 'rng'>;

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

/** Everything a stage needs to start: sent once, before any batch. */
export interface StageInit {
  stage: number;
  stages: number;
  blueprint: ALNetBlueprint;
  /** 0-based indices of the AL layers this stage owns, contiguous */
  layers: number[];
  /** initial state of those layers (the coordinator initialised the whole net from the seed) */
  state: LayerState[];
  /** compute threads of this stage */
  threads: number;
  /** the coordinator's performance.timeOrigin, so stage intervals share one clock */
  timeOrigin: number;
  /** fault injection for tests: throw (or end the worker) when this stage reaches this batch index */
  fault?: StageFault;
}

/** A mini-batch entering a stage: (s_{i-1}, t_{i-1}); stage 0 gets x and the labels instead of t. */
export interface BatchMessage {
  type: 'batch';
  /** running batch index over the whole run, from 0 */
  index: number;
  epoch: number;
  epochs: number;
  s: WireTensor;
  t?: WireTensor;
  labels?: Int32Array;
}

/** The ArrayBuffers a message can give away: whole buffers only (a view would detach its owner). */
export function transferables(...tensors: (WireTensor | Int32Array | undefined)[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const t of tensors) {
    if (t === undefined) continue;
    const view = t instanceof Int32Array ? t : t.data;
    const buffer = view.buffer;
    if (buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === buffer.byteLength && !out.includes(buffer)) out.push(buffer);
  }
  return out;
}

/** A tensor ready to move: shares the data when it owns its buffer whole, else a copy that does. */
export function toWire(data: Float32Array, shape: readonly number[]): WireTensor {
  const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
  return { data: whole ? data : data.slice(), shape: [...shape] };
}
