// Pipeline messages as ZeroMQ frames, for stages in other processes. A batch is a typed binary
// header (magic, version, kind, batch index, epoch, shapes) followed by raw little-endian float32
// frames for s and t and an int32 frame for the labels: tensors never pass through JSON. Every
// other message (init, state, reports, credits) is a small JSON frame in which each typed array is
// replaced by {"$f32": i, "n": length} (or "$i32"), naming a raw frame after it, and each NaN or
// infinity by {"$num": "NaN"}. Decoding checks every
// length against the header and throws a FrameError naming what is wrong, so a truncated or
// random frame is a clean error, never a crash or a wrong tensor.
//
// Between processes a message travels as pieces (toWire / fromWire): a layout frame listing the
// byte length of each frame, then every frame cut into pieces of at most MAX_PIECE bytes. So every
// ZeroMQ frame of every socket is small, and each socket refuses a larger one (ZMQ_MAXMSGSIZE,
// socketOptions in zmq_transport.ts) before it allocates anything for it, whatever the model: a
// peer that is still in its CURVE handshake cannot make a stage set aside more than that. The
// layout is checked against the receiver's limits (frames, bytes) before anything is joined or decoded.
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
export const WIRE_VERSION = 3;
const KIND_JSON = 1;
const KIND_BATCH = 2;
const KIND_LAYOUT = 3;
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

// ***** pieces on the wire *****

/** The largest ZeroMQ frame a message is cut into. */
export const MAX_PIECE = 1 << 20;
/** What a socket accepts per frame: a piece, plus CURVE's box and ZeroMQ's command header. */
export const MAX_WIRE_FRAME = MAX_PIECE + 4096;

/** How much of one message a receiver takes: logical frames and their bytes in all. */
export interface WireLimits {
  frames: number;
  bytes: number;
}

/** A hello or a reply to one, from a peer that is not in a run: two small frames. */
export const HELLO_LIMITS: WireLimits = { frames: 4, bytes: 64 * 1024 };

/** A peer of the run: a stage's whole state in one message (an init, a 'state' report) at most. */
export const RUN_LIMITS: WireLimits = { frames: 1 << 16, bytes: 2 ** 32 - 1 };

/** Cuts a message's frames into pieces of at most MAX_PIECE bytes, behind a layout frame (views, no copy). */
export function toWire(frames: readonly Uint8Array[]): Uint8Array[] {
  const layout = Buffer.alloc(12 + 4 * frames.length);
  layout.writeUInt32LE(MAGIC, 0);
  layout.writeUInt8(WIRE_VERSION, 4);
  layout.writeUInt8(KIND_LAYOUT, 5);
  layout.writeUInt32LE(frames.length, 8);
  const pieces: Uint8Array[] = [layout];
  frames.forEach((frame, i) => {
    if (frame.byteLength > 0xffffffff) throw new FrameError(`frame ${i} of ${frame.byteLength} bytes: at most 4 GiB per frame`);
    layout.writeUInt32LE(frame.byteLength, 12 + 4 * i);
    for (let at = 0; at < frame.byteLength; at += MAX_PIECE) pieces.push(frame.subarray(at, Math.min(at + MAX_PIECE, frame.byteLength)));
  });
  return pieces;
}

/** The version of a frame that opens like every version's first frame, else null. */
function versionOf(head: Uint8Array | undefined): number | null {
  if (!head || head.byteLength < 8) return null;
  const view = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  return view.readUInt32LE(0) === MAGIC ? view.readUInt8(4) : null;
}

/**
 * The frames of a message as toWire sent them, checked against `limits` from its layout frame
 * alone (counts and sizes) before anything is joined or copied. A frame of one piece is that
 * piece itself; a longer one is joined into a buffer of its own.
 */
export function fromWire(wire: readonly Uint8Array[], limits: WireLimits): Uint8Array[] {
  const head = wire[0];
  const version = versionOf(head);
  if (version === null) throw new FrameError('not a pipeline message (bad magic number)');
  if (version !== WIRE_VERSION) throw new WireVersionError(version);
  const view = Buffer.from(head!.buffer, head!.byteOffset, head!.byteLength);
  if (view.readUInt8(5) !== KIND_LAYOUT || view.byteLength < 12) throw new FrameError('a message without its layout frame');
  const count = view.readUInt32LE(8);
  if (count > limits.frames) throw new FrameError(`a message of ${count} frames, at most ${limits.frames} accepted here`);
  if (view.byteLength !== 12 + 4 * count) throw new FrameError(`layout frame of ${view.byteLength} bytes for ${count} frames`);
  const sizes = Array.from({ length: count }, (_, i) => view.readUInt32LE(12 + 4 * i));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total > limits.bytes) throw new FrameError(`a message of ${total} bytes, at most ${limits.bytes} accepted here`);
  const pieces = sizes.reduce((n, size) => n + Math.ceil(size / MAX_PIECE), 0);
  if (wire.length !== 1 + pieces) throw new FrameError(`a message of ${wire.length - 1} pieces, its layout gives ${pieces}`);
  let at = 1;
  return sizes.map((size, i) => {
    const parts = wire.slice(at, at + Math.ceil(size / MAX_PIECE));
    at += parts.length;
    parts.forEach((part, j) => {
      const expected = Math.min(MAX_PIECE, size - j * MAX_PIECE);
      if (part.byteLength !== expected) throw new FrameError(`frame ${i}, piece ${j}: ${part.byteLength} bytes, expected ${expected}`);
    });
    return parts.length === 1 ? parts[0]! : parts.length === 0 ? new Uint8Array(0) : Buffer.concat(parts, size);
  });
}

/** A message as it goes onto a socket. */
export function encodeWire<M extends { type: string }>(message: M): Uint8Array[] {
  return toWire(encode(message));
}

/** A message as it comes off a socket, within `limits`. */
export function decodeWire(wire: readonly Uint8Array[], limits: WireLimits): { type: string } {
  return decode(fromWire(wire, limits));
}
