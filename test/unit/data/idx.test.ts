import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../../../src/data/errors.js';
import { parseIdx, readIdx } from '../../../src/data/idx.js';
import { Rng } from '../../../src/tensor/rng.js';
import { tempDir } from '../../util/temp_dir.js';

/** An IDX file image: magic 00 00 type ndims, big-endian dims, then `data`. */
function idxBytes(dims: number[], data: ArrayLike<number>, type = 0x08, ndims = dims.length): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = type;
  out[3] = ndims;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const dir = tempDir('al-');

function writeFile(name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** Asserts `fn` throws a DataError for `file` whose message contains every fragment. */
function throwsData(fn: () => unknown, file: string, ...fragments: string[]): DataError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof DataError, `expected a DataError, got ${String(caught)}`);
  assert.equal(caught.file, file);
  assert.ok(caught.message.startsWith(`${file}: `), caught.message);
  for (const f of fragments) assert.ok(caught.message.includes(f), `message lacks "${f}": ${caught.message}`);
  return caught;
}

test('DataError carries the file and prefixes the message with it', () => {
  const e = new DataError('/tmp/x', 'broken: expected a, got b');
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'DataError');
  assert.equal(e.file, '/tmp/x');
  assert.equal(e.problem, 'broken: expected a, got b');
  assert.equal(e.message, '/tmp/x: broken: expected a, got b');
});

test('round trip through a file: 1, 3 and 4 dimensions', () => {
  const cases: [number[], number[]][] = [
    [[5], [0, 1, 2, 254, 255]],
    [[2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]],
    [[1, 2, 1, 2], [9, 8, 7, 6]],
  ];
  for (const [i, [dims, data]] of cases.entries()) {
    const file = writeFile(`rt${i}`, idxBytes(dims, data));
    const arr = readIdx(file);
    assert.deepEqual(arr.dims, dims);
    assert.deepEqual([...arr.data], data);
    assert.ok(!Buffer.isBuffer(arr.data), 'data should be a plain Uint8Array');
  }
});

test('parseIdx returns a view, not a copy', () => {
  const bytes = idxBytes([3], [7, 8, 9]);
  const { data } = parseIdx(bytes, 'view');
  assert.equal(data.buffer, bytes.buffer);
  assert.equal(data.byteOffset, 8);
});

test('bad magic number', () => {
  const bytes = idxBytes([2], [1, 2]);
  bytes[1] = 0x01;
  throwsData(() => parseIdx(bytes, '/d/f'), '/d/f', 'bad magic number 0x00010801', 'expected 0x0000TTNN');
});

test('gzip-compressed file gets a hint', () => {
  const bytes = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4]);
  throwsData(() => parseIdx(bytes, '/d/f.gz'), '/d/f.gz', 'bad magic number 0x1f8b0800', 'gzip');
});

test('type codes other than unsigned byte are refused by name', () => {
  throwsData(() => parseIdx(idxBytes([1], [0, 0, 0, 0], 0x0d), 'f'), 'f', 'unsupported data type 0x0d (float32)', 'expected 0x08 (unsigned byte), got 0x0d');
  throwsData(() => parseIdx(idxBytes([1], [0], 0x07), 'f'), 'f', 'unknown data type 0x07', 'got 0x07');
});

test('dimension count must be 1..4', () => {
  throwsData(() => parseIdx(idxBytes([], []), 'f'), 'f', 'bad dimension count', 'expected 1..4, got 0');
  throwsData(() => parseIdx(idxBytes([1, 1, 1, 1, 1], [0]), 'f'), 'f', 'expected 1..4, got 5');
});

test('zero dimension', () => {
  throwsData(() => parseIdx(idxBytes([3, 0, 2], []), 'f'), 'f', 'dimension 1 is zero', 'got [3, 0, 2]');
});

test('files shorter than their header', () => {
  throwsData(() => parseIdx(new Uint8Array([0, 0]), 'f'), 'f', 'expected at least 4 bytes, got 2');
  throwsData(() => parseIdx(new Uint8Array(0), 'f'), 'f', 'got 0');
  const bytes = idxBytes([10, 28, 28], []).subarray(0, 10);
  throwsData(() => parseIdx(bytes, 'f'), 'f', 'truncated header: expected 16 bytes for 3 dimensions, got 10');
});

test('truncated data names both sizes', () => {
  const bytes = idxBytes([2, 3], [1, 2, 3, 4, 5, 6]).subarray(0, 12 + 5);
  throwsData(() => parseIdx(bytes, 'f'), 'f', 'truncated data', 'expected 18 bytes', '12-byte header + 6 items', 'got 17');
});

test('header claiming 2^31 images fails before anything is allocated', () => {
  // 16 bytes of header, no data: an eager allocation would throw RangeError (or take seconds), not DataError.
  const bytes = idxBytes([2 ** 31, 28, 28], []);
  assert.equal(bytes.length, 16);
  const t0 = performance.now();
  throwsData(() => parseIdx(bytes, 'huge'), 'huge', 'truncated data', `expected ${16 + 2 ** 31 * 784} bytes`, 'got 16');
  // 2^32-1 items in 1-D is an allocation V8 could actually attempt; four maximal dims overflow 2^53.
  throwsData(() => parseIdx(idxBytes([2 ** 32 - 1], []), 'h1'), 'h1', `expected ${8 + 2 ** 32 - 1} bytes`, 'got 8');
  const max = 2n ** 32n - 1n;
  throwsData(() => parseIdx(idxBytes([2 ** 32 - 1, 2 ** 32 - 1, 2 ** 32 - 1, 2 ** 32 - 1], []), 'h4'), 'h4', `expected ${20n + max ** 4n} bytes`);
  assert.ok(performance.now() - t0 < 200);
});

test('trailing bytes name both sizes', () => {
  const bytes = idxBytes([2], [1, 2, 3, 4]);
  throwsData(() => parseIdx(bytes, 'f'), 'f', '2 trailing bytes', 'expected 10 bytes', 'got 12');
});

test('readIdx: missing file names the path and how to get the data', () => {
  const file = path.join(dir, 'no-such-dir', 'train-images-idx3-ubyte');
  throwsData(() => readIdx(file), file, 'file not found', 'dataDir');
  throwsData(() => readIdx(file, 'run the downloader'), file, 'file not found: run the downloader');
  // Relative paths are reported absolute.
  throwsData(() => readIdx('no-such-file-idx1-ubyte'), path.resolve('no-such-file-idx1-ubyte'), 'file not found');
});

test('readIdx: unreadable path (a directory) is a DataError', () => {
  throwsData(() => readIdx(dir), dir, 'expected a file, found a folder');
});

test('fuzz: random and randomly damaged inputs give a result or a DataError, nothing else', () => {
  const rng = new Rng(20240611);
  let parsed = 0;
  let rejected = 0;
  for (let round = 0; round < 600; round++) {
    let bytes: Uint8Array;
    if (round % 3 === 0) {
      // Pure noise.
      bytes = new Uint8Array(rng.int(40));
      for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
    } else {
      // A plausible file, then truncated, extended or with one byte flipped, so checks past the magic get exercised.
      const ndims = 1 + rng.int(4);
      const dims = Array.from({ length: ndims }, () => rng.int(4));
      const items = dims.reduce((p, d) => p * d, 1);
      const data = Array.from({ length: items }, () => rng.int(256));
      bytes = idxBytes(dims, data, rng.int(8) === 0 ? rng.int(256) : 0x08);
      const damage = rng.int(4);
      if (damage === 0) bytes = bytes.subarray(0, rng.int(bytes.length + 1));
      else if (damage === 1) bytes = Uint8Array.from([...bytes, ...Array.from({ length: 1 + rng.int(4) }, () => rng.int(256))]);
      else if (damage === 2 && bytes.length > 0) bytes[rng.int(bytes.length)] = rng.int(256);
    }
    try {
      const { dims, data } = parseIdx(bytes, `fuzz-${round}`);
      assert.equal(data.length, dims.reduce((p, d) => p * d, 1));
      assert.equal(data.byteOffset + data.length, bytes.byteOffset + bytes.length);
      parsed++;
    } catch (err) {
      if (!(err instanceof DataError)) throw new Error(`round ${round}: expected a DataError, got ${String(err)}`, { cause: err });
      assert.equal(err.file, `fuzz-${round}`);
      rejected++;
    }
  }
  // Both outcomes must actually occur, or the fuzzing is not reaching past the header checks.
  assert.ok(parsed > 20, `parsed ${parsed}`);
  assert.ok(rejected > 200, `rejected ${rejected}`);
});
