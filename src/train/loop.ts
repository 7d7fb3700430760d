// The epoch loop every training method shares, sequential or pipelined (through a StepDriver):
// seeded batches, a step per batch, NaN checks, progress callbacks, test accuracy after each
// epoch, and a clean stop between batches. Only finished epochs are reported (and so
// checkpointed): a resumed run starts at an epoch boundary.
import { backend, hasBackend } from '../backend/backend.js';
import type { Dataset, Split } from '../data/dataset.js';
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
   * Checked between batches, and between the evaluations a step runs for earlier steps (afterStep):
   * true stops after the current batch, with no further evaluation. An epoch stopped before its
   * last batch is dropped: no metrics, no onEpoch, so nothing claims it finished. A predicate:
   * how often it is asked is the loop's business.
   */
  shouldStop?: () => boolean;
  /**
   * Awaited after every step, before the stop check (test evaluations between steps:
   * eval_schedule.ts). `settle` brings the model `testAccuracy` reads up to this step (the
   * driver's settle): nothing to do for a sequential learner; a pipeline drains and collects the
   * stages' state, which stalls it, so call it only when evaluating. With a driver that takes
   * snapshots, a step evaluatesAfter names is awaited `lag` steps late (after the later step's
   * feed, before its own afterStep), and its `settle` loads the snapshot instead. Resolves to the
   * milliseconds to leave out of the epoch's time (an evaluation's), if any.
   */
  afterStep?: (at: StepPoint, settle: () => Promise<void>) => void | number | Promise<void | number>;
  /**
   * The steps afterStep evaluates at by their number (eval_schedule.ts, due). A driver that takes
   * snapshots (a pipeline) is told at the feed, so that it can evaluate without a drain.
   */
  evaluatesAfter?: (step: number) => boolean;
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

/** One batch's result as a driver hands it to the loop; correct is null where a method does not measure it. */
export interface BatchOutcome {
  loss: number;
  correct: number | null;
  layers?: { associatedLoss: number; autoencoderLoss: number }[] | undefined;
}

/**
 * What the epoch loop drives: a learner stepping batch by batch (learnerDriver), or a pipeline
 * that takes batches in and hands their results out later (pipeline/runtime/run_pipelined.ts).
 * Results go to `report`, one per batch, in the order the batches were fed.
 */
export interface StepDriver {
  /** Begins the 0-based `epoch` of `epochs`; every batch of it reports through `report`. */
  beginEpoch(epoch: number, epochs: number, report: (outcome: BatchOutcome) => void): void;
  /**
   * Trains on one batch, `batch` its 1-based number in the epoch; the buffers may move. `mark`:
   * the model after this batch will be evaluated (see snapshot).
   */
  feed(x: Float32Array, shape: number[], labels: Int32Array, batch: number, mark?: boolean): void | Promise<void>;
  /**
   * Returns once every batch fed so far has reported (a pipeline drains and collects its stages);
   * `last`: no batch follows in this loop (its last epoch, or a stop)
   */
  endEpoch(last: boolean): void | Promise<void>;
  testAccuracy(split: Split): number;
  /** the learning rate an epoch's metrics report, read after its endEpoch and testAccuracy */
  lr(): number;
  /** metrics of the method's own, appended to each epoch's (a pipeline's stage utilisation) */
  epochExtras?(seconds: number, batches: number): Record<string, unknown>;
  /** called once as the loop ends, however it ends */
  finish?(): void;
  /**
   * Brings the model testAccuracy reads up to every batch fed so far, mid-epoch (a pipeline drains
   * and collects, which stalls it); a sequential learner is always up to date.
   */
  settle?(): Promise<void>;
  /**
   * Brings the model testAccuracy reads to where it stood after the oldest batch fed with `mark`
   * not yet evaluated, without a drain (a pipeline's stages hold meanwhile). The loop calls it
   * `lag` steps after that batch, when every stage has trained on it.
   */
  snapshot?(): Promise<void>;
  lag?: number;
}

/** A sequential learner as a step driver: each batch steps at once, and so reports at once. */
export function learnerDriver(learner: Learner): StepDriver {
  let lr = Number.NaN, epoch = 0, report: (outcome: BatchOutcome) => void = () => {};
  return {
    beginEpoch(e, epochs, onResult) {
      epoch = e;
      report = onResult;
      lr = learner.setEpoch(e, epochs);
    },
    feed(x, shape, labels, batch) {
      let step: StepResult;
      try {
        step = learner.step(new Tensor(x, shape), labels);
      } catch (error) {
        if (error instanceof TrainingError) throw new TrainingError(`epoch ${epoch + 1}, batch ${batch}: ${error.message}`);
        throw error;
      }
      report(step);
    },
    endEpoch() {},
    testAccuracy: (split) => learner.testAccuracy(split),
    lr: () => lr,
  };
}

/** Trains a sequential learner for options.epochs epochs: the step loop (runStepLoop) over learnerDriver. */
export function runEpochs(learner: Learner, data: Dataset, options: LoopOptions): Promise<EpochMetrics[]> {
  return runStepLoop(learnerDriver(learner), data, options, 'runEpochs');
}

/** The running sums of one epoch, fed by the driver's reports. */
class EpochSums {
  lossSum = 0;
  correct = 0;
  seen = 0;
  reported = 0;
  measuredAccuracy = true;
  failure: TrainingError | null = null;
  readonly layers = new LayerLossSums();
  readonly start = performance.now();
  /** time spent outside training (evaluations between steps), left out of the epoch's seconds */
  pausedMs = 0;

  constructor(private readonly epoch: number) {}

  /** Adds a batch; a non-finite loss becomes the epoch's failure, and nothing after it counts. */
  add(outcome: BatchOutcome, size: number): boolean {
    if (this.failure) return false;
    if (!Number.isFinite(outcome.loss)) {
      this.failure = new TrainingError(`loss became ${outcome.loss} at epoch ${this.epoch + 1}, batch ${this.reported + 1}: lower --lr or check the data`);
      return false;
    }
    this.lossSum += outcome.loss * size;
    this.seen += size;
    this.layers.add(outcome.layers, size);
    if (outcome.correct === null) this.measuredAccuracy = false;
    else this.correct += outcome.correct;
    this.reported++;
    return true;
  }

  get accuracy(): number {
    return this.measuredAccuracy ? this.correct / Math.max(this.seen, 1) : Number.NaN;
  }

  seconds(): number {
    return (performance.now() - this.start - this.pausedMs) / 1000;
  }
}

/**
 * The epoch loop of every method, sequential or pipelined. Async so that it yields to the event
 * loop after every batch: a synchronous loop would hold back signal handlers, and Ctrl-C (SIGINT)
 * must be able to ask for a stop between batches. A stopped epoch still ends (a pipeline drains,
 * so that every stage ends on the same batch), but only a finished one is reported.
 */
export async function runStepLoop(driver: StepDriver, data: Dataset, options: LoopOptions, owner = 'runStepLoop'): Promise<EpochMetrics[]> {
  const batches = new BatchIterator(data.train, options.batchSize, options.rng, { shuffle: options.shuffle ?? true, dropLast: false });
  const history: EpochMetrics[] = [];
  const first = firstEpoch(owner, options);
  try {
    for (let epoch = first; epoch < options.epochs; epoch++) {
      const sums = new EpochSums(epoch);
      const fed = await feedEpoch(driver, data, batches, epoch, sums, options);
      await driver.endEpoch(epoch === options.epochs - 1 || fed < batches.batchesPerEpoch);
      if (sums.failure) throw sums.failure;
      if (fed < batches.batchesPerEpoch) break; // stopped mid-epoch
      const seconds = sums.seconds();
      const metrics: EpochMetrics = {
        epoch: epoch + 1,
        trainLoss: sums.lossSum / Math.max(sums.seen, 1),
        trainAccuracy: sums.accuracy,
        testAccuracy: (options.testAccuracy ?? ((split: Split) => driver.testAccuracy(split)))(data.test),
        samplesPerSec: sums.seen / seconds,
        seconds,
        lr: driver.lr(),
        ...(sums.layers.means() ? { layers: sums.layers.means() } : {}),
        ...driver.epochExtras?.(seconds, sums.reported),
      };
      history.push(metrics);
      options.onEpoch?.(metrics);
      releaseEpochMemory();
      if (options.shouldStop?.()) break;
    }
  } finally {
    driver.finish?.();
  }
  return history;
}

/** Feeds one epoch's batches until they end or a stop is asked for; returns how many went in. */
async function feedEpoch(driver: StepDriver, data: Dataset, batches: BatchIterator, epoch: number, sums: EpochSums, options: LoopOptions): Promise<number> {
  const sizes: number[] = [];
  let fedSamples = 0;
  // Steps afterStep will evaluate at, whose batches went in marked: each is evaluated from the
  // driver's snapshot `lag` steps later (or at the epoch's end). A drain overtakes them.
  const pending: StepPoint[] = [];
  const lag = driver.lag ?? 0;
  const settle = async (): Promise<void> => {
    pending.length = 0;
    await driver.settle?.();
    if (sums.failure) throw sums.failure;
  };
  // afterStep at a marked step gets the snapshot as its settle, taken once; taken even if afterStep
  // does not ask for it, since the stages hold for it
  const afterMarked = async (at: StepPoint): Promise<number> => {
    let taken: Promise<void> | null = null;
    const snapshot = (): Promise<void> => (taken ??= driver.snapshot!().then(() => {
      if (sums.failure) throw sums.failure;
    }));
    const paused = (await options.afterStep!(at, snapshot)) ?? 0;
    await snapshot();
    return paused;
  };
  driver.beginEpoch(epoch, options.epochs, (outcome) => {
    const size = sizes[sums.reported]!;
    if (!sums.add(outcome, size)) return;
    options.onBatch?.({
      epoch, batch: sums.reported, batches: batches.batchesPerEpoch, samples: sums.seen, loss: sums.lossSum / sums.seen,
      accuracy: sums.measuredAccuracy ? sums.correct / sums.seen : Number.NaN, seconds: sums.seconds(), layers: sums.layers.means(),
      last: { size, loss: outcome.loss, correct: outcome.correct ?? Number.NaN, layers: outcome.layers },
    });
  });
  for (const batch of batches.epoch()) {
    sizes.push(batch.size);
    // Augmentation draws from the same Rng as the shuffle: one state to save and restore. It runs
    // here, on the coordinator of a pipeline, off the stages' threads.
    const x = data.augment ? data.augment.apply(batch.x, batch.size, options.rng) : batch.x;
    const step = epoch * batches.batchesPerEpoch + sizes.length;
    const mark = driver.snapshot !== undefined && options.afterStep !== undefined && (options.evaluatesAfter?.(step) ?? false);
    await driver.feed(x, [batch.size, ...data.train.shape], batch.labels, sizes.length, mark);
    if (sums.failure) throw sums.failure;
    fedSamples += batch.size;
    if (options.afterStep) {
      const at = { step, epoch, samples: epoch * data.train.n + fedSamples };
      const last = sizes.length === batches.batchesPerEpoch;
      // the marked steps first, in order, so that the schedule sees its steps rise; none after one that stops the run
      let stopping = false;
      while (!stopping && pending.length > 0 && (last || step - pending[0]!.step >= lag)) {
        sums.pausedMs += await afterMarked(pending.shift()!);
        stopping = options.shouldStop?.() ?? false;
      }
      if (stopping) pending.length = 0;
      else if (mark && !last && lag > 0) pending.push(at);
      else sums.pausedMs += mark ? await afterMarked(at) : ((await options.afterStep(at, settle)) ?? 0);
    }
    await yieldToEventLoop();
    if (options.shouldStop?.()) break;
  }
  return sizes.length;
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
