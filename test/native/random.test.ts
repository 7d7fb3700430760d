// Seeded normal draws (native/random.cc) against the TypeScript generator they repeat: the same
// float32 values, the same state afterwards, the same spare for the next draw (to the last bit or
// two of a double: glibc's log and V8's Math.log may round differently there).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { setBackend } from '../../src/backend/backend.js';
import { loadNative } from '../../src/backend/load_native.js';
import { nativeBackend } from '../../src/backend/native_backend.js';
import { normalFill as referenceFill } from '../../src/backend/reference/random.js';
import { Rng } from '../../src/tensor/rng.js';

const N = loadNative();

/** The state a seed gives, with `skip` normals drawn first (so the generator is mid-stream). */
function stateAfter(seed: number, skip: number): Uint32Array {
  const rng = new Rng(seed);
  for (let i = 0; i < skip; i++) rng.nextUint32();
  return Uint32Array.from(rng.getState().slice(0, 4));
}

test('normalFill: the addon draws the float32 values the TypeScript generator draws and leaves the same state and spare', () => {
  for (const [n, seed, skip] of [[0, 1, 0], [1, 2, 3], [2, 3, 0], [7, 4, 1], [100_003, 5, 9], [1_000_000, 6, 2]] as const) {
    const sn = stateAfter(seed, skip), sr = sn.slice();
    const native = new Float32Array(n), reference = new Float32Array(n);
    const spareN = N.normalFill(native, sn, 0.37), spareR = referenceFill(reference, sr, 0.37);
    assert.deepEqual(native, reference, `${n} values`);
    assert.deepEqual(sn, sr, `state after ${n} values`);
    assert.equal(Number.isNaN(spareN), n % 2 === 0, 'a spare is left after an odd count only');
    assert.equal(Number.isNaN(spareR), n % 2 === 0, 'a spare is left after an odd count only');
    if (n % 2 === 1) assert.ok(Math.abs(spareN - spareR) <= 1e-15 * Math.abs(spareR), `spare after ${n} values: ${spareN} against ${spareR}`);
  }
});

test('Rng.fillNormal continues the stream of normal(): a spare first, then the kernel, then normal() again', () => {
  setBackend(nativeBackend);
  const a = new Rng(11), b = new Rng(11);
  const viaLoop: number[] = [a.normal()];
  const viaFill = [b.normal()];
  const chunk = new Float32Array(1001);
  b.fillNormal(chunk, 2);
  for (let i = 0; i < chunk.length; i++) viaLoop.push(Math.fround(a.normal() * 2));
  viaFill.push(...chunk);
  viaLoop.push(a.normal(), a.normal());
  viaFill.push(b.normal(), b.normal());
  assert.deepEqual(viaFill, viaLoop);
});

test('normalFill refuses a state that is not 4 words and an output that is not a Float32Array', () => {
  assert.throws(() => N.normalFill(new Float32Array(4), new Uint32Array(3), 1), /normalFill: expected a Uint32Array of 4 words for state/);
  assert.throws(() => N.normalFill(new Float64Array(4) as unknown as Float32Array, new Uint32Array(4), 1), /normalFill: expected a Float32Array for out/);
  assert.throws(() => referenceFill(new Float32Array(4), new Uint32Array(5), 1), /normalFill: expected a Uint32Array of 4 words for state, got 5/);
});
