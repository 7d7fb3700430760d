// checkpoint.safetensors + checkpoint.json as one consistent pair. checkpoint.json is the commit
// record: it names the SHA-256 and size of the tensors file it belongs to and is written last.
// Saving goes
//   1. new tensors -> checkpoint.safetensors.tmp-<pid> (flushed)
//   2. checkpoint.safetensors -> checkpoint.prev.safetensors   (the committed tensors, kept)
//   3. the temporary file -> checkpoint.safetensors
//   4. checkpoint.json, atomically: the commit
//   5. checkpoint.prev.safetensors removed
// A stop or failure at any point leaves checkpoint.json naming a tensors file that still exists
// whole (before 4: the previous one, as checkpoint.prev.safetensors from 2 on; after: the new
// one), and the reader picks the file whose hash checkpoint.json names. A good checkpoint is
// never replaced by a failed write.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, decodeSafetensors, type NamedArray } from './checkpoint.js';
import { temporaryPath, writeFileAtomic, writeFileDurable } from './run_dir.js';

export const TENSORS_FILE = 'checkpoint.safetensors';
export const PREVIOUS_TENSORS_FILE = 'checkpoint.prev.safetensors';
export const INFO_FILE = 'checkpoint.json';
const FORMAT = 'associated-learning checkpoint';

export interface OptimizerRecord {
  /** class name: Adam, SGD */
  type: string;
  step: number;
  lr: number;
  /** kinds of per-parameter buffers, stored as optim.<parameter>.<kind> */
  buffers: string[];
  /** the names of the parameters it updates, in its order */
  parameters: string[];
}

/** The contents of checkpoint.json. */
export interface CheckpointInfo {
  format: typeof FORMAT;
  version: 1;
  /** finished epochs; a resumed run starts with epoch `epoch + 1` (1-based) */
  epoch: number;
  tensors: { file: typeof TENSORS_FILE; bytes: number; sha256: string };
  /** each random stream's Rng.getState() at the end of the epoch, NaN written as null */
  rng: Record<string, (number | null)[]>;
  optimizers: OptimizerRecord[];
  /** the run's settings that must not change on resume */
  config: Record<string, unknown>;
}

export type CheckpointContents = Omit<CheckpointInfo, 'format' | 'version' | 'tensors'>;

function sha256(chunks: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const bytes of chunks) hash.update(bytes);
  return hash.digest('hex');
}

/** Writes a checkpoint pair into `dir` by the protocol above. */
export function writeCheckpointPair(dir: string, tensorBytes: Uint8Array | readonly Uint8Array[], contents: CheckpointContents): void {
  const chunks = tensorBytes instanceof Uint8Array ? [tensorBytes] : tensorBytes;
  const tensors = join(dir, TENSORS_FILE), previous = join(dir, PREVIOUS_TENSORS_FILE);
  const info: CheckpointInfo = {
    format: FORMAT, version: 1, epoch: contents.epoch,
    tensors: { file: TENSORS_FILE, bytes: chunks.reduce((n, c) => n + c.length, 0), sha256: sha256(chunks) },
    rng: contents.rng, optimizers: contents.optimizers, config: contents.config,
  };
  const next = temporaryPath(tensors);
  writeFileDurable(next, chunks);
  try {
    if (existsSync(tensors)) renameSync(tensors, previous);
    renameSync(next, tensors);
  } catch (error) {
    rmSync(next, { force: true });
    throw error;
  }
  writeFileAtomic(join(dir, INFO_FILE), JSON.stringify(info, null, 1) + '\n');
  rmSync(previous, { force: true });
}

// ***** reading and checking checkpoint.json *****

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isUint32 = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;

function checkRng(rng: unknown, fail: (what: string) => never): void {
  if (!isObject(rng)) fail(`rng: expected an object of random streams, got ${JSON.stringify(rng)}`);
  for (const [name, state] of Object.entries(rng as Record<string, unknown>)) {
    const ok = Array.isArray(state) && state.length === 5 && state.slice(0, 4).every(isUint32) && (state[4] === null || typeof state[4] === 'number');
    if (!ok) fail(`rng.${name}: expected four 32-bit words and a number or null, got ${JSON.stringify(state)}`);
  }
}

function checkOptimizer(o: unknown, i: number, fail: (what: string) => never): void {
  if (!isObject(o)) return fail(`optimizers[${i}]: expected an object, got ${JSON.stringify(o)}`);
  if (typeof o['type'] !== 'string') fail(`optimizers[${i}].type: expected a string, got ${JSON.stringify(o['type'])}`);
  if (!isCount(o['step'])) fail(`optimizers[${i}].step: expected a count, got ${JSON.stringify(o['step'])}`);
  if (typeof o['lr'] !== 'number' || !(o['lr'] >= 0)) fail(`optimizers[${i}].lr: expected a number >= 0, got ${JSON.stringify(o['lr'])}`);
  if (!isStrings(o['buffers'])) fail(`optimizers[${i}].buffers: expected a list of names, got ${JSON.stringify(o['buffers'])}`);
  if (!isStrings(o['parameters'])) fail(`optimizers[${i}].parameters: expected a list of names, got ${JSON.stringify(o['parameters'])}`);
}

/** Parses checkpoint.json's text; every problem names `file` and the field. */
export function parseCheckpointInfo(text: string, file: string): CheckpointInfo {
  const fail = (what: string): never => {
    throw new CheckpointError(`${file}: ${what}`);
  };
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch (error) {
    return fail(`corrupt JSON (${(error as Error).message})`);
  }
  if (!isObject(info)) return fail('expected a JSON object');
  if (info['format'] !== FORMAT || info['version'] !== 1) fail(`expected format "${FORMAT}" version 1, got ${JSON.stringify(info['format'])} version ${JSON.stringify(info['version'])}`);
  if (!isCount(info['epoch'])) fail(`epoch: expected a count, got ${JSON.stringify(info['epoch'])}`);
  const t = info['tensors'];
  if (!isObject(t) || t['file'] !== TENSORS_FILE || !isCount(t['bytes']) || typeof t['sha256'] !== 'string' || !/^[0-9a-f]{64}$/.test(t['sha256'])) {
    fail(`tensors: expected {file: "${TENSORS_FILE}", bytes, sha256}, got ${JSON.stringify(t)}`);
  }
  checkRng(info['rng'], fail);
  if (!Array.isArray(info['optimizers'])) fail(`optimizers: expected a list, got ${JSON.stringify(info['optimizers'])}`);
  (info['optimizers'] as unknown[]).forEach((o, i) => checkOptimizer(o, i, fail));
  if (!isObject(info['config'])) fail(`config: expected an object, got ${JSON.stringify(info['config'])}`);
  return info as unknown as CheckpointInfo;
}

export function readCheckpointInfo(dir: string): CheckpointInfo {
  const file = join(dir, INFO_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new CheckpointError(`${file}: cannot read the checkpoint (${code})${code === 'ENOENT' ? ': no epoch of this run has finished yet' : ''}`);
  }
  return parseCheckpointInfo(text, file);
}

/**
 * The tensors checkpoint.json was committed with: checkpoint.safetensors, or after a save that
 * stopped halfway, checkpoint.prev.safetensors (`previous` is then true).
 */
export function readCheckpointTensors(dir: string, info: CheckpointInfo): { arrays: Map<string, NamedArray>; file: string; previous: boolean } {
  const seen: string[] = [];
  for (const [name, previous] of [[TENSORS_FILE, false], [PREVIOUS_TENSORS_FILE, true]] as const) {
    const file = join(dir, name);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      seen.push(`${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      continue;
    }
    if (bytes.length === info.tensors.bytes && sha256([bytes]) === info.tensors.sha256) {
      return { arrays: decodeSafetensors(bytes, file), file, previous };
    }
    seen.push(`${file}: ${bytes.length} bytes, another SHA-256`);
  }
  if (seen.every((s) => s.endsWith('ENOENT'))) throw new CheckpointError(`${join(dir, TENSORS_FILE)}: cannot read the checkpoint (ENOENT)`);
  throw new CheckpointError(`${join(dir, TENSORS_FILE)}: is not the tensors file ${join(dir, INFO_FILE)} was written with ` +
    `(${info.tensors.bytes} bytes, SHA-256 ${info.tensors.sha256.slice(0, 12)}…); found ${seen.join('; ')}`);
}

/** After readCheckpointTensors fell back to the previous file: put it back in its place. */
export function restorePreviousTensors(dir: string): void {
  renameSync(join(dir, PREVIOUS_TENSORS_FILE), join(dir, TENSORS_FILE));
}
