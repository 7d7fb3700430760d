import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../../src/data/errors.js';
import { parseNpy, readNpy, shapeText } from '../../../src/data/npy.js';
import { npyBytes } from '../../util/npy_files.js';
import { tempDir } from '../../util/temp_dir.js';

const FILE = '/data/a.npy';

/** Asserts parseNpy(bytes) throws a DataError for FILE whose message contains every fragment. */
function refuses(bytes: Uint8Array, ...fragments: string[]): void {
  assert.throws(() => parseNpy(bytes, FILE), (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.equal(err.file, FILE);
    for (const f of fragments) assert.ok(err.message.includes(f), `message lacks "${f}": ${err.message}`);
    return true;
  });
}

test('every number dtype, in every version, comes back with its shape and its exact bytes', () => {
  const cases: [string, string, number, ArrayBufferView][] = [
    ['|b1', 'bool', 1, Uint8Array.from([1, 0, 1, 1, 0, 0])],
    ['|i1', 'int8', 1, Int8Array.from([-128, -1, 0, 1, 2, 127])],
    ['|u1', 'uint8', 1, Uint8Array.from([0, 1, 2, 3, 254, 255])],
    ['<i2', 'int16', 2, Int16Array.from([-32768, -1, 0, 1, 2, 32767])],
    ['<u2', 'uint16', 2, Uint16Array.from([0, 1, 2, 3, 4, 65535])],
    ['<i4', 'int32', 4, Int32Array.from([-(2 ** 31), -1, 0, 1, 2, 2 ** 31 - 1])],
    ['<u4', 'uint32', 4, Uint32Array.from([0, 1, 2, 3, 4, 2 ** 32 - 1])],
    ['<i8', 'int64', 8, BigInt64Array.from([-5n, -1n, 0n, 1n, 2n, 2n ** 40n])],
    ['<u8', 'uint64', 8, BigUint64Array.from([0n, 1n, 2n, 3n, 4n, 2n ** 64n - 1n])],
    ['<f2', 'float16', 2, Uint16Array.from([0x3c00, 0, 0xc000, 1, 2, 3])],
    ['<f4', 'float32', 4, Float32Array.from([0.5, -1.25, 3, 0, 1e-8, 7])],
    ['<f8', 'float64', 8, Float64Array.from([0.1, -2, 1e300, 0, 5, 6])],
  ];
  for (const version of [1, 2, 3] as const) {
    for (const [descr, dtype, itemSize, data] of cases) {
      const bytes = npyBytes(descr, [2, 3], data, { version });
      const a = parseNpy(bytes, FILE);
      assert.equal(a.dtype, dtype, descr);
      assert.equal(a.descr, descr);
      assert.equal(a.itemSize, itemSize);
      assert.deepEqual(a.shape, [2, 3]);
      assert.equal(a.size, 6);
      assert.deepEqual(a.version, [version, 0]);
      assert.deepEqual([...a.data], [...new Uint8Array(data.buffer, data.byteOffset, data.byteLength)], `${descr} v${version}`);
      // numpy aligns the data to 64 bytes, and the view points into the given bytes (no copy)
      assert.equal(a.data.byteOffset % 64, 0);
      assert.equal(a.data.buffer, bytes.buffer);
    }
  }
});

test('shapes: 1-D, 4-D, a scalar, an empty array; python 2 long integers; double quotes and no trailing comma', () => {
  assert.deepEqual(parseNpy(npyBytes('<f4', [3], new Float32Array(3)), FILE).shape, [3]);
  assert.deepEqual(parseNpy(npyBytes('<f4', [2, 3, 4, 1], new Float32Array(24)), FILE).shape, [2, 3, 4, 1]);
  const scalar = parseNpy(npyBytes('<f4', [], new Float32Array(1), { header: "{'descr': '<f4', 'fortran_order': False, 'shape': (), }" }), FILE);
  assert.deepEqual(scalar.shape, []);
  assert.equal(scalar.size, 1);
  assert.equal(parseNpy(npyBytes('<f4', [0, 5], new Float32Array(0)), FILE).size, 0);
  const old = parseNpy(npyBytes('', [], new Uint8Array(6), { header: "{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 3L), }" }), FILE);
  assert.deepEqual(old.shape, [2, 3]);
  const plain = parseNpy(npyBytes('', [], new Uint8Array(4), { header: '{"shape": (4,), "fortran_order": False, "descr": "|u1"}' }), FILE);
  assert.deepEqual(plain.shape, [4]);
});

test('readNpy reads a file, and a missing one names its path and the hint', () => {
  const dir = tempDir('al-npy-');
  const file = join(dir, 'x.npy');
  writeFileSync(file, npyBytes('<i4', [2], Int32Array.from([7, 9])));
  const a = readNpy(file, 'hint');
  assert.deepEqual([...new Int32Array(a.data.slice().buffer)], [7, 9]);
  assert.throws(() => readNpy(join(dir, 'y.npy'), 'write it with np.save'), {
    name: 'DataError', message: `${join(dir, 'y.npy')}: file not found: write it with np.save`,
  });
});

test('a file that is not .npy: too short, another magic, an .npz archive, a text file', () => {
  refuses(new Uint8Array(5), 'file too short for a .npy header: expected at least 10 bytes, got 5');
  refuses(Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x58, 1, 0, 0, 0]), 'not a .npy file: expected the magic string \\x93NUMPY, got \\x93NUMPX');
  refuses(Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0]), 'the file is a zip archive, as np.savez writes: save each array with np.save');
  refuses(new TextEncoder().encode('1.0 2.0 3.0\n4.0 5.0 6.0\n'), 'not a .npy file', 'the file looks like text: write arrays with np.save, not np.savetxt');
});

test('versions other than 1.0, 2.0 and 3.0 are refused', () => {
  for (const [major, minor] of [[0, 0], [4, 0], [1, 1]]) {
    const bytes = npyBytes('<f4', [1], new Float32Array(1));
    bytes[6] = major!;
    bytes[7] = minor!;
    refuses(bytes, `unsupported .npy version ${major}.${minor}: expected 1.0, 2.0 or 3.0`);
  }
});

test('a header longer than the file, in versions 1 and 2', () => {
  const v1 = npyBytes('<f4', [1], new Float32Array(1)).subarray(0, 40);
  refuses(v1, 'truncated header: the header says it is 118 bytes long, so the data starts at byte 128, but the file has 40 bytes');
  const v2 = npyBytes('<f4', [1], new Float32Array(1), { version: 2 });
  new DataView(v2.buffer).setUint32(8, 2 ** 31, true);
  refuses(v2, `truncated header: the header says it is ${2 ** 31} bytes long`);
  refuses(Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 0, 0]), 'truncated header: expected at least 12 bytes for a version 2 header, got 10');
});

test('malformed headers are refused with what was expected and where', () => {
  const bad = (header: string, ...fragments: string[]): void => refuses(npyBytes('', [], new Uint8Array(0), { header }), 'bad header: ', ...fragments);
  bad("'descr': '<f4'", "expected '{' at character 0");
  bad("{'descr': '<f4', 'fortran_order': False}", 'expected the keys descr, fortran_order and shape, got descr, fortran_order');
  bad("{'descr': '<f4', 'fortran_order': False, 'shape': (0,), 'extra': True}", 'got descr, extra, fortran_order, shape');
  bad("{'descr': '<f4', 'descr': '<f4'}", "key 'descr' given twice");
  bad("{'descr' '<f4'}", "expected ':' at character 9");
  bad("{'descr': '<f4, 'fortran_order': False, 'shape': (0,)}", "expected ',' or '}' at character 17");
  bad("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (0,)}", 'expected a string, True, False or a tuple');
  bad("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", 'expected a non-negative integer');
  bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1 2)}", "expected ',' or ')' in the shape");
  bad("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", 'dimension 99999999999999999999 too large');
  bad("{'descr': True, 'fortran_order': False, 'shape': (0,)}", 'descr: expected a string');
  bad("{'descr': '<f4', 'fortran_order': 'no', 'shape': (0,)}", 'fortran_order: expected True or False');
  bad("{'descr': '<f4', 'fortran_order': False, 'shape': 'x'}", 'shape: expected a tuple of integers');
  bad("{'descr': '<f4', 'fortran_order': False, 'shape': (0,)} junk", 'unexpected text after the dict');
  bad("{'descr': '<f4' 'fortran_order': False}", "expected ',' or '}'");
  bad("{'descr': '<f4", 'unterminated string');
  refuses(npyBytes('', [], new Uint8Array(0), { header: "{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (0,), }" }),
    'structured dtype (a record array with named fields): expected a plain number array');
});

test('Fortran order, big-endian and non-number dtypes are refused, with the conversion to make', () => {
  refuses(npyBytes('<f4', [2, 2], new Float32Array(4), { fortranOrder: true }), "fortran_order is True: expected C order (row-major); save np.ascontiguousarray(a) instead");
  refuses(npyBytes('>f4', [2], new Float32Array(2)), "dtype '>f4' is big-endian: expected little-endian; convert with a.astype('<f4')");
  refuses(npyBytes('>i8', [2], new BigInt64Array(2)), "convert with a.astype('<i8')");
  // one byte has no byte order: '>u1' is the same as '|u1'
  assert.equal(parseNpy(npyBytes('>u1', [2], new Uint8Array(2)), FILE).dtype, 'uint8');
  for (const descr of ['<c8', '|O', '<U5', '|S3', '<f16', '<M8[ns]']) {
    refuses(npyBytes(descr, [0], new Uint8Array(0)), `unsupported dtype '${descr}': expected a number type`);
  }
});

test('the data must be exactly shape x item size bytes', () => {
  const ok = npyBytes('<f4', [2, 3], new Float32Array(6));
  refuses(ok.subarray(0, ok.length - 1), 'truncated data: expected 24 bytes of data (shape (2, 3) of float32, 4 bytes each) after the 128-byte header, got 23');
  const long = new Uint8Array(ok.length + 4);
  long.set(ok);
  refuses(long, '4 trailing bytes: expected 24 bytes of data');
  // a huge shape in a small file: checked before anything is sized from it
  refuses(npyBytes('<f8', [2 ** 40, 2 ** 40], new Uint8Array(8)), 'truncated data: expected 9671406556917033397649408 bytes');
});

test('shapeText writes shapes as NumPy prints them', () => {
  assert.equal(shapeText([3]), '(3,)');
  assert.equal(shapeText([3, 4]), '(3, 4)');
  assert.equal(shapeText([]), '()');
});
