// How al reproduce treats what it finds in an experiment's run directory before training.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { clearUnfinishedRun } from '../../../src/cli/commands/reproduce.js';
import { tempDir } from '../../util/temp_dir.js';

test('clearUnfinishedRun: a run stopped before its first epoch ended is cleared; a checkpointed one and other files are kept', (t) => {
  const base = tempDir('al-reproduce-');
  t.after(() => rmSync(base, { recursive: true, force: true }));

  const stopped = join(base, 'stopped');
  mkdirSync(stopped);
  for (const f of ['config.json', 'metrics.jsonl', 'trace.json', 'notes.txt']) writeFileSync(join(stopped, f), '{}');
  assert.equal(clearUnfinishedRun(stopped), true);
  assert.deepEqual(readdirSync(stopped), ['notes.txt'], 'only the run files go');
  assert.equal(clearUnfinishedRun(stopped), false, 'nothing left to clear');

  const finished = join(base, 'finished');
  mkdirSync(finished);
  for (const f of ['config.json', 'metrics.jsonl', 'checkpoint.json']) writeFileSync(join(finished, f), '{}');
  assert.equal(clearUnfinishedRun(finished), false);
  assert.deepEqual(readdirSync(finished).sort(), ['checkpoint.json', 'config.json', 'metrics.jsonl']);

  assert.equal(clearUnfinishedRun(join(base, 'absent')), false);
});
