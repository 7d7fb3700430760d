// Reading dataset files from disk. Every failure becomes a DataError that names the absolute path
// (a relative one means little in a log read later from elsewhere) and, for a missing file or
// folder, says how to get the data. Sizes are bounded before anything is allocated from them.

import { readFileSync, statSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors.js';

/**
 * The most a compressed dataset file may expand to. The largest file we read gzipped,
 * Fashion-MNIST's training images, is 47 MB; without a cap, a few kilobytes of crafted deflate
 * stream could ask for gigabytes.
 */
export const MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

const MiB = 1024 * 1024;

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** What a path that is not a regular file is, in words. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * Fails unless `path` is a regular file: "file not found" only when nothing is there. Checked
 * before reading, since reading a named pipe waits for a writer that may never come.
 */
function requireRegularFile(path: string, hint: string): Stats {
  const st = statOrNull(path);
  if (st === null) throw new DataError(path, `file not found: ${hint}`);
  if (!st.isFile()) throw new DataError(path, `expected a file, found ${kindOf(st)}: ${hint}`);
  return st;
}

/** The whole file as a plain Uint8Array (not a Buffer, whose slice() shares memory unlike every other typed array). */
export function readBytes(file: string, hint: string): Uint8Array {
  const path = resolve(file);
  requireRegularFile(path, hint);
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(path, `file not found: ${hint}`, { cause: err });
    if (code === 'EISDIR') throw new DataError(path, `expected a file, found a folder: ${hint}`, { cause: err });
    throw new DataError(path, `cannot read file: ${(err as Error).message}`, { cause: err });
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** gzip's two magic bytes, which every .gz file starts with (RFC 1952). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompresses a gzip file's bytes; corrupt data or more than maxBytes of output is a DataError. */
export function gunzipBytes(bytes: Uint8Array, file: string, maxBytes: number = MAX_DECOMPRESSED_BYTES): Uint8Array {
  let out: Buffer;
  try {
    out = gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DataError(file, `gzip data expands to more than ${formatBytes(maxBytes)}, the most a dataset file may hold: not a dataset file, or a corrupt one`, { cause: err });
    }
    throw new DataError(file, `corrupt gzip data: ${(err as Error).message}`, { cause: err });
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

function formatBytes(n: number): string {
  return n % MiB === 0 ? `${n / MiB} MiB` : `${n} bytes`;
}

/** Fails with `hint` unless `dir` is an existing folder; returns its absolute path. */
export function requireDir(dir: string, hint: string): string {
  const path = resolve(dir);
  const st = statOrNull(path);
  if (st === null) throw new DataError(path, `folder not found: ${hint}`);
  if (!st.isDirectory()) throw new DataError(path, `expected a folder, found ${st.isFile() ? 'a file' : kindOf(st)}: ${hint}`);
  return path;
}

/** The size of a file in bytes, without reading it; missing (or a folder) is the DataError readBytes gives. */
export function fileSize(file: string, hint: string): number {
  return requireRegularFile(resolve(file), hint).size;
}

/** Whether `path` is an existing regular file. */
export function isFile(path: string): boolean {
  return statOrNull(path)?.isFile() ?? false;
}

/**
 * `dir/name`, or `dir/name.gz` when only the compressed file is there (datasets are published
 * gzipped, and Debian's dataset packages install them that way).
 */
export function findFile(dir: string, name: string, hint: string): string {
  const plain = resolve(join(dir, name));
  if (isFile(plain)) return plain;
  if (isFile(plain + '.gz')) return plain + '.gz';
  // something that is not a file stands where one should: say what, rather than "not found"
  for (const path of [plain, plain + '.gz']) if (statOrNull(path) !== null) requireRegularFile(path, hint);
  throw new DataError(plain, `file not found (nor ${name}.gz): ${hint}`);
}
