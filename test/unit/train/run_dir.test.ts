// The run directory's file handling: atomic writes that leave nothing behind on failure, the
// metrics trim a resume relies on, and the check that keeps a fresh run out of an old one.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RunDir, temporaryPath, writeFileAtomic } from '../../../src/train/run_dir.js';
import { tempDir } from '../../util/temp_dir.js';

const fresh = (): string => tempDir('al-run-');

test('writeFileAtomic replaces a file whole and leaves no temporary file', () => {
  const dir = fresh();
  const file = join(dir, 'a.json');
  writeFileAtomic(file, 'old');
  writeFileAtomic(file, new Uint8Array([104, 105]));
  assert.equal(readFileSync(file, 'utf8'), 'hi');
  assert.deepEqual(readdirSync(dir), ['a.json']);
});

test('a failed writeFileAtomic keeps the old file', () => {
  const dir = fresh();
  const file = join(dir, 'a.json');
  writeFileAtomic(file, 'good');
  mkdirSync(temporaryPath(file));
  assert.throws(() => writeFileAtomic(file, 'bad'), /EISDIR/);
  assert.equal(readFileSync(file, 'utf8'), 'good');
});

test('trimMetrics keeps epochs up to the checkpoint and drops a torn line', () => {
  const run = new RunDir(join(fresh(), 'run'));
  assert.equal(run.trimMetrics(3), 0); // no metrics yet
  for (const epoch of [1, 2, 3]) run.appendMetrics({ epoch, trainLoss: epoch });
  writeFileSync(run.file('metrics.jsonl'), readFileSync(run.file('metrics.jsonl'), 'utf8') + '{"epoch": 4, "trai');
  assert.equal(run.trimMetrics(2), 2);
  assert.deepEqual(readFileSync(run.file('metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).epoch), [1, 2]);
  assert.equal(run.trimMetrics(2), 0);
});

test('holdsRun: true once config.json is written', () => {
  const run = new RunDir(join(fresh(), 'run'));
  assert.equal(run.holdsRun(), false);
  run.writeConfig({ model: 'mlp' });
  assert.equal(run.holdsRun(), true);
});
