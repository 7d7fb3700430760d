// NumPy's .npy format (numpy.lib.format): the magic string \x93NUMPY, a major and minor version
// byte, the header length (uint16 little-endian in version 1, uint32 in versions 2 and 3), then the
// header, a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }, then
// the array's bytes. The file comes from outside the program: the header is parsed by a small
// literal reader (never evaluated) and the data length is checked against the file size before
// anything is sized from the shape.

import { resolve } from 'node:path';
import { DataError } from './errors.js';
import { readBytes } from './files.js';

/** The element types a .npy file may hold and this parser reads. */
export type NpyType = 'bool' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float16' | 'float32' | 'float64';

export interface NpyArray {
  /** The header's descr, as written: '<f4', '|u1', ... */
  descr: string;
  dtype: NpyType;
  /** Bytes per element. */
  itemSize: number;
  shape: number[];
  /** Element count (the product of shape). */
  size: number;
  /** The elements, C order, little-endian. A view into the bytes given to parseNpy (no copy, possibly unaligned). */
  data: Uint8Array;
  version: [number, number];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const PREFIX = MAGIC.length + 2; // magic + major + minor

const TYPES: Readonly<Record<string, NpyType>> = {
  b1: 'bool', i1: 'int8', u1: 'uint8', i2: 'int16', u2: 'uint16', i4: 'int32', u4: 'uint32',
  i8: 'int64', u8: 'uint64', f2: 'float16', f4: 'float32', f8: 'float64',
};

/** Parses a .npy file's bytes; any defect throws a DataError naming `file`. */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  const size = bytes.length;
  if (size < PREFIX + 2) throw new DataError(file, `file too short for a .npy header: expected at least ${PREFIX + 2} bytes, got ${size}`);
  if (!MAGIC.every((b, i) => bytes[i] === b)) {
    // The two mix-ups worth naming: an .npz archive (np.savez is a zip) and a text file.
    const zip = bytes[0] === 0x50 && bytes[1] === 0x4b ? '; the file is a zip archive, as np.savez writes: save each array with np.save' : '';
    const text = zip === '' && isText(bytes.subarray(0, 64)) ? '; the file looks like text: write arrays with np.save, not np.savetxt' : '';
    throw new DataError(file, `not a .npy file: expected the magic string \\x93NUMPY, got ${show(bytes.subarray(0, 6))}${zip}${text}`);
  }
  const major = bytes[6]!, minor = bytes[7]!;
  if (major < 1 || major > 3 || minor !== 0) {
    throw new DataError(file, `unsupported .npy version ${major}.${minor}: expected 1.0, 2.0 or 3.0`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  const lengthBytes = major === 1 ? 2 : 4;
  if (size < PREFIX + lengthBytes) throw new DataError(file, `truncated header: expected at least ${PREFIX + lengthBytes} bytes for a version ${major} header, got ${size}`);
  const headerLength = major === 1 ? view.getUint16(PREFIX, true) : view.getUint32(PREFIX, true);
  const dataStart = PREFIX + lengthBytes + headerLength;
  if (dataStart > size) {
    throw new DataError(file, `truncated header: the header says it is ${headerLength} bytes long, so the data starts at byte ${dataStart}, but the file has ${size} bytes`);
  }
  // Versions 1 and 2 write the header in latin-1, version 3 in UTF-8 (for field names).
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(PREFIX + lengthBytes, dataStart));
  const fields = parseHeader(header, file);

  const dtype = parseDescr(fields.descr, file);
  if (fields.fortranOrder) {
    throw new DataError(file, 'fortran_order is True: expected C order (row-major); save np.ascontiguousarray(a) instead');
  }
  const count = fields.shape.reduce((p, d) => p * BigInt(d), 1n);
  const expected = count * BigInt(dtype.itemSize);
  const actual = BigInt(size - dataStart);
  if (actual !== expected) {
    const problem = actual < expected ? 'truncated data' : `${actual - expected} trailing bytes`;
    throw new DataError(file, `${problem}: expected ${expected} bytes of data (shape ${shapeText(fields.shape)} of ${dtype.dtype}, ${dtype.itemSize} bytes each) after the ${dataStart}-byte header, got ${actual}`);
  }
  return {
    descr: fields.descr, dtype: dtype.dtype, itemSize: dtype.itemSize, shape: fields.shape, size: Number(count),
    data: bytes.subarray(dataStart), version: [major, minor],
  };
}

/** Reads and parses one .npy file; a missing file says `hint`. Errors name the absolute path. */
export function readNpy(file: string, hint: string): NpyArray {
  const path = resolve(file);
  return parseNpy(readBytes(path, hint), path);
}

/** A shape as NumPy prints it: (3,), (3, 4). */
export function shapeText(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

function parseDescr(descr: string, file: string): { dtype: NpyType; itemSize: number } {
  const match = /^([<>|=])([a-zA-Z])(\d+)$/.exec(descr);
  const dtype = match ? TYPES[match[2]! + match[3]!] : undefined;
  if (!match || dtype === undefined) {
    throw new DataError(file, `unsupported dtype '${descr}': expected a number type (bool, int8..int64, uint8..uint64, float16, float32, float64)`);
  }
  const itemSize = Number(match[3]);
  if (match[1] === '>' && itemSize > 1) {
    throw new DataError(file, `dtype '${descr}' is big-endian: expected little-endian; convert with a.astype('<${match[2]}${match[3]}')`);
  }
  return { dtype, itemSize };
}

interface Header { descr: string; fortranOrder: boolean; shape: number[] }

type Literal = string | boolean | number[] | { list: true };

/**
 * The header dict, read by a parser of exactly the literals np.save writes: a dict of string keys
 * whose values are strings, True/False and tuples of integers. A list (a structured dtype's descr)
 * is recognised only to be refused by name.
 */
function parseHeader(text: string, file: string): Header {
  let i = 0;
  const bad = (what: string): never => {
    throw new DataError(file, `bad header: ${what} at character ${i} of ${JSON.stringify(text.trimEnd())}`);
  };
  const skip = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const expect = (c: string): void => {
    skip();
    if (text[i] !== c) bad(`expected '${c}'`);
    i++;
  };
  const string = (): string => {
    const quote = text[i]!;
    const end = text.indexOf(quote, i + 1);
    if (end < 0) bad('unterminated string');
    const s = text.slice(i + 1, end);
    i = end + 1;
    return s;
  };
  const integer = (): number => {
    const m = /^\d+L?/.exec(text.slice(i));
    if (!m) bad('expected a non-negative integer');
    i += m![0].length;
    const n = Number(m![0].replace('L', ''));
    if (!Number.isSafeInteger(n)) bad(`dimension ${m![0]} too large`);
    return n;
  };
  const value = (): Literal => {
    skip();
    const c = text[i];
    if (c === "'" || c === '"') return string();
    if (text.startsWith('True', i)) { i += 4; return true; }
    if (text.startsWith('False', i)) { i += 5; return false; }
    if (c === '[') return { list: true };
    if (c === '(') {
      i++;
      const dims: number[] = [];
      for (;;) {
        skip();
        if (text[i] === ')') { i++; return dims; }
        dims.push(integer());
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== ')') bad("expected ',' or ')' in the shape");
      }
    }
    return bad('expected a string, True, False or a tuple');
  };

  const entries = new Map<string, Literal>();
  expect('{');
  for (;;) {
    skip();
    if (text[i] === '}') { i++; break; }
    if (text[i] !== "'" && text[i] !== '"') bad('expected a quoted key');
    const key = string();
    expect(':');
    const v = value();
    if (entries.has(key)) bad(`key '${key}' given twice`);
    entries.set(key, v);
    if (typeof v === 'object' && 'list' in v) break;
    skip();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') bad("expected ',' or '}'");
  }
  const descr = entries.get('descr');
  if (typeof descr === 'object' && 'list' in descr) {
    throw new DataError(file, 'structured dtype (a record array with named fields): expected a plain number array; save one field at a time, e.g. np.save(f, a["x"])');
  }
  skip();
  if (i < text.length) bad('unexpected text after the dict');
  return headerFields(entries, bad);
}

/** The header from the dict's entries: exactly the keys np.save writes, each with a value of its type. */
function headerFields(entries: Map<string, Literal>, bad: (what: string) => never): Header {
  const keys = [...entries.keys()].sort().join(', ');
  if (keys !== 'descr, fortran_order, shape') bad(`expected the keys descr, fortran_order and shape, got ${keys || 'none'}`);
  const descr = entries.get('descr');
  const fortranOrder = entries.get('fortran_order');
  const shape = entries.get('shape');
  if (typeof descr !== 'string') bad('descr: expected a string');
  if (typeof fortranOrder !== 'boolean') bad('fortran_order: expected True or False');
  if (!Array.isArray(shape)) bad('shape: expected a tuple of integers');
  return { descr: descr as string, fortranOrder: fortranOrder as boolean, shape: shape as number[] };
}

function isText(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f));
}

function show(bytes: Uint8Array): string {
  return [...bytes].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
}
