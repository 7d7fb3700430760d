// Pipeline messages as ZeroMQ frames, for stages in other processes. A batch is a typed binary
// header (magic, version, kind, batch index, epoch, shapes) followed by raw little-endian float32
// frames for s and t and an int32 frame for the labels: tensors never pass through JSON. Every
// other message (init, state, reports, credits) is a small JSON frame in which each typed array is
// replaced by {"$f32": i, "n": length} (or "$i32"), naming a raw frame after it, and each NaN or
// infinity by {"$num": "NaN"}. Decoding checks every
// length against the header and throws a FrameError naming what is wrong, so a truncated or
// random frame is a clean error, never a crash or a wrong tensor.
import { endianness } from 'node:os';
import type { BatchMessage } from './messages.js';

export class FrameError extends Error {
  override name = 'FrameError';
}

/** A message of another wire version: the peer runs another version of al. */
export class WireVersionError extends FrameError {
  override name = 'WireVersionError';
  constructor(readonly version: number) {
    super(`wire version ${version}, this side speaks version ${WIRE_VERSION}`);
  }
}

// Every version keeps the magic number in bytes 0-3 and the version in byte 4 of a message's first
// frame, so that peers of different versions can tell each other so instead of failing obscurely.
const MAGIC = 0x53504c41; // "ALPS" read little-endian
export const WIRE_VERSION = 1;
const KIND_JSON = 1;
const KIND_BATCH = 2;
const MAX_RANK = 8;

if (endianness() !== 'LE') throw new Error('pipeline frames: stages in processes need a little-endian machine');

/** Views a frame as `count` elements of a typed array, copying it when it is not aligned. */
function typed<T extends Float32Array | Int32Array>(frame: Uint8Array, make: new (b: ArrayBuffer, o: number, n: number) => T, what: string): T {
  if (frame.byteLength % 4 !== 0) throw new FrameError(`${what}: ${frame.byteLength} bytes is not a whole number of 4-byte elements`);
  // always a fresh buffer: the stage keeps the tensor, ZeroMQ may reuse or free its own
  const copy = new Uint8Array(frame.byteLength);
  copy.set(frame);
  return new make(copy.buffer, 0, frame.byteLength / 4);
}

function bytes(view: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

export function encodeBatch(m: BatchMessage): Uint8Array[] {
  const t = m.t;
  const header = Buffer.alloc(28 + 4 * (m.s.shape.length + (t?.shape.length ?? 0)));
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt8(WIRE_VERSION, 4);
  header.writeUInt8(KIND_BATCH, 5);
  header.writeUInt8(m.s.shape.length, 6);
  header.writeUInt8(t?.shape.length ?? 0, 7);
  header.writeUInt32LE(m.index, 8);
  header.writeUInt32LE(m.epoch, 12);
  header.writeUInt32LE(m.epochs, 16);
  header.writeUInt8(t ? 1 : 0, 20);
  header.writeUInt8(m.labels ? 1 : 0, 21);
  let at = 28;
  for (const d of [...m.s.shape, ...(t?.shape ?? [])]) {
    header.writeUInt32LE(d, at);
    at += 4;
  }
  return [header, bytes(m.s.data), ...(t ? [bytes(t.data)] : []), ...(m.labels ? [bytes(m.labels)] : [])];
}

export function encodeJson(message: object): Uint8Array[] {
  const raw: Uint8Array[] = [];
  const json = JSON.stringify(message, (_key, value: unknown) => {
    if (value instanceof Float32Array) return { $f32: raw.push(bytes(value)) - 1, n: value.length };
    if (value instanceof Int32Array) return { $i32: raw.push(bytes(value)) - 1, n: value.length };
    // JSON has no NaN or infinities (it writes null): a diverged loss must arrive as it left
    if (typeof value === 'number' && !Number.isFinite(value)) return { $num: String(value) };
    return value;
  });
  const header = Buffer.alloc(8);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt8(WIRE_VERSION, 4);
  header.writeUInt8(KIND_JSON, 5);
  return [header, Buffer.from(json, 'utf8'), ...raw];
}

/** Encodes any pipeline message: batches get the binary layout, the rest JSON with raw arrays. */
export function encode<M extends { type: string }>(message: M): Uint8Array[] {
  return message.type === 'batch' ? encodeBatch(message as unknown as BatchMessage) : encodeJson(message);
}

export function decode(frames: readonly Uint8Array[]): { type: string } {
  const head = frames[0];
  if (!head || head.byteLength < 8) throw new FrameError(`header of ${head?.byteLength ?? 0} bytes, expected at least 8`);
  const view = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (view.readUInt32LE(0) !== MAGIC) throw new FrameError('not a pipeline message (bad magic number)');
  const version = view.readUInt8(4);
  if (version !== WIRE_VERSION) throw new WireVersionError(version);
  const kind = view.readUInt8(5);
  if (kind === KIND_JSON) return decodeJson(frames);
  if (kind === KIND_BATCH) return decodeBatch(view, frames);
  throw new FrameError(`unknown message kind ${kind}`);
}

function decodeJson(frames: readonly Uint8Array[]): { type: string } {
  if (frames.length < 2) throw new FrameError('JSON message without its body frame');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(frames[1]!).toString('utf8'), (_key, value: unknown) => {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const ref = value as { $f32?: unknown; $i32?: unknown; n?: unknown; $num?: unknown };
        if (ref.$num === 'NaN' || ref.$num === 'Infinity' || ref.$num === '-Infinity') return Number(ref.$num);
        const index = ref.$f32 ?? ref.$i32;
        if (index !== undefined) {
          const frame = typeof index === 'number' ? frames[2 + index] : undefined;
          if (!frame) throw new FrameError(`array frame ${String(index)} is missing (${frames.length - 2} sent)`);
          if (frame.byteLength !== 4 * Number(ref.n)) throw new FrameError(`array frame ${index} of ${frame.byteLength} bytes, expected ${String(ref.n)} elements`);
          return ref.$f32 !== undefined ? typed(frame, Float32Array, 'float32 frame') : typed(frame, Int32Array, 'int32 frame');
        }
      }
      return value;
    });
  } catch (error) {
    if (error instanceof FrameError) throw error;
    throw new FrameError(`JSON body: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || typeof (parsed as { type?: unknown }).type !== 'string') {
    throw new FrameError('JSON body is not a message with a type');
  }
  return parsed as { type: string };
}

function decodeBatch(view: Buffer, frames: readonly Uint8Array[]): BatchMessage {
  if (view.byteLength < 28) throw new FrameError(`batch header of ${view.byteLength} bytes, expected at least 28`);
  const rankS = view.readUInt8(6), rankT = view.readUInt8(7);
  const hasT = view.readUInt8(20), hasLabels = view.readUInt8(21);
  if (rankS < 1 || rankS > MAX_RANK || rankT > MAX_RANK || hasT > 1 || hasLabels > 1 || (hasT === 1) !== (rankT > 0)) {
    throw new FrameError(`batch header: bad ranks or flags (s rank ${rankS}, t rank ${rankT}, t ${hasT}, labels ${hasLabels})`);
  }
  if (view.byteLength !== 28 + 4 * (rankS + rankT)) throw new FrameError(`batch header of ${view.byteLength} bytes, expected ${28 + 4 * (rankS + rankT)} for its ranks`);
  const dims = Array.from({ length: rankS + rankT }, (_, i) => view.readUInt32LE(28 + 4 * i));
  const sShape = dims.slice(0, rankS), tShape = dims.slice(rankS);
  const expected = 2 + hasT + hasLabels;
  if (frames.length !== expected) throw new FrameError(`batch of ${frames.length} frames, expected ${expected}`);
  const tensor = (frame: Uint8Array, shape: number[], what: string): Float32Array => {
    const size = shape.reduce((a, b) => a * b, 1);
    if (frame.byteLength !== 4 * size) throw new FrameError(`${what} frame of ${frame.byteLength} bytes, expected ${4 * size} for shape [${shape.join(', ')}]`);
    return typed(frame, Float32Array, what);
  };
  const message: BatchMessage = {
    type: 'batch', index: view.readUInt32LE(8), epoch: view.readUInt32LE(12), epochs: view.readUInt32LE(16),
    s: { data: tensor(frames[1]!, sShape, 's'), shape: sShape },
  };
  if (hasT) message.t = { data: tensor(frames[2]!, tShape, 't'), shape: tShape };
  if (hasLabels) {
    const labels = typed(frames[2 + hasT]!, Int32Array, 'labels');
    if (labels.length !== sShape[0]) throw new FrameError(`${labels.length} labels for a batch of ${sShape[0]}`);
    message.labels = labels;
  }
  return message;
}
