// .npy and CSV files built byte by byte, as np.save and pandas write them, so the tests of a
// user's own data need no Python; and Gaussian blobs, data a network learns in a few steps.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/tensor/rng.js';

export interface NpyOptions {
  version?: 1 | 2 | 3;
  fortranOrder?: boolean;
  /** Replaces the whole header dict text (before padding), to test malformed headers. */
  header?: string;
}

/** A .npy file image of `data` (raw little-endian element bytes) with the given descr and shape. */
export function npyBytes(descr: string, shape: readonly number[], data: Uint8Array | ArrayBufferView, options: NpyOptions = {}): Uint8Array {
  const version = options.version ?? 1;
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = options.header ?? `{'descr': '${descr}', 'fortran_order': ${options.fortranOrder ? 'True' : 'False'}, 'shape': ${dims}, }`;
  const lengthBytes = version === 1 ? 2 : 4;
  // numpy pads the header with spaces and a newline so that the data starts at a multiple of 64
  const unpadded = 8 + lengthBytes + Buffer.byteLength(dict, version === 3 ? 'utf8' : 'latin1') + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const headerBytes = Buffer.from(header, version === 3 ? 'utf8' : 'latin1');
  const raw = data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(8 + lengthBytes + headerBytes.length + raw.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerBytes.length, true);
  else view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 8 + lengthBytes);
  out.set(raw, 8 + lengthBytes + headerBytes.length);
  return out;
}

export interface Blobs {
  x: Float32Array;
  y: Int32Array;
  n: number;
  features: number;
}

/** n samples of `classes` Gaussian blobs (unit variance) whose centres lie 3 apart on the first axes. */
export function blobs(n: number, features: number, classes: number, seed: number): Blobs {
  const rng = new Rng(seed);
  const x = new Float32Array(n * features);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng.int(classes);
    for (let f = 0; f < features; f++) x[i * features + f] = gauss(rng) + (f === y[i] ? 3 : 0);
  }
  return { x, y, n, features };
}

function gauss(rng: Rng): number {
  // Box-Muller; 1 - u keeps the logarithm finite
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

/** train_x.npy (float32), train_y.npy (int64), test_x.npy, test_y.npy in `dir`. */
export function writeNpyBlobs(dir: string, train: Blobs, test: Blobs): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, b] of [['train', train], ['test', test]] as const) {
    writeFileSync(join(dir, `${name}_x.npy`), npyBytes('<f4', [b.n, b.features], b.x));
    writeFileSync(join(dir, `${name}_y.npy`), npyBytes('<i8', [b.n], BigInt64Array.from(b.y, (v) => BigInt(v))));
  }
}

/** The CSV text of blobs: a header f0,...,label and one row per sample, float32 values printed exactly. */
export function blobsCsv(b: Blobs): string {
  const rows = [[...Array.from({ length: b.features }, (_, f) => `f${f}`), 'label'].join(',')];
  for (let i = 0; i < b.n; i++) rows.push([...b.x.subarray(i * b.features, (i + 1) * b.features), b.y[i]].join(','));
  return rows.join('\n') + '\n';
}

/** train.csv and test.csv in `dir`. */
export function writeCsvBlobs(dir: string, train: Blobs, test: Blobs): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train.csv'), blobsCsv(train));
  writeFileSync(join(dir, 'test.csv'), blobsCsv(test));
}
