// Test evaluations between steps on the training clock: due every N steps, the evaluation's time
// left out of the clock, a pipeline's settling counted in it, one evaluation per step (the epoch's
// own reuses it), the stops at a target and at a time budget, and the loop's hooks in runEpochs.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Dataset, Split } from '../../../src/data/dataset.js';
import { Rng } from '../../../src/tensor/rng.js';
import { EVALS_FILE, EvalSchedule, type EvalRecord, type EvalScheduleOptions } from '../../../src/train/eval_schedule.js';
import { runEpochs, type Learner } from '../../../src/train/loop.js';
import { RunDir } from '../../../src/train/run_dir.js';
import { tempDir } from '../../util/temp_dir.js';

const split = (n: number): Split => ({ images: new Float32Array(n * 4), labels: new Int32Array(n), n, shape: [2, 2, 1], classes: 2 });

/** A schedule on a clock the test moves: training steps take `stepMs`, evaluations `evalMs`, settling `settleMs`. */
function scripted(accuracies: number[], options: Partial<EvalScheduleOptions> = {}, costs = { evalMs: 500, settleMs: 0 }) {
  let now = 2000; // 2 s of start-up
  const lines: EvalRecord[] = [];
  const test = split(3);
  let calls = 0;
  const schedule = new EvalSchedule({
    firstEpoch: 1, test, clock: () => now, write: (line) => lines.push(JSON.parse(line) as EvalRecord),
    evaluate: () => {
      now += costs.evalMs;
      return accuracies[calls++] ?? 0;
    },
    ...options,
  });
  const settle = async (): Promise<void> => {
    now += costs.settleMs;
  };
  return { schedule, lines, test, settle, advance: (ms: number) => (now += ms), evaluations: () => calls };
}

test('every N steps: the clock is the wall time since start minus the evaluations before, and evalSeconds sums them', async () => {
  const s = scripted([0.5, 0.6, 0.7], { every: 2 });
  s.schedule.onBatch({ seconds: 0.1 }); // the first step began 0.1 s before the clock read 2 s
  for (let step = 1; step <= 6; step++) {
    s.advance(1000);
    const paused = await s.schedule.afterStep({ step, epoch: 0, samples: 4 * step }, s.settle);
    assert.equal(paused, step % 2 === 0 ? 500 : 0, `step ${step}: the evaluation's ms, for the epoch's time`);
  }
  assert.deepEqual(s.lines.map((r) => [r.step, r.seconds, r.wallSeconds, r.evalSeconds, r.testAccuracy]), [
    [2, 4, 4, 0.5, 0.5], [4, 6, 6.5, 1, 0.6], [6, 8, 9, 1.5, 0.7],
  ]);
  assert.ok(s.lines.every((r) => r.epoch === 1 && r.firstEpoch === 1 && Math.abs(r.startSeconds - 1.9) < 1e-9 && r.settleSeconds === 0));
  assert.equal(s.schedule.trainingSeconds(), 8, '9.5 s since start, 1.5 s of it evaluating');
  assert.equal(s.schedule.done, false);
});

test('settling before an evaluation (a pipeline\'s drain and collect) is counted in the clock and reported apart', async () => {
  const s = scripted([0.5], { every: 1 }, { evalMs: 300, settleMs: 700 });
  s.advance(1000);
  await s.schedule.afterStep({ step: 1, epoch: 0, samples: 4 }, s.settle);
  const [r] = s.lines;
  assert.equal(r!.seconds, 3.7, 'start-up 2 s + a step 1 s + settling 0.7 s');
  assert.equal(r!.settleSeconds, 0.7);
  assert.equal(r!.evalSeconds, 0.3);
  assert.equal(s.schedule.trainingSeconds(), 3.7);
});

test('the epoch\'s own evaluation at a step already evaluated reuses it; at another step it is timed and recorded', async () => {
  const s = scripted([0.5, 0.6], { every: 3 });
  for (let step = 1; step <= 3; step++) await s.schedule.afterStep({ step, epoch: 0, samples: 0 }, s.settle);
  assert.equal(s.schedule.testAccuracy(s.test), 0.5);
  assert.equal(s.evaluations(), 1);
  await s.schedule.afterStep({ step: 4, epoch: 1, samples: 0 }, s.settle);
  assert.equal(s.schedule.testAccuracy(s.test), 0.6);
  assert.deepEqual(s.lines.map((r) => [r.step, r.epoch]), [[3, 1], [4, 2]]);
  // another split is only passed through
  assert.equal(s.schedule.testAccuracy(split(2)), 0);
  assert.equal(s.lines.length, 2);
});

test('until a target: the first evaluation at or above it stops the run and is kept as reached', async () => {
  const s = scripted([0.97, 0.985, 0.99], { every: 1, untilAccuracy: 0.985 });
  for (let step = 1; step <= 2; step++) await s.schedule.afterStep({ step, epoch: 0, samples: 0 }, s.settle);
  assert.equal(s.schedule.stopReason, 'target', 'equal to the target counts');
  assert.equal(s.schedule.reached?.step, 2);
  assert.match(s.schedule.stopLine()!, /^reached 98\.50% test accuracy \(target 98\.50%\) at step 2, epoch 1, after .* s on the training clock .*: stopped$/);
  assert.equal(s.schedule.summary().evaluations, 2);
});

test('a time budget: once the clock passes it, one more evaluation, then stop', async () => {
  const s = scripted([0.4, 0.45], { every: 100, maxSeconds: 5 });
  const at = (step: number) => ({ step, epoch: 0, samples: 0 });
  for (let step = 1; step <= 2; step++) {
    s.advance(1000);
    await s.schedule.afterStep(at(step), s.settle);
  }
  assert.equal(s.lines.length, 0, 'under the budget and not due: nothing');
  s.advance(1000);
  await s.schedule.afterStep(at(3), s.settle);
  assert.equal(s.schedule.stopReason, 'time');
  assert.deepEqual(s.lines.map((r) => [r.step, r.seconds]), [[3, 5]]);
  assert.match(s.schedule.stopLine()!, /time budget of 5 s ran out at step 3/);
});

test('bad settings are refused with their value', () => {
  const base = { firstEpoch: 1, test: split(1), evaluate: () => 0, write: () => undefined };
  assert.throws(() => new EvalSchedule({ ...base, every: 0 }), /every: expected an integer >= 1, got 0/);
  assert.throws(() => new EvalSchedule({ ...base, untilAccuracy: 1.5 }), /untilAccuracy: expected a fraction in \(0, 1\], got 1.5/);
  assert.throws(() => new EvalSchedule({ ...base, maxSeconds: -1 }), /maxSeconds: expected a number > 0, got -1/);
});

test('open: a resumed run keeps the lines of the epochs before it and appends after them', async () => {
  const dir = tempDir('al-evals-');
  const run = new RunDir(dir);
  writeFileSync(run.file(EVALS_FILE), [1, 2, 3].map((epoch) => JSON.stringify({ step: epoch, epoch }) + '\n').join(''));
  const schedule = EvalSchedule.open(run, 2, { every: 1, test: split(1), evaluate: () => 0.25 });
  await schedule.afterStep({ step: 7, epoch: 2, samples: 0 }, () => Promise.resolve());
  const lines = readFileSync(run.file(EVALS_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvalRecord);
  assert.deepEqual(lines.map((l) => l.epoch), [1, 2, 3]);
  assert.equal(lines[2]!.firstEpoch, 3, 'the new process started with epoch 3');
  assert.equal(lines[2]!.testAccuracy, 0.25);
});

test('runEpochs: afterStep after every step with the run\'s step and samples, the epoch\'s time without the evaluations, testAccuracy replaced', async () => {
  const data: Dataset = { train: split(10), test: split(3) };
  const learner: Learner = { method: 'fake', setEpoch: () => 0.1, step: (_x, labels) => ({ loss: 1, correct: labels.length }), testAccuracy: () => 0.1 };
  const seen: [number, number, number][] = [];
  const history = await runEpochs(learner, data, {
    epochs: 2, batchSize: 4, rng: new Rng(1), startEpoch: 0,
    afterStep: (at) => {
      seen.push([at.step, at.epoch, at.samples]);
      const until = performance.now() + 50;
      while (performance.now() < until); // a 50 ms evaluation
      return 50;
    },
    testAccuracy: () => 0.75,
  });
  assert.deepEqual(seen, [[1, 0, 4], [2, 0, 8], [3, 0, 10], [4, 1, 14], [5, 1, 18], [6, 1, 20]]);
  assert.ok(history.every((m) => m.testAccuracy === 0.75));
  assert.ok(history.every((m) => m.seconds < 0.1), `3 evaluations of 50 ms an epoch are left out: ${history.map((m) => m.seconds).join(', ')} s`);
});
