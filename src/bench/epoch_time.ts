// How long an epoch of a run will take, from a few timed training steps on random data in the
// dataset's shape, before any real data is at hand: the projection `al reproduce --project`
// prints. A step is what the epoch loop (train/loop.ts) does per batch: the dataset's
// augmentation, then the learner's step; the epoch adds one pass over the test set, timed on a
// small random test split. Throughput does not depend on the values, only on the shapes.
import type { BatchAugmentation } from '../data/augment.js';
import { randomSplit } from '../data/synthetic.js';
import type { Learner } from '../train/loop.js';
import { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';

export interface StepTimingOptions {
  batch: number;
  /** untimed steps first: the first calls allocate and pick kernels */
  warmup: number;
  /** timing stops after this many steps ... */
  maxSteps: number;
  /** ... or once this many seconds of timed steps have passed, whichever comes first */
  maxSeconds: number;
  /** at least this many timed steps, however long they take */
  minSteps: number;
  /** test samples the evaluation is timed on */
  evalSamples: number;
  seed: number;
}

/** About 5 to 20 s a backbone on an idle 2-core machine: 40 steps of the MLP, 2 of VGG's AL. */
export const PROJECTION_TIMING: StepTimingOptions = { batch: 128, warmup: 1, maxSteps: 40, maxSeconds: 8, minSteps: 2, evalSamples: 500, seed: 1 };

export interface StepTiming {
  /** timed training steps, and their wall time */
  steps: number;
  seconds: number;
  /**
   * CPU time of the whole process (every compute thread) over the timed steps: on a machine
   * shared with other jobs, wall time grows with the load and CPU time much less
   */
  cpuSeconds: number;
  /** training samples per second over the timed steps (augmentation included) */
  trainSamplesPerSec: number;
  /** test-set samples per second of the learner's testAccuracy */
  evalSamplesPerSec: number;
}

/** Times `learner` on random batches of `shape`; the learner's weights are changed by it. */
export function timeSteps(learner: Learner, shape: [number, number, number], classes: number, augment: BatchAugmentation | undefined, options: StepTimingOptions): StepTiming {
  const { batch, warmup, maxSteps, maxSeconds, minSteps, evalSamples, seed } = options;
  if (!(minSteps >= 1 && maxSteps >= minSteps)) throw new RangeError(`timeSteps: expected 1 <= minSteps <= maxSteps, got ${minSteps} and ${maxSteps}`);
  const rng = new Rng(seed);
  // a few distinct batches, cycled: fresh values without generating a batch per step
  const pool = Array.from({ length: 4 }, (_, i) => randomSplit(batch, shape, classes, seed + i));
  const step = (i: number): void => {
    const { images, labels } = pool[i % pool.length]!;
    const x = augment ? augment.apply(images, batch, rng) : images;
    learner.step(new Tensor(x, [batch, ...shape]), labels);
  };
  learner.setEpoch(0, 1);
  for (let i = 0; i < warmup; i++) step(i);
  let steps = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  while (steps < minSteps || (steps < maxSteps && (performance.now() - start) / 1000 < maxSeconds)) step(warmup + steps++);
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const test = randomSplit(evalSamples, shape, classes, seed + pool.length);
  const evalStart = performance.now();
  learner.testAccuracy(test);
  const evalSeconds = (performance.now() - evalStart) / 1000;
  return { steps, seconds, cpuSeconds, trainSamplesPerSec: (steps * batch) / seconds, evalSamplesPerSec: evalSamples / evalSeconds };
}

/** Seconds of one epoch over `train` training and `test` test samples at the timed rates. */
export function epochSeconds(timing: StepTiming, train: number, test: number): number {
  return train / timing.trainSamplesPerSec + test / timing.evalSamplesPerSec;
}

/**
 * The share of `threads` cores the timed steps had: CPU time / (wall time × threads). Near 1 on
 * an idle machine; well below it when other jobs took the cores, and the timed rates are then
 * the loaded machine's. Not a factor to correct them by: under contention the compute threads
 * also burn CPU time waiting for each other (3x more per sample than idle, seen here at load 12).
 */
export function cpuShare(timing: StepTiming, threads: number): number {
  return timing.cpuSeconds / (timing.seconds * threads);
}
