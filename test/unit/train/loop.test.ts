// The shared epoch loop with a scripted learner: metrics, NaN handling with epoch and batch,
// per-layer loss means and stopping between batches; with a scripted driver, evaluations from
// snapshots a few steps late.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Dataset, Split } from '../../../src/data/dataset.js';
import { Rng } from '../../../src/tensor/rng.js';
import { TrainingError } from '../../../src/train/errors.js';
import { runEpochs, runStepLoop, type BatchProgress, type Learner, type StepDriver, type StepResult } from '../../../src/train/loop.js';

const split = (n: number): Split => ({ images: new Float32Array(n * 4), labels: new Int32Array(n), n, shape: [2, 2, 1], classes: 2 });
const data: Dataset = { train: split(10), test: split(3) };

function learner(losses: number[], extra: Partial<StepResult> = {}): Learner & { steps: number[] } {
  const steps: number[] = [];
  return {
    method: 'fake', steps,
    setEpoch: (epoch) => 0.1 / (epoch + 1),
    step: (x, labels) => {
      steps.push(x.shape[0]!);
      return { loss: losses[steps.length - 1] ?? 1, correct: labels.length, ...extra };
    },
    testAccuracy: () => 0.5,
  };
}

test('metrics per epoch: sample-weighted loss, accuracy, lr from setEpoch', async () => {
  const l = learner([1, 2, 3, 4, 5, 6], { layers: [{ associatedLoss: 2, autoencoderLoss: 4 }] });
  const last: BatchProgress['last'][] = [];
  const history = await runEpochs(l, data, { epochs: 2, batchSize: 4, rng: new Rng(1), onBatch: (p) => last.push(p.last) });
  assert.deepEqual(l.steps, [4, 4, 2, 4, 4, 2]);
  // onBatch also gets each batch's own result, beside the epoch's running means
  assert.deepEqual(last, [1, 2, 3, 4, 5, 6].map((loss, i) => ({ size: [4, 4, 2][i % 3], loss, correct: [4, 4, 2][i % 3], layers: [{ associatedLoss: 2, autoencoderLoss: 4 }] })));
  assert.equal(history.length, 2);
  assert.equal(history[0]!.trainLoss, (1 * 4 + 2 * 4 + 3 * 2) / 10);
  assert.equal(history[0]!.trainAccuracy, 1);
  assert.equal(history[1]!.lr, 0.05);
  assert.deepEqual(history[0]!.layers, [{ associatedLoss: 2, autoencoderLoss: 4 }]);
  assert.equal(history[0]!.testAccuracy, 0.5);
});

test('a non-finite loss stops with the epoch and batch', async () => {
  await assert.rejects(() => runEpochs(learner([1, 1, 1, 1, NaN]), data, { epochs: 2, batchSize: 4, rng: new Rng(1) }),
    (e: unknown) => e instanceof TrainingError && /loss became NaN at epoch 2, batch 2/.test(e.message));
});

test('a TrainingError from a step gets the epoch and batch in front', async () => {
  const l: Learner = { ...learner([]), step: () => { throw new TrainingError('AL layer 2: the autoencoder loss became Infinity'); } };
  await assert.rejects(() => runEpochs(l, data, { epochs: 1, batchSize: 4, rng: new Rng(1) }), /epoch 1, batch 1: AL layer 2: the autoencoder loss became Infinity/);
});

test('shouldStop ends the run after the current batch; an unfinished epoch is not reported', async () => {
  const l = learner([]);
  const epochs: number[] = [];
  const history = await runEpochs(l, data, { epochs: 3, batchSize: 4, rng: new Rng(1), shouldStop: () => l.steps.length >= 5, onEpoch: (m) => epochs.push(m.epoch) });
  assert.equal(l.steps.length, 5); // 3 batches an epoch: stopped after batch 2 of epoch 2
  assert.deepEqual(history.map((m) => m.epoch), [1]);
  assert.deepEqual(epochs, [1]);
  // a stop on the last batch of an epoch keeps that epoch
  const m = learner([]);
  const whole = await runEpochs(m, data, { epochs: 3, batchSize: 4, rng: new Rng(1), shouldStop: () => m.steps.length >= 6 });
  assert.deepEqual(whole.map((e) => e.epoch), [1, 2]);
});

test('startEpoch continues a run: later epochs only, with their learning rates', async () => {
  const l = learner([]);
  const history = await runEpochs(l, data, { epochs: 3, startEpoch: 2, batchSize: 4, rng: new Rng(1) });
  assert.deepEqual(history.map((e) => [e.epoch, e.lr]), [[3, 0.1 / 3]]);
  assert.equal(l.steps.length, 3);
  await assert.rejects(() => runEpochs(l, data, { epochs: 3, startEpoch: 4, batchSize: 4, rng: new Rng(1) }), /startEpoch: expected an integer from 0 to 3, got 4/);
});

test('a dataset augmentation transforms every training batch, drawing from the run\'s Rng', async () => {
  const seen: number[][] = [];
  const calls: number[] = [];
  const base = { train: { ...split(6), images: Float32Array.from({ length: 24 }, (_, k) => k) }, test: split(3) };
  const augmented: Dataset = {
    ...base,
    augment: {
      description: 'negate',
      apply: (x, n, rng) => {
        calls.push(n, rng.int(1000));
        return x.map((v) => -v - 1);
      },
    },
  };
  const l: Learner = { ...learner([]), step: (x, labels) => {
    seen.push([...x.data]);
    return { loss: 1, correct: labels.length };
  } };
  await runEpochs(l, augmented, { epochs: 1, batchSize: 4, rng: new Rng(1) });
  assert.deepEqual(calls.filter((_, k) => k % 2 === 0), [4, 2]);
  assert.ok(seen.flat().every((v) => v < 0), 'the learner saw un-augmented values');
  assert.deepEqual(seen.flat().map((v) => -v - 1).sort((a, b) => a - b), Array.from({ length: 24 }, (_, k) => k));
  // The same seed replays the same shuffles and draws.
  const again: number[] = [];
  await runEpochs(l, { ...augmented, augment: { description: 'd', apply: (x, _n, rng) => { again.push(rng.int(1000)); return x; } } }, { epochs: 1, batchSize: 4, rng: new Rng(1) });
  assert.deepEqual(again, calls.filter((_, k) => k % 2 === 1));
});

test('shuffle false: every epoch in the stored order, the Rng untouched; by default a new order each epoch', async () => {
  const labelled: Dataset = { train: { ...split(10), labels: Int32Array.from({ length: 10 }, (_, i) => i) }, test: split(3) };
  const seen = async (shuffle: boolean | undefined, rng: Rng): Promise<number[][]> => {
    const epochs: number[][] = [[], []];
    let epoch = 0;
    const l: Learner = {
      method: 'fake', setEpoch: (e) => { epoch = e; return 0.1; },
      step: (_x, labels) => { epochs[epoch]!.push(...labels); return { loss: 1, correct: 0 }; },
      testAccuracy: () => 0,
    };
    await runEpochs(l, labelled, { epochs: 2, batchSize: 4, rng, ...(shuffle === undefined ? {} : { shuffle }) });
    return epochs;
  };
  const rng = new Rng(7), untouched = new Rng(7);
  const stored = Array.from({ length: 10 }, (_, i) => i);
  assert.deepEqual(await seen(false, rng), [stored, stored]);
  assert.equal(rng.next(), untouched.next(), 'no draw from the Rng');
  const shuffled = await seen(undefined, new Rng(7));
  assert.notDeepEqual(shuffled[0], stored);
  assert.notDeepEqual(shuffled[0], shuffled[1]);
  assert.deepEqual([...shuffled[0]!].sort((a, b) => a - b), stored);
});

/** A driver that steps at once and logs its feeds, settles and snapshots; `snapshots`: it takes them, `lag` steps late. */
function loggingDriver(log: string[], snapshots: boolean, lag = 2): StepDriver {
  let report: (o: { loss: number; correct: number }) => void = () => {};
  return {
    beginEpoch: (_e, _n, onResult) => { report = onResult; },
    feed: (_x, _shape, labels, batch, mark) => {
      log.push(`feed ${batch}${mark === true ? ' marked' : ''}`);
      report({ loss: 1, correct: labels.length });
    },
    endEpoch: () => { log.push('end'); },
    testAccuracy: () => 0.5,
    lr: () => 0.1,
    settle: () => { log.push('settle'); return Promise.resolve(); },
    ...(snapshots ? { snapshot: () => { log.push('snapshot'); return Promise.resolve(); }, lag } : {}),
  };
}

test('evaluations of marked steps come lag steps late from snapshots, in order; a settle drops those pending; the epoch\'s end evaluates the rest', async () => {
  const run = async (snapshots: boolean): Promise<string[]> => {
    const log: string[] = [];
    await runStepLoop(loggingDriver(log, snapshots), data, {
      epochs: 1, batchSize: 2, rng: new Rng(1),
      // steps 1, 2, 4 and 5 are scheduled; step 3 evaluates unscheduled (a time budget spent)
      evaluatesAfter: (step) => step !== 3,
      afterStep: async (at, settle) => {
        await settle();
        log.push(`evaluate ${at.step}`);
      },
    });
    return log;
  };
  assert.deepEqual(await run(true), [
    'feed 1 marked', 'feed 2 marked', 'feed 3', 'snapshot', 'evaluate 1', 'settle', 'evaluate 3',
    'feed 4 marked', 'feed 5 marked', 'snapshot', 'evaluate 4', 'snapshot', 'evaluate 5', 'end',
  ]);
  // a driver without snapshots settles at every step evaluated, and gets no marks
  assert.deepEqual(await run(false), [1, 2, 3, 4, 5].flatMap((s) => [`feed ${s}`, 'settle', `evaluate ${s}`]).concat('end'));
});

test('an evaluation that stops the run (a target reached) is the last: the steps still pending are not evaluated', async () => {
  const log: string[] = [];
  await runStepLoop(loggingDriver(log, true), data, {
    epochs: 1, batchSize: 2, rng: new Rng(1), evaluatesAfter: () => true,
    afterStep: async (at, settle) => {
      await settle();
      log.push(`evaluate ${at.step}`);
    },
    shouldStop: () => log.includes('evaluate 1'),
  });
  assert.deepEqual(log, ['feed 1 marked', 'feed 2 marked', 'feed 3 marked', 'snapshot', 'evaluate 1', 'end']);
});

test('a marked step whose afterStep does not settle still takes its snapshot, once, so the stages do not hold for it', async () => {
  const log: string[] = [];
  await runStepLoop(loggingDriver(log, true, 1), { train: split(4), test: split(1) }, {
    epochs: 1, batchSize: 2, rng: new Rng(1), evaluatesAfter: () => true,
    afterStep: async (at, settle) => {
      if (at.step === 2) {
        await settle();
        await settle();
      }
      log.push(`after ${at.step}`);
    },
  });
  assert.deepEqual(log, ['feed 1 marked', 'feed 2 marked', 'after 1', 'snapshot', 'snapshot', 'after 2', 'end']);
});
