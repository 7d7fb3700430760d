// safetensors round trips, and every corruption a clean CheckpointError naming the file.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Rng } from '../../../src/tensor/rng.js';
import { CheckpointError, decodeSafetensors, encodeSafetensors, loadInto, readSafetensors, safetensorsChunks, writeSafetensors } from '../../../src/train/checkpoint.js';
import { tempDir } from '../../util/temp_dir.js';

const arrays = [
  { name: 'layers.1.f.weight', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, -Infinity]) },
  { name: 'bias', shape: [1], data: Float32Array.from([Math.PI]) },
  { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
];

test('round trip through a file; the layout is the safetensors one', () => {
  const dir = tempDir('al-ckpt-');
  const file = join(dir, 'checkpoint.safetensors');
  writeSafetensors(file, arrays, { epoch: '3' });
  assert.deepEqual(readdirSync(dir), ['checkpoint.safetensors']); // no temporary file left behind
  const bytes = readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + headerLength) % 8, 0);
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString());
  assert.deepEqual(header['layers.1.f.weight'], { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
  assert.deepEqual(header.__metadata__, { epoch: '3' });
  const back = readSafetensors(file);
  for (const a of arrays) assert.deepEqual(back.get(a.name)?.data, a.data);
});

test('the chunks a checkpoint is written from are the header and views of the arrays themselves, no copies', () => {
  const chunks = safetensorsChunks(arrays, { epoch: '3' });
  assert.deepEqual(Buffer.concat(chunks), Buffer.from(encodeSafetensors(arrays, { epoch: '3' })));
  assert.equal(chunks.length, 1 + arrays.length);
  arrays.forEach((a, i) => {
    assert.equal(chunks[i + 1]!.buffer, a.data.buffer);
    assert.equal(chunks[i + 1]!.byteLength, a.data.byteLength);
  });
});

test('loadInto copies by name and rejects a missing name or another shape', () => {
  const stored = decodeSafetensors(encodeSafetensors(arrays), 'ck');
  const target = new Float32Array(6);
  loadInto(stored, [['layers.1.f.weight', target, [2, 3]]], 'ck');
  assert.deepEqual(target, arrays[0]!.data);
  assert.throws(() => loadInto(stored, [['other', target, [2, 3]]], 'ck'), /ck: has no tensor 'other'/);
  assert.throws(() => loadInto(stored, [['layers.1.f.weight', new Float32Array(6), [3, 2]]], 'ck'), /tensor 'layers.1.f.weight' has shape \[2, 3\], the model needs \[3, 2\]/);
});

/** A safetensors file whose header is `header` (as given) and whose data is `dataBytes` zeros. */
function withHeader(header: unknown, dataBytes: number): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const out = Buffer.alloc(8 + json.length + dataBytes);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  return out;
}

test('corrupt files: each problem named, with the file', () => {
  const good = encodeSafetensors(arrays);
  const bad = (bytes: Uint8Array, pattern: RegExp): void =>
    assert.throws(() => decodeSafetensors(bytes, '/x/ck.safetensors'), (e: unknown) => e instanceof CheckpointError && e.message.startsWith('/x/ck.safetensors: ') && pattern.test(e.message));
  // header length
  bad(good.subarray(0, 5), /expected at least 8 bytes, got 5/);
  bad(good.subarray(0, 40), /header length \d+ does not fit a file of 40 bytes/);
  const huge = Buffer.from(good);
  huge.writeBigUInt64LE(1n << 60n, 0);
  bad(huge, /header length 1152921504606846976 does not fit/);
  // header JSON
  const json = Buffer.from(good);
  json[8] = 0x7b + 1; // '{' -> '|'
  bad(json, /corrupt header: /);
  bad(withHeader('[1, 2]', 0), /corrupt header: not a JSON object/);
  bad(withHeader(Buffer.from([0x22, 0xff, 0x22]).toString('latin1'), 0), /corrupt header/); // not UTF-8
  bad(withHeader({ __metadata__: { epoch: 3 } }, 0), /__metadata__ must map names to strings/);
  bad(withHeader({ w: [1, 2] }, 0), /tensor 'w': expected an object \{dtype, shape, data_offsets\}/);
  // dtype, shape, offsets
  const f16 = Buffer.from(good);
  f16.write('F16', f16.indexOf('F32'), 'latin1');
  bad(f16, /tensor 'layers.1.f.weight': expected dtype F32, got "F16"/);
  bad(withHeader({ w: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }, 8), /tensor 'w': bad shape \[2,-1\]/);
  bad(withHeader({ w: { dtype: 'F32', shape: [2], data_offsets: [0] } }, 8), /tensor 'w': bad data_offsets \[0\]/);
  bad(withHeader({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, 20), /tensor 'w': data_offsets \[0, 20\] span 20 bytes, shape \[2, 3\] needs 6 x 4/);
  bad(withHeader({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, 8), /data_offsets \[8, 0\]/);
  bad(withHeader({ w: { dtype: 'F32', shape: [1e9, 1e9], data_offsets: [0, 8] } }, 8), /shape \[1000000000, 1000000000\] needs/);
  // offsets outside the file, gaps, overlaps, trailing bytes
  bad(good.subarray(0, good.length - 4), /the tensors cover 28 data bytes, the file holds 24 after the header/);
  bad(withHeader({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), /tensor 'w': data_offsets \[4, 8\] leave a gap or overlap at byte 0/);
  bad(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), /tensor 'b'.*gap or overlap at byte 8/);
  bad(Buffer.concat([good, Buffer.alloc(4)]), /cover 28 data bytes, the file holds 32 after the header \(truncated or padded\?\)/);
  assert.throws(() => readSafetensors('/nonexistent/ck.safetensors'), /\/nonexistent\/ck.safetensors: cannot read the checkpoint \(ENOENT\)/);
});

test('encode refuses a duplicate name and a shape that does not fit the data', () => {
  assert.throws(() => encodeSafetensors([arrays[1]!, arrays[1]!]), /tensor name 'bias' appears twice/);
  assert.throws(() => encodeSafetensors([{ name: 'w', shape: [2, 2], data: new Float32Array(3) }]), /tensor 'w' has 3 values, shape \[2, 2\] needs 4/);
});

test('fuzz: random, truncated and mutated bytes give only CheckpointError', () => {
  const rng = new Rng(5);
  const good = encodeSafetensors(arrays);
  const headerEnd = 8 + Number(Buffer.from(good).readBigUInt64LE(0));
  const check = (bytes: Uint8Array, what: string): void => {
    try {
      const out = decodeSafetensors(bytes, 'fuzz');
      for (const a of out.values()) assert.equal(a.data.length, a.shape.reduce((p, d) => p * d, 1), what);
    } catch (error) {
      assert.ok(error instanceof CheckpointError, `${what}: ${(error as Error).name}: ${(error as Error).message}`);
    }
  };
  // every truncation
  for (let n = 0; n <= good.length; n++) check(good.subarray(0, n), `truncated to ${n}`);
  for (let i = 0; i < 3000; i++) {
    const kind = i % 5;
    let bytes: Uint8Array;
    if (kind === 0) bytes = Uint8Array.from({ length: rng.int(96) }, () => rng.int(256));
    else if (kind === 1) {
      // a plausible length prefix followed by random bytes
      bytes = Uint8Array.from({ length: 8 + rng.int(128) }, () => rng.int(256));
      Buffer.from(bytes.buffer).writeBigUInt64LE(BigInt(rng.int(bytes.length)), 0);
    } else if (kind === 2) {
      bytes = Buffer.from(good);
      for (let k = 1 + rng.int(4); k > 0; k--) bytes[rng.int(bytes.length)] = rng.int(256);
    } else if (kind === 3) {
      // a digit, bracket or quote of the header changed: numbers, shapes and structure go wrong
      bytes = Buffer.from(good);
      const at = 8 + rng.int(headerEnd - 8);
      bytes[at] = '0123456789[]{}",:-eE.'.charCodeAt(rng.int(21));
    } else {
      // random JSON values in a header entry
      const values = [null, -1, 1.5, 2 ** 53, 'F32', [], [0], [0, 4], [4, 0], [1, 1], { dtype: 'F32' }, true];
      const pick = (): unknown => values[rng.int(values.length)];
      bytes = withHeader({ t: { dtype: rng.int(2) ? 'F32' : pick(), shape: rng.int(2) ? [1] : pick(), data_offsets: rng.int(2) ? [0, 4] : pick() } }, rng.int(3) * 4);
    }
    check(bytes, `case ${i} (kind ${kind})`);
  }
});
test('writeSafetensors replaces an existing file whole', () => {
  const dir = tempDir('al-ckpt-');
  const file = join(dir, 'c.safetensors');
  writeFileSync(file, 'old');
  writeSafetensors(file, arrays);
  assert.equal(readSafetensors(file).size, 3);
});
