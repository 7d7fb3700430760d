// Checkpoints in the safetensors layout (https://huggingface.co/docs/safetensors), so PyTorch's
// loader can read them: an 8-byte little-endian header length, a JSON header mapping each name
// to {dtype, shape, data_offsets}, then the raw little-endian float32 data. Parameters keep their
// dotted names ("0.weight", "layers.1.f.0.weight"); batch-norm buffers end in runningMean /
// runningVar; optimizer moments are stored as "optim.<group>.<buffer>.<index>". Scalars (epoch,
// optimizer step and rates, RNG state) go to checkpoint.json. Both are written atomically.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './run_dir.js';

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

const MAX_HEADER = 100 * 1024 * 1024;

export function encodeSafetensors(arrays: NamedArray[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const a of arrays) {
    const bytes = a.data.length * 4;
    header[a.name] = { dtype: 'F32', shape: a.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // keeps the data 8-byte aligned
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.allocUnsafe(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const a of arrays) {
    Buffer.from(a.data.buffer, a.data.byteOffset, a.data.length * 4).copy(out, at);
    at += a.data.length * 4;
  }
  return out;
}

/** Parses and checks a safetensors file's bytes; every problem names the file. */
export function decodeSafetensors(bytes: Uint8Array, file: string): Map<string, NamedArray> {
  const fail = (what: string): never => {
    throw new CheckpointError(`${file}: ${what}`);
  };
  if (bytes.length < 8) fail(`expected at least 8 bytes, got ${bytes.length}`);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const headerLength = Number(view.readBigUInt64LE(0));
  if (headerLength > MAX_HEADER || 8 + headerLength > bytes.length) fail(`header length ${headerLength} does not fit a file of ${bytes.length} bytes`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(view.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    return fail(`corrupt header: ${(error as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('corrupt header: not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const out = new Map<string, NamedArray>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e?.dtype !== 'F32') fail(`tensor '${name}': expected dtype F32, got ${JSON.stringify(e?.dtype)}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(`tensor '${name}': bad shape ${JSON.stringify(shape)}`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) fail(`tensor '${name}': bad data_offsets ${JSON.stringify(offsets)}`);
    const [begin, end] = offsets as [number, number];
    const size = (shape as number[]).reduce((p, d) => p * d, 1);
    if (end < begin || end > dataLength || end - begin !== size * 4 || begin % 4 !== 0) {
      fail(`tensor '${name}': data_offsets [${begin}, ${end}] do not hold shape [${(shape as number[]).join(', ')}] in ${dataLength} data bytes`);
    }
    // Copy out: the file's bytes need not be 4-byte aligned in memory.
    const data = new Float32Array(size);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    out.set(name, { name, shape: shape as number[], data });
  }
  return out;
}

export function writeSafetensors(path: string, arrays: NamedArray[], metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(arrays, metadata));
}

export function readSafetensors(path: string): Map<string, NamedArray> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new CheckpointError(`${path}: cannot read the checkpoint (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return decodeSafetensors(bytes, path);
}

/** Copies stored arrays into live tensors by name; a missing name or another shape is an error. */
export function loadInto(stored: Map<string, NamedArray>, targets: [string, Float32Array, readonly number[]][], file: string): void {
  for (const [name, data, shape] of targets) {
    const s = stored.get(name);
    if (!s) throw new CheckpointError(`${file}: has no tensor '${name}' (a checkpoint of another model?)`);
    if (s.data.length !== data.length || s.shape.join(',') !== shape.join(',')) {
      throw new CheckpointError(`${file}: tensor '${name}' has shape [${s.shape.join(', ')}], the model needs [${shape.join(', ')}]`);
    }
    data.set(s.data);
  }
}
