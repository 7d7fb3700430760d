// safetensors round trips, and every corruption a clean CheckpointError naming the file.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Rng } from '../../../src/tensor/rng.js';
import { CheckpointError, decodeSafetensors, encodeSafetensors, loadInto, readSafetensors, writeSafetensors } from '../../../src/train/checkpoint.js';

const arrays = [
  { name: 'layers.1.f.weight', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, -Infinity]) },
  { name: 'bias', shape: [1], data: Float32Array.from([Math.PI]) },
  { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
];

test('round trip through a file; the layout is the safetensors one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'al-ckpt-'));
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

test('loadInto copies by name and rejects a missing name or another shape', () => {
  const stored = decodeSafetensors(encodeSafetensors(arrays), 'ck');
  const target = new Float32Array(6);
  loadInto(stored, [['layers.1.f.weight', target, [2, 3]]], 'ck');
  assert.deepEqual(target, arrays[0]!.data);
  assert.throws(() => loadInto(stored, [['other', target, [2, 3]]], 'ck'), /ck: has no tensor 'other'/);
  assert.throws(() => loadInto(stored, [['layers.1.f.weight', new Float32Array(6), [3, 2]]], 'ck'), /tensor 'layers.1.f.weight' has shape \[2, 3\], the model needs \[3, 2\]/);
});

test('corrupt files: each problem named, with the file', () => {
  const good = encodeSafetensors(arrays);
  const bad = (bytes: Uint8Array, pattern: RegExp): void =>
    assert.throws(() => decodeSafetensors(bytes, '/x/ck.safetensors'), (e: unknown) => e instanceof CheckpointError && e.message.startsWith('/x/ck.safetensors: ') && pattern.test(e.message));
  bad(good.subarray(0, 5), /expected at least 8 bytes, got 5/);
  bad(good.subarray(0, 40), /header length \d+ does not fit a file of 40 bytes/);
  const huge = Buffer.from(good);
  huge.writeBigUInt64LE(1n << 60n, 0);
  bad(huge, /header length/);
  const json = Buffer.from(good);
  json[8] = 0x7b + 1; // '{' -> '|'
  bad(json, /corrupt header/);
  bad(good.subarray(0, good.length - 4), /data_offsets \[\d+, \d+\] do not hold shape/);
  const f16 = Buffer.from(good);
  f16.write('F16', f16.indexOf('F32'), 'latin1');
  bad(f16, /expected dtype F32, got "F16"/);
  assert.throws(() => readSafetensors('/nonexistent/ck.safetensors'), /\/nonexistent\/ck.safetensors: cannot read the checkpoint \(ENOENT\)/);
});

test('fuzz: random and truncated bytes give only CheckpointError', () => {
  const rng = new Rng(5);
  const good = encodeSafetensors(arrays);
  for (let i = 0; i < 400; i++) {
    let bytes: Uint8Array;
    if (i % 3 === 0) bytes = Uint8Array.from({ length: rng.int(64) }, () => rng.int(256));
    else if (i % 3 === 1) bytes = good.subarray(0, rng.int(good.length));
    else {
      bytes = Buffer.from(good);
      bytes[rng.int(bytes.length)] = rng.int(256);
    }
    try {
      decodeSafetensors(bytes, 'fuzz');
    } catch (error) {
      assert.ok(error instanceof CheckpointError, `case ${i}: ${(error as Error).name}: ${(error as Error).message}`);
    }
  }
});

test('writeSafetensors replaces an existing file whole', () => {
  const dir = mkdtempSync(join(tmpdir(), 'al-ckpt-'));
  const file = join(dir, 'c.safetensors');
  writeFileSync(file, 'old');
  writeSafetensors(file, arrays);
  assert.equal(readSafetensors(file).size, 3);
});
