// The run directory's file handling: atomic writes that leave nothing behind on failure, the
// metrics trim a resume relies on, and the check that keeps a fresh run out of an old one.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RunDir, RunDirError, guardWrite, temporaryPath, writeError, writeFileAtomic } from '../../../src/train/run_dir.js';
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

test('a failed write becomes a RunDirError naming the file (not its temporary name) and the cause in words', () => {
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', path: '/r/checkpoint.safetensors.tmp-123' });
  const e = writeError(enospc, '/r');
  assert.ok(e instanceof RunDirError);
  assert.equal(e.message, '/r/checkpoint.safetensors: the disk is full');
  assert.equal((writeError(Object.assign(new Error('x'), { code: 'EROFS' }), '/r') as Error).message, '/r: the file system is read-only');
  const other = new Error('not a file error');
  assert.equal(writeError(other, '/r'), other);
  // /dev/full fails every write with ENOSPC
  assert.throws(() => guardWrite('/dev/full', () => writeFileSync('/dev/full', 'x')), (err: unknown) => err instanceof RunDirError && err.message === '/dev/full: the disk is full');
});

test('RunDir on a regular file, and the run files a folder holds', () => {
  const dir = fresh();
  writeFileSync(join(dir, 'file'), '');
  assert.throws(() => new RunDir(join(dir, 'file')), (e: unknown) => e instanceof RunDirError && e.message === `${join(dir, 'file')}: expected a folder for the run, found a file there`);
  assert.throws(() => new RunDir(join(dir, 'file', 'run')), (e: unknown) => e instanceof RunDirError && /file\/run: a part of the path is a file, not a folder$/.test(e.message));
  const run = new RunDir(join(dir, 'run'));
  assert.deepEqual(run.runFiles(), []);
  writeFileSync(run.file('checkpoint.json'), '{}');
  writeFileSync(run.file('checkpoint.safetensors'), '');
  writeFileSync(run.file('notes.txt'), '');
  assert.deepEqual(run.runFiles(), ['checkpoint.json', 'checkpoint.safetensors']);
});
