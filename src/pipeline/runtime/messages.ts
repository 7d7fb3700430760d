// What travels between the coordinator and the stages of a pipeline, and between neighbouring
// stages. Between threads, tensor data travels as a transferred ArrayBuffer (moved, never copied);
// between processes as raw float32 frames (frames.ts). The rest is small plain data. Nothing here
// depends on the transport, so worker threads and stage processes speak the same messages.
//
// Each channel is one discriminated union, declared with its fields for parseMessage (parse.ts):
//   coordinator ─▶ stage      ControlMessage (init, collect, resume, stop), plus stage 0's inbound data
//   stage ─▶ coordinator      StageReport (ready, state, error), plus the method's own reports
//   stage ─▶ next stage       the method's inbound data (AL: batch; BP: forward)
//   stage ─▶ previous stage   the method's feedback (AL: credit; BP: backward)
//   peer ─▶ stage process     Hello; the process answers with a ServerReply
// The methods declare their own unions beside their stage loops (al/, bp/).
import type { ALNetSpec } from '../../al/decompositions.js';
import { MessageError, checkFields, parseMessage, type ChannelSpec, type Fields } from './parse.js';

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

/**
 * An AL net of the user's own layers, as pipeline stages build it: an ES module (a file: URL, or
 * a path, relative to the coordinator's working directory) whose export `exportName` (default
 * 'default') is a builder `(rng: Rng, options) => AssociatedNet`. Every stage imports the module
 * and builds the whole net with a throwaway Rng (the coordinator ships the initial weights), so
 * the builder must give the same shapes on every call. `options` travels to the stages: plain data.
 */
export interface ALNetModule {
  module: string;
  exportName?: string;
  options?: unknown;
}

/** What an AL stage builds its layers from: a built-in backbone's blueprint, or the user's module. */
export type ALStageNet = ALNetBlueprint | ALNetModule;

/**
 * A mini-batch entering an AL stage: (s_{i-1}, t_{i-1}) and the labels; stage 0 gets x and the
 * labels, and builds t_0 from them.
 * Here, not in al/, because frames.ts gives it a binary layout of its own.
 */
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

// ***** coordinator -> stage *****

/** What every stage's init holds, whatever its method. */
export interface StageInitBase {
  stage: number;
  stages: number;
  /** compute threads of this stage */
  threads: number;
  /** the coordinator's performance.timeOrigin, so stage intervals share one clock */
  timeOrigin: number;
}

export const STAGE_INIT_FIELDS: Fields = { stage: 'number', stages: 'number', threads: 'number', timeOrigin: 'number' };

/** A stage's start: its method's init; a stage process also learns its neighbour and queue size. */
export interface InitMessage {
  type: 'init';
  /** the stage program to run (a stage process serves several: 'al', 'bp') */
  program: string;
  init: StageInitBase;
  /** stage processes: the next stage's HOST:PORT (null on the last stage) */
  downstream?: string | null;
  /** stage processes with keys: the next stage's public key (Z85), to connect to it by */
  downstreamKey?: string | null;
  /** stage processes: batches a queue between two stages may hold */
  capacity?: number;
  connectTimeoutMs?: number;
}

export type ControlMessage =
  | InitMessage
  /** handOver: the last collect of the run; the stage may give up its live arrays instead of copying them */
  | { type: 'collect'; request: number; handOver?: boolean }
  /** the coordinator has evaluated the snapshot of mark `index`: a stage holding for it trains on */
  | { type: 'resume'; index: number }
  | { type: 'stop' };

export const CONTROL: ChannelSpec<ControlMessage> = {
  init: { program: 'string', init: 'object', downstream: 'string|null?', downstreamKey: 'string|null?', capacity: 'number?', connectTimeoutMs: 'number?' },
  collect: { request: 'number', handOver: 'boolean?' },
  resume: { index: 'number' },
  stop: {},
};

/** An init message from a coordinator, its envelope and the fields every stage's init has. */
export function parseStageInit(m: unknown): InitMessage {
  const message = parseMessage<ControlMessage>('coordinator to stage', CONTROL, m);
  if (message.type !== 'init') throw new MessageError(`coordinator to stage: expected an 'init' message first, got '${message.type}'`);
  checkFields("coordinator to stage: 'init' message's init", STAGE_INIT_FIELDS, message.init);
  return message;
}

// ***** stage -> coordinator *****

/** The messages every stage sends its coordinator, besides its method's own. */
export type StageReport =
  | { type: 'ready'; stage: number }
  | { type: 'state'; stage: number; request: number; state: unknown }
  | { type: 'error'; stage: number; name: string; message: string; stack?: string };

export const STAGE_REPORTS: ChannelSpec<StageReport> = {
  ready: { stage: 'number' },
  state: { stage: 'number', request: 'number', state: 'any' },
  error: { stage: 'number', name: 'string', message: 'string', stack: 'string?' },
};

// ***** stage processes: the handshake *****

/** The first message of a coordinator or an upstream stage to a stage process. */
export interface Hello {
  type: 'hello';
  role: 'coordinator' | 'upstream';
  token: string;
  version: number;
}

/** What a stage process says to a peer besides the stage's own messages. */
export type ServerReply =
  | { type: 'welcome' }
  | { type: 'rejected'; reason: string }
  /** the run is over: the stage has stopped */
  | { type: 'stopped' }
  /** a probe whether the coordinator's connection is still there */
  | { type: 'ping' };

export const SERVER_REPLIES: ChannelSpec<ServerReply> = { welcome: {}, rejected: { reason: 'string' }, stopped: {}, ping: {} };

export function parseHello(m: unknown): Hello {
  const hello = parseMessage<Hello>('hello to a stage process', { hello: { role: 'string', token: 'string', version: 'number' } }, m);
  if (hello.role !== 'coordinator' && hello.role !== 'upstream') {
    throw new MessageError(`hello to a stage process: expected 'coordinator' or 'upstream' for role, got '${String(hello.role).slice(0, 40)}'`);
  }
  return hello;
}
