// Checkpoints in the safetensors layout (https://huggingface.co/docs/safetensors), so PyTorch's
// loader (safetensors.torch.load_file) can read them: an 8-byte little-endian header length, a
// JSON header mapping each name to {dtype, shape, data_offsets} (plus "__metadata__", strings
// only), then the raw little-endian float32 data, tensors back to back in header order.
//
// Tensor names in checkpoint.safetensors (see also docs/cli.md, "Run directory"):
//   <parameter>             learned parameters by dotted name: "0.weight", "3.bias" (BP
//                           Sequential index), "layers.1.f.0.weight" (AL layer 1, part f/b/g/h)
//   <layer>.runningMean     batch-norm running statistics (buffers), e.g. "1.runningVar"
//   <layer>.runningVar
//   optim.<parameter>.m     Adam's first and second moments of that parameter
//   optim.<parameter>.v
//   optim.<parameter>.momentum   SGD's momentum buffer (absent without momentum)
// Scalars (finished epochs, optimizer step counts and rates, RNG states, the configuration) go
// to checkpoint.json; see checkpoint_files.ts for how the two are kept consistent.
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

/** The reference implementation's limit on the header size. */
const MAX_HEADER = 100_000_000;

/** A safetensors file's bytes, in one buffer. */
export function encodeSafetensors(arrays: NamedArray[], metadata: Record<string, string> = {}): Uint8Array {
  return Buffer.concat(safetensorsChunks(arrays, metadata));
}

/**
 * The bytes of a safetensors file as chunks: the header, then each tensor's elements as a view of
 * its own array, so that writing a checkpoint copies no weights (a copy would double the memory of
 * the model at every save).
 */
export function safetensorsChunks(arrays: NamedArray[], metadata: Record<string, string> = {}): Uint8Array[] {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const a of arrays) {
    // A JSON object keeps only the last of two equal keys: a duplicate would silently lose data.
    if (Object.hasOwn(header, a.name)) throw new CheckpointError(`safetensors: tensor name '${a.name}' appears twice`);
    const size = a.shape.reduce((p, d) => p * d, 1);
    if (size !== a.data.length) throw new CheckpointError(`safetensors: tensor '${a.name}' has ${a.data.length} values, shape [${a.shape.join(', ')}] needs ${size}`);
    const bytes = a.data.length * 4;
    header[a.name] = { dtype: 'F32', shape: a.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  // Trailing spaces (allowed by the format) keep the data 8-byte aligned.
  const head = Buffer.alloc(8 + json.length + ((8 - (json.length % 8)) % 8), 0x20);
  head.writeBigUInt64LE(BigInt(head.length - 8), 0);
  json.copy(head, 8);
  return [head, ...arrays.map((a) => new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.length * 4))];
}

interface Entry {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

/** Checks one header entry; `fail` throws. */
function checkEntry(name: string, entry: unknown, fail: (what: string) => never): Entry {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return fail(`tensor '${name}': expected an object {dtype, shape, data_offsets}, got ${JSON.stringify(entry)}`);
  const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (e.dtype !== 'F32') fail(`tensor '${name}': expected dtype F32, got ${JSON.stringify(e.dtype)}`);
  const shape = e.shape;
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(`tensor '${name}': bad shape ${JSON.stringify(shape)}`);
  const offsets = e.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) fail(`tensor '${name}': bad data_offsets ${JSON.stringify(offsets)}`);
  const [begin, end] = offsets as [number, number];
  const dims = shape as number[];
  const size = dims.reduce((p, d) => p * d, 1);
  if (end < begin || end - begin !== size * 4) {
    fail(`tensor '${name}': data_offsets [${begin}, ${end}] span ${end - begin} bytes, shape [${dims.join(', ')}] needs ${size} x 4`);
  }
  return { name, shape: dims, begin, end };
}

/** Parses and checks a safetensors file's bytes; every problem names the file. */
export function decodeSafetensors(bytes: Uint8Array, file: string): Map<string, NamedArray> {
  const fail = (what: string): never => {
    throw new CheckpointError(`${file}: ${what}`);
  };
  if (bytes.length < 8) fail(`expected at least 8 bytes, got ${bytes.length}`);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const declared = view.readBigUInt64LE(0);
  if (declared > BigInt(MAX_HEADER) || 8n + declared > BigInt(bytes.length)) fail(`header length ${declared} does not fit a file of ${bytes.length} bytes`);
  const headerLength = Number(declared);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(view.subarray(8, 8 + headerLength)));
  } catch (error) {
    return fail(`corrupt header: ${(error as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('corrupt header: not a JSON object');
  const metadata = (header as Record<string, unknown>)['__metadata__'];
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Object.values(metadata).some((v) => typeof v !== 'string'))) {
    fail(`corrupt header: __metadata__ must map names to strings, got ${JSON.stringify(metadata)}`);
  }
  const entries = Object.entries(header).filter(([name]) => name !== '__metadata__').map(([name, e]) => checkEntry(name, e, fail));
  // The format asks for the tensors to cover the data region exactly, without gaps or overlaps;
  // anything else is a truncated, padded or corrupted file.
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  let covered = 0;
  for (const e of [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end)) {
    if (e.begin !== covered) fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] leave a gap or overlap at byte ${covered} of the data`);
    covered = e.end;
  }
  if (covered !== dataLength) fail(`the tensors cover ${covered} data bytes, the file holds ${dataLength} after the header (truncated or padded?)`);
  const out = new Map<string, NamedArray>();
  for (const { name, shape, begin, end } of entries) {
    // Copy out: the file's bytes need not be 4-byte aligned in memory.
    const data = new Float32Array((end - begin) / 4);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    out.set(name, { name, shape, data });
  }
  return out;
}

/** A standalone safetensors file, written atomically. */
export function writeSafetensors(path: string, arrays: NamedArray[], metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, safetensorsChunks(arrays, metadata));
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
