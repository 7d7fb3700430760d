// The --project timing: how many steps it times, what a step is (augmentation, then the
// learner's step on the batch's shape), and the epoch arithmetic; with a learner that counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BatchAugmentation } from '../../../src/data/augment.js';
import { cpuShare, epochSeconds, timeSteps, type StepTiming, type StepTimingOptions } from '../../../src/bench/epoch_time.js';
import type { Learner, StepResult } from '../../../src/train/loop.js';
import type { Split } from '../../../src/data/dataset.js';
import type { Tensor } from '../../../src/tensor/tensor.js';
import type { Rng } from '../../../src/tensor/rng.js';

class CountingLearner implements Learner {
  readonly method = 'count';
  steps: { shape: number[]; first: number; labels: number }[] = [];
  epochs: [number, number][] = [];
  evaluated: number[] = [];
  setEpoch(epoch: number, epochs: number): number {
    this.epochs.push([epoch, epochs]);
    return 0;
  }
  step(x: Tensor, labels: Int32Array): StepResult {
    this.steps.push({ shape: [...x.shape], first: x.data[0]!, labels: labels.length });
    return { loss: 0, correct: 0 };
  }
  testAccuracy(split: Split): number {
    this.evaluated.push(split.n);
    return 0;
  }
}

const options: StepTimingOptions = { batch: 4, warmup: 1, maxSteps: 5, maxSeconds: 60, minSteps: 5, evalSamples: 7, seed: 3 };

test('timeSteps: warm-up plus exactly the steps asked, on batches of the shape, and one timed evaluation', () => {
  const learner = new CountingLearner();
  const timing = timeSteps(learner, [2, 2, 3], 10, undefined, options);
  assert.equal(timing.steps, 5);
  assert.equal(learner.steps.length, 6, 'one untimed step, then five');
  assert.deepEqual(learner.steps.map((s) => s.shape), Array(6).fill([4, 2, 2, 3]));
  assert.ok(learner.steps.every((s) => s.labels === 4));
  assert.deepEqual(learner.epochs, [[0, 1]], 'the first epoch\'s learning rates');
  assert.deepEqual(learner.evaluated, [7]);
  assert.equal(timing.trainSamplesPerSec, (5 * 4) / timing.seconds);
  assert.ok(timing.seconds > 0 && timing.cpuSeconds >= 0 && timing.evalSamplesPerSec > 0);
});

test('timeSteps: the augmentation runs on every batch before the step; maxSeconds ends the timing after minSteps', () => {
  const learner = new CountingLearner();
  const augmented: number[] = [];
  const augment: BatchAugmentation = {
    description: 'marks the batch',
    apply: (x: Float32Array, n: number, _rng: Rng) => {
      augmented.push(n);
      return new Float32Array(x.length).fill(-1);
    },
  };
  const timing = timeSteps(learner, [2, 2, 3], 10, augment, { ...options, maxSteps: 1000, minSteps: 2, maxSeconds: 0 });
  assert.equal(timing.steps, 2, 'no time left after the minimum');
  assert.deepEqual(augmented, [4, 4, 4]);
  assert.ok(learner.steps.every((s) => s.first === -1), 'the learner sees the augmented batch');
  assert.throws(() => timeSteps(learner, [2, 2, 3], 10, undefined, { ...options, minSteps: 3, maxSteps: 2 }), /expected 1 <= minSteps <= maxSteps, got 3 and 2/);
});

test('epochSeconds and cpuShare: the training set at the training rate plus the test set at the evaluation rate', () => {
  const timing: StepTiming = { steps: 10, seconds: 4, cpuSeconds: 6, trainSamplesPerSec: 250, evalSamplesPerSec: 1000 };
  assert.equal(epochSeconds(timing, 50_000, 10_000), 200 + 10);
  assert.equal(cpuShare(timing, 2), 0.75);
  assert.equal(cpuShare(timing, 1), 1.5);
});
