// Time to a target accuracy: the first evaluation at or above it (no interpolation), with the
// evaluation before it; evals.jsonl read and checked, a resumed run's refused.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AnalysisError } from '../../../src/analysis/errors.js';
import { firstCrossing, readEvals } from '../../../src/analysis/time_to_accuracy.js';
import { tempDir } from '../../util/temp_dir.js';

const records = [
  { step: 100, epoch: 1, seconds: 20, testAccuracy: 0.97 },
  { step: 200, epoch: 1, seconds: 35, testAccuracy: 0.985 },
  { step: 300, epoch: 1, seconds: 50, testAccuracy: 0.984 },
  { step: 400, epoch: 2, seconds: 65, testAccuracy: 0.99 },
];

test('firstCrossing: the first evaluation at or above the target, the one before it, and no interpolation', () => {
  assert.deepEqual(firstCrossing(records, 0.985), { seconds: 35, step: 200, epoch: 1, testAccuracy: 0.985, before: 20 }, 'equal to the target counts');
  assert.deepEqual(firstCrossing(records, 0.986), { seconds: 65, step: 400, epoch: 2, testAccuracy: 0.99, before: 50 }, 'a dip after a lower peak: the later crossing');
  assert.equal(firstCrossing(records, 0.5)!.before, null, 'reached at the first evaluation: nothing before it');
  assert.equal(firstCrossing(records, 0.995), null);
  assert.equal(firstCrossing([], 0.5), null);
});

test('firstCrossing: a clock that goes back, and a target outside (0, 1], are refused', () => {
  assert.throws(() => firstCrossing([records[1]!, records[0]!], 0.99), /record 2 \(step 100\) is at 20 s, before the previous one \(35 s\): not one clock/);
  assert.throws(() => firstCrossing(records, 98.5), /expected a target in \(0, 1\], got 98.5/);
  assert.throws(() => firstCrossing(records, 0), /got 0/);
});

const line = (over: Record<string, unknown> = {}): string => JSON.stringify({
  step: 1, epoch: 1, samples: 128, seconds: 3, wallSeconds: 3, testAccuracy: 0.5, evalSeconds: 1, settleSeconds: 0, startSeconds: 2, firstEpoch: 1, ...over,
}) + '\n';

test('readEvals: the records of a run; a missing file, a bad line or a resumed run named', () => {
  const dir = tempDir('al-evals-read-');
  assert.throws(() => readEvals(dir), (e: Error) => e instanceof AnalysisError && /evals\.jsonl: cannot read the run's evaluations \(ENOENT\); al train --eval-every N writes them/.test(e.message));
  writeFileSync(join(dir, 'evals.jsonl'), line() + line({ step: 2, seconds: 4 }));
  assert.deepEqual(readEvals(dir).map((r) => r.step), [1, 2]);
  writeFileSync(join(dir, 'evals.jsonl'), line() + '{"step": 2\n');
  assert.throws(() => readEvals(dir), /line 2: not JSON/);
  writeFileSync(join(dir, 'evals.jsonl'), line({ seconds: 'soon' }));
  assert.throws(() => readEvals(dir), /line 1: expected a number for 'seconds', got "soon"/);
  writeFileSync(join(dir, 'evals.jsonl'), line() + line({ step: 9, epoch: 3, seconds: 1, firstEpoch: 3 }));
  assert.throws(() => readEvals(dir), /resumed at epoch 3, so its clock restarted/);
});
