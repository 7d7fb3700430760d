// The checkpoint pair: checkpoint.json commits checkpoint.safetensors by size and SHA-256; a
// save that fails or stops at any step leaves the last good pair readable; every field of a
// corrupt checkpoint.json is named.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Rng } from '../../../src/tensor/rng.js';
import { CheckpointError, encodeSafetensors } from '../../../src/train/checkpoint.js';
import {
  INFO_FILE, PREVIOUS_TENSORS_FILE, TENSORS_FILE, parseCheckpointInfo, readCheckpointInfo, readCheckpointTensors,
  restorePreviousTensors, writeCheckpointPair, type CheckpointContents,
} from '../../../src/train/checkpoint_files.js';
import { temporaryPath } from '../../../src/train/run_dir.js';
import { tempDir } from '../../util/temp_dir.js';

const tensors = (value: number): Uint8Array => encodeSafetensors([{ name: 'w', shape: [2], data: Float32Array.from([value, -value]) }]);
const contents = (epoch: number): CheckpointContents => ({
  epoch, rng: { data: [1, 2, 3, 4, null] },
  optimizers: [{ type: 'Adam', step: 3 * epoch, lr: 0.001, buffers: ['m', 'v'], parameters: ['w'] }],
  config: { model: 'mlp' },
});
const fresh = (): string => tempDir('al-pair-');
/** The value of w in the tensors checkpoint.json commits, and whether they came from the previous file. */
function committed(dir: string): { epoch: number; w: number; previous: boolean } {
  const info = readCheckpointInfo(dir);
  const { arrays, previous } = readCheckpointTensors(dir, info);
  return { epoch: info.epoch, w: arrays.get('w')!.data[0]!, previous };
}

test('a pair round-trips; checkpoint.json records size and SHA-256; nothing else is left behind', () => {
  const dir = fresh();
  writeCheckpointPair(dir, tensors(1), contents(1));
  writeCheckpointPair(dir, tensors(2), contents(2));
  assert.deepEqual(readdirSync(dir).sort(), [INFO_FILE, TENSORS_FILE]);
  const info = readCheckpointInfo(dir);
  assert.equal(info.tensors.bytes, tensors(2).length);
  assert.match(info.tensors.sha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(info.rng, { data: [1, 2, 3, 4, null] });
  assert.deepEqual(committed(dir), { epoch: 2, w: 2, previous: false });
});

test('a save that fails writing the tensors leaves the good pair untouched', () => {
  const dir = fresh();
  writeCheckpointPair(dir, tensors(1), contents(1));
  const before = readFileSync(join(dir, TENSORS_FILE));
  mkdirSync(temporaryPath(join(dir, TENSORS_FILE))); // the temporary file cannot be created
  assert.throws(() => writeCheckpointPair(dir, tensors(2), contents(2)), /EISDIR/);
  assert.deepEqual(readFileSync(join(dir, TENSORS_FILE)), before);
  assert.deepEqual(committed(dir), { epoch: 1, w: 1, previous: false });
});

test('a save that fails writing checkpoint.json: the reader falls back to the committed tensors, a resume puts them back', () => {
  const dir = fresh();
  writeCheckpointPair(dir, tensors(1), contents(1));
  mkdirSync(temporaryPath(join(dir, INFO_FILE)));
  assert.throws(() => writeCheckpointPair(dir, tensors(2), contents(2)), /EISDIR/);
  // checkpoint.safetensors is the new, uncommitted file; checkpoint.json still says epoch 1
  assert.deepEqual(committed(dir), { epoch: 1, w: 1, previous: true });
  restorePreviousTensors(dir);
  assert.ok(!existsSync(join(dir, PREVIOUS_TENSORS_FILE)));
  assert.deepEqual(committed(dir), { epoch: 1, w: 1, previous: false });
  rmSync(temporaryPath(join(dir, INFO_FILE)), { recursive: true });
  writeCheckpointPair(dir, tensors(3), contents(3));
  assert.deepEqual(committed(dir), { epoch: 3, w: 3, previous: false });
});

test('a stop between the two renames (no checkpoint.safetensors) still reads the committed pair', () => {
  const dir = fresh();
  writeCheckpointPair(dir, tensors(1), contents(1));
  renameSync(join(dir, TENSORS_FILE), join(dir, PREVIOUS_TENSORS_FILE)); // step 2 done, step 3 not
  assert.deepEqual(committed(dir), { epoch: 1, w: 1, previous: true });
});

test('tensors that checkpoint.json did not commit, or no tensors at all: a CheckpointError naming the files', () => {
  const dir = fresh();
  writeCheckpointPair(dir, tensors(1), contents(1));
  writeFileSync(join(dir, TENSORS_FILE), tensors(9));
  const info = readCheckpointInfo(dir);
  assert.throws(() => readCheckpointTensors(dir, info), (e: unknown) => e instanceof CheckpointError &&
    e.message.includes(`${join(dir, TENSORS_FILE)}: is not the tensors file ${join(dir, INFO_FILE)} was written with`) &&
    e.message.includes(`${join(dir, PREVIOUS_TENSORS_FILE)}: ENOENT`));
  rmSync(join(dir, TENSORS_FILE));
  assert.throws(() => readCheckpointTensors(dir, info), new RegExp(`${join(dir, TENSORS_FILE)}: cannot read the checkpoint \\(ENOENT\\)`));
});

test('a missing checkpoint.json says that no epoch has finished', () => {
  const dir = fresh();
  assert.throws(() => readCheckpointInfo(dir), new RegExp(`${join(dir, INFO_FILE)}: cannot read the checkpoint \\(ENOENT\\): no epoch of this run has finished yet`));
});

test('checkpoint.json: every malformed field is named', () => {
  const good = { format: 'associated-learning checkpoint', version: 1, tensors: { file: TENSORS_FILE, bytes: 8, sha256: 'a'.repeat(64) }, ...contents(2) };
  assert.equal(parseCheckpointInfo(JSON.stringify(good), 'c.json').epoch, 2);
  const bad = (change: Record<string, unknown>, pattern: RegExp): void =>
    assert.throws(() => parseCheckpointInfo(JSON.stringify({ ...good, ...change }), '/r/checkpoint.json'),
      (e: unknown) => e instanceof CheckpointError && e.message.startsWith('/r/checkpoint.json: ') && pattern.test(e.message));
  bad({ format: 'other' }, /expected format "associated-learning checkpoint" version 1, got "other" version 1/);
  bad({ version: 2 }, /version 2/);
  bad({ epoch: -1 }, /epoch: expected a count, got -1/);
  bad({ tensors: { file: 'x.safetensors', bytes: 8, sha256: 'a'.repeat(64) } }, /tensors: expected \{file: "checkpoint.safetensors", bytes, sha256\}/);
  bad({ tensors: { file: TENSORS_FILE, bytes: 8, sha256: 'xyz' } }, /tensors: expected/);
  bad({ rng: { data: [1, 2, 3] } }, /rng.data: expected four 32-bit words and a number or null, got \[1,2,3\]/);
  bad({ rng: { data: [1, 2, 3, 2 ** 32, null] } }, /rng.data: expected four 32-bit words/);
  bad({ rng: [] }, /rng: expected an object of random streams/);
  bad({ optimizers: {} }, /optimizers: expected a list/);
  bad({ optimizers: [{ ...contents(1).optimizers[0], step: 1.5 }] }, /optimizers\[0\].step: expected a count, got 1.5/);
  bad({ optimizers: [{ ...contents(1).optimizers[0], lr: 'fast' }] }, /optimizers\[0\].lr: expected a number >= 0, got "fast"/);
  bad({ optimizers: [{ ...contents(1).optimizers[0], buffers: 'm' }] }, /optimizers\[0\].buffers: expected a list of names/);
  bad({ optimizers: [{ ...contents(1).optimizers[0], parameters: [1] }] }, /optimizers\[0\].parameters: expected a list of names/);
  bad({ optimizers: [null] }, /optimizers\[0\]: expected an object, got null/);
  bad({ config: 'mlp' }, /config: expected an object, got "mlp"/);
  assert.throws(() => parseCheckpointInfo('{"format": ', 'c.json'), /c.json: corrupt JSON \(/);
  assert.throws(() => parseCheckpointInfo('[]', 'c.json'), /c.json: expected a JSON object/);
});

test('fuzz: random and truncated checkpoint.json text gives only CheckpointError', () => {
  const dir = fresh();
  writeCheckpointPair(dir, tensors(1), contents(1));
  const text = readFileSync(join(dir, INFO_FILE), 'utf8');
  const rng = new Rng(11);
  const check = (t: string, what: string): void => {
    try {
      parseCheckpointInfo(t, 'fuzz.json');
    } catch (error) {
      assert.ok(error instanceof CheckpointError, `${what}: ${(error as Error).name}: ${(error as Error).message}`);
    }
  };
  for (let n = 0; n < text.length; n++) check(text.slice(0, n), `truncated to ${n}`);
  for (let i = 0; i < 2000; i++) {
    const chars = [...text];
    for (let k = 1 + rng.int(3); k > 0; k--) chars[rng.int(chars.length)] = '0123456789[]{}",:-.nulltrue'[rng.int(27)]!;
    check(chars.join(''), `mutation ${i}`);
    check(String.fromCharCode(...Array.from({ length: rng.int(40) }, () => rng.int(128))), `random ${i}`);
  }
});
