// The epoch loop every training method shares: seeded batches, a step per batch, NaN checks,
// progress callbacks, test accuracy after each epoch, and a clean stop between batches. Only
// finished epochs are reported (and so checkpointed): a resumed run starts at an epoch boundary.
import { backend, hasBackend } from '../backend/backend.js';
import type { Dataset, Split } from '../data/mnist.js';
import { BatchIterator } from '../data/batches.js';
import type { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { TrainingError } from './errors.js';

/** What one method (BP, AL, ...) does with a batch. */
export interface Learner {
  readonly method: string;
  /** Sets the learning rates of a 0-based epoch of `epochs`; returns the main rate, for the logs. */
  setEpoch(epoch: number, epochs: number): number;
  /** Trains on one batch; throws a TrainingError (naming what went bad) on a non-finite loss. */
  step(x: Tensor, labels: Int32Array): StepResult;
  testAccuracy(split: Split): number;
}

export interface StepResult {
  loss: number;
  correct: number;
  /** per-layer losses of AL methods */
  layers?: { associatedLoss: number; autoencoderLoss: number }[];
}

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
  samplesPerSec: number;
  seconds: number;
  lr: number;
  layers?: { associatedLoss: number; autoencoderLoss: number }[];
}

export interface BatchProgress {
  epoch: number;
  batch: number;
  batches: number;
  samples: number;
  loss: number;
  accuracy: number;
  seconds: number;
  layers?: { associatedLoss: number; autoencoderLoss: number }[];
  /** the batch just trained alone (the other fields are running means over the epoch) */
  last: BatchResult;
}

/** One batch's own results; correct is NaN where a method does not measure it. */
export interface BatchResult {
  size: number;
  loss: number;
  correct: number;
  layers?: { associatedLoss: number; autoencoderLoss: number }[] | undefined;
}

export interface LoopOptions {
  /** total epochs of the run, the learning-rate schedule's horizon */
  epochs: number;
  /** 0-based epoch to start with: the finished epochs of a resumed run (default 0) */
  startEpoch?: number;
  batchSize: number;
  /** a new sample order every epoch (default true); false keeps the stored order, as the authors' code does */
  shuffle?: boolean;
  rng: Rng;
  onBatch?: (p: BatchProgress) => void;
  onEpoch?: (m: EpochMetrics) => void;
  /**
   * Checked between batches: true stops after the current batch. An epoch stopped before its last
   * batch is dropped: no metrics, no onEpoch, so nothing claims it finished.
   */
  shouldStop?: () => boolean;
  /**
   * Awaited after every step, before the stop check (test evaluations between steps:
   * eval_schedule.ts). `settle` brings the model `testAccuracy` reads up to this step: nothing to
   * do in this loop; the pipelined loop drains the pipeline and collects the stages' state, which
   * stalls it, so call it only when evaluating. Resolves to the milliseconds to leave out of the
   * epoch's time (an evaluation's), if any.
   */
  afterStep?: (at: StepPoint, settle: () => Promise<void>) => void | number | Promise<void | number>;
  /** test accuracy after each epoch (default: the learner's); a wrapper may time or cache it */
  testAccuracy?: (split: Split) => number;
}

/** Where a run stands after a step, resumed epochs included. */
export interface StepPoint {
  /** steps (batches) trained since the run began */
  step: number;
  /** the 0-based epoch in progress */
  epoch: number;
  /** training samples since the run began */
  samples: number;
}

const settled = (): Promise<void> => Promise.resolve();

/** Running means of per-layer losses, weighted by batch size. */
export class LayerLossSums {
  private readonly sums: { associatedLoss: number; autoencoderLoss: number }[] = [];
  private weight = 0;

  add(layers: StepResult['layers'], weight: number): void {
    if (!layers) return;
    layers.forEach((l, i) => {
      const sum = (this.sums[i] ??= { associatedLoss: 0, autoencoderLoss: 0 });
      sum.associatedLoss += l.associatedLoss * weight;
      sum.autoencoderLoss += l.autoencoderLoss * weight;
    });
    this.weight += weight;
  }

  /** undefined when no layer losses were added (BP) */
  means(): EpochMetrics['layers'] {
    if (this.sums.length === 0) return undefined;
    return this.sums.map((l) => ({ associatedLoss: l.associatedLoss / this.weight, autoencoderLoss: l.autoencoderLoss / this.weight }));
  }
}

/**
 * Trains for options.epochs epochs. Async only so that it can yield to the event loop after
 * every batch: a synchronous loop would hold back signal handlers, and Ctrl-C (SIGINT) must be
 * able to ask for a stop between batches.
 */
export async function runEpochs(learner: Learner, data: Dataset, options: LoopOptions): Promise<EpochMetrics[]> {
  const batches = new BatchIterator(data.train, options.batchSize, options.rng, { shuffle: options.shuffle ?? true, dropLast: false });
  const history: EpochMetrics[] = [];
  const shape = data.train.shape;
  const first = firstEpoch('runEpochs', options);
  for (let epoch = first; epoch < options.epochs; epoch++) {
    const lr = learner.setEpoch(epoch, options.epochs);
    const start = performance.now();
    let lossSum = 0, correct = 0, seen = 0, index = 0, pausedMs = 0;
    const layerSums = new LayerLossSums();
    for (const batch of batches.epoch()) {
      let step: StepResult;
      try {
        // Augmentation draws from the same Rng as the shuffle: one state to save and restore.
        const x = data.augment ? data.augment.apply(batch.x, batch.size, options.rng) : batch.x;
        step = learner.step(new Tensor(x, [batch.size, ...shape]), batch.labels);
      } catch (error) {
        if (error instanceof TrainingError) throw new TrainingError(`epoch ${epoch + 1}, batch ${index + 1}: ${error.message}`);
        throw error;
      }
      if (!Number.isFinite(step.loss)) {
        throw new TrainingError(`loss became ${step.loss} at epoch ${epoch + 1}, batch ${index + 1}: lower --lr or check the data`);
      }
      lossSum += step.loss * batch.size;
      correct += step.correct;
      seen += batch.size;
      layerSums.add(step.layers, batch.size);
      index++;
      options.onBatch?.({
        epoch, batch: index, batches: batches.batchesPerEpoch, samples: seen,
        loss: lossSum / seen, accuracy: correct / seen, seconds: (performance.now() - start - pausedMs) / 1000, layers: layerSums.means(),
        last: { size: batch.size, loss: step.loss, correct: step.correct, layers: step.layers },
      });
      pausedMs += (await options.afterStep?.({ step: epoch * batches.batchesPerEpoch + index, epoch, samples: epoch * data.train.n + seen }, settled)) ?? 0;
      await yieldToEventLoop();
      if (options.shouldStop?.()) break;
    }
    if (index < batches.batchesPerEpoch) break; // stopped mid-epoch
    const seconds = (performance.now() - start - pausedMs) / 1000;
    const metrics: EpochMetrics = {
      epoch: epoch + 1,
      trainLoss: lossSum / Math.max(seen, 1),
      trainAccuracy: correct / Math.max(seen, 1),
      testAccuracy: options.testAccuracy ? options.testAccuracy(data.test) : learner.testAccuracy(data.test),
      samplesPerSec: seen / seconds,
      seconds,
      lr,
      ...(layerSums.means() ? { layers: layerSums.means() } : {}),
    };
    history.push(metrics);
    options.onEpoch?.(metrics);
    releaseEpochMemory();
    if (options.shouldStop?.()) break;
  }
  return history;
}

/**
 * Called after each epoch's onEpoch (metrics, checkpoint): the memory that the epoch's end
 * allocated and freed goes back to the system instead of staying in the allocator's heaps, so
 * that a long run's resident set stays flat (native/addon.cc, releaseFreeMemory, has the figures).
 */
export function releaseEpochMemory(): void {
  if (hasBackend()) backend().releaseFreeMemory();
}

/** The 0-based epoch a loop starts from (after a resume), checked against the run's epochs. */
export function firstEpoch(owner: string, options: Pick<LoopOptions, 'startEpoch' | 'epochs'>): number {
  const first = options.startEpoch ?? 0;
  if (!Number.isInteger(first) || first < 0 || first > options.epochs) {
    throw new RangeError(`${owner}: startEpoch: expected an integer from 0 to ${options.epochs}, got ${first}`);
  }
  return first;
}

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
