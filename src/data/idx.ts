// The IDX file format (LeCun's MNIST distribution format): a 4-byte magic number
// 0x00 0x00 <type code> <number of dimensions>, then one big-endian uint32 per dimension, then the
// items in row-major order. Files come from outside the program, so every header field is checked
// against the actual file size before anything is sized from it: a corrupt header must produce a
// DataError, never a giant allocation or an out-of-bounds view.

import { resolve } from 'node:path';
import { DataError } from './errors.js';
import { MAX_DECOMPRESSED_BYTES, gunzipBytes, isGzip, readBytes } from './files.js';

export interface IdxArray {
  dims: number[];
  /** The items, row-major. A view into the bytes given to parseIdx (no copy). */
  data: Uint8Array;
}

const UBYTE = 0x08;
const MAX_DIMS = 4;

// Named so that a file of another type gets a precise refusal rather than "unknown type".
const TYPE_NAMES: Readonly<Record<number, string>> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

const hex = (n: number, digits: number): string => '0x' + n.toString(16).padStart(digits, '0');

/** Parses an IDX file of unsigned bytes; any defect throws a DataError naming `file`. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  const size = bytes.length;
  if (size < 4) throw new DataError(file, `file too short for an IDX header: expected at least 4 bytes, got ${size}`);

  // Big-endian by definition of the format, whatever the host's byte order.
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  const magic = view.getUint32(0, false);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    // Both MNIST and Fashion-MNIST are published gzipped; a forgotten gunzip is the usual cause.
    const gz = bytes[0] === 0x1f && bytes[1] === 0x8b ? '; the file looks gzip-compressed, decompress it first' : '';
    throw new DataError(file, `bad magic number ${hex(magic, 8)}: expected 0x0000TTNN (two zero bytes, type code, dimension count)${gz}`);
  }

  const type = bytes[2]!;
  if (type !== UBYTE) {
    const name = TYPE_NAMES[type];
    const what = name === undefined ? `unknown data type ${hex(type, 2)}` : `unsupported data type ${hex(type, 2)} (${name})`;
    throw new DataError(file, `${what} in magic number ${hex(magic, 8)}: expected ${hex(UBYTE, 2)} (unsigned byte), got ${hex(type, 2)}`);
  }

  const ndims = bytes[3]!;
  if (ndims < 1 || ndims > MAX_DIMS) {
    throw new DataError(file, `bad dimension count in magic number ${hex(magic, 8)}: expected 1..${MAX_DIMS}, got ${ndims}`);
  }

  const headerSize = 4 + 4 * ndims;
  if (size < headerSize) {
    throw new DataError(file, `truncated header: expected ${headerSize} bytes for ${ndims} dimensions, got ${size}`);
  }

  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const zero = dims.indexOf(0);
  if (zero >= 0) {
    throw new DataError(file, `dimension ${zero} is zero: expected every dimension > 0, got [${dims.join(', ')}]`);
  }

  // Up to four uint32 factors can exceed 2^53, so the count is exact only in BigInt.
  const items = dims.reduce((p, d) => p * BigInt(d), 1n);
  const expected = BigInt(headerSize) + items;
  const actual = BigInt(size);
  if (actual !== expected) {
    const problem = actual < expected ? 'truncated data' : `${actual - expected} trailing bytes`;
    throw new DataError(
      file,
      `${problem}: expected ${expected} bytes (${headerSize}-byte header + ${items} items for dims [${dims.join(', ')}]), got ${size}`,
    );
  }

  return { dims, data: bytes.subarray(headerSize) };
}

const DEFAULT_HINT = 'download the dataset\'s IDX files into that folder, or point dataDir at the folder that holds them';

/**
 * Reads and parses one IDX file, gzip-compressed or not (recognised by gzip's magic bytes, since
 * a renamed file keeps its contents). `hint` says how to get the data when the file is missing;
 * dataset loaders pass one that names their source. Errors name the absolute path.
 */
export function readIdx(file: string, hint: string = DEFAULT_HINT, maxBytes: number = MAX_DECOMPRESSED_BYTES): IdxArray {
  const path = resolve(file);
  const bytes = readBytes(path, hint);
  return parseIdx(isGzip(bytes) ? gunzipBytes(bytes, path, maxBytes) : bytes, path);
}
