// steps.jsonl: one line every N training steps, so that a short run still draws curves (the
// epoch metrics give one point per epoch). Each line sums up the N steps since the previous one:
// their mean loss, accuracy and per-layer losses, and their throughput. Lines carry the epoch in
// progress, so a resumed run drops the lines past its checkpoint as it does for metrics.jsonl.
import { appendFileSync } from 'node:fs';
import type { BatchProgress } from './loop.js';

export const STEPS_FILE = 'steps.jsonl';

export interface StepRecord {
  /** training steps (batches) since the run began, resumed epochs included */
  step: number;
  /** the 1-based epoch in progress */
  epoch: number;
  /** training samples since the run began */
  samples: number;
  /** seconds since the first epoch trained in this process began (a resumed run starts again from 0) */
  seconds: number;
  lr: number;
  /** mean training loss over the steps since the previous line */
  loss: number;
  /** training accuracy over those steps (absent where the method does not measure it) */
  accuracy?: number;
  samplesPerSec: number;
  /** AL: each layer's mean losses over those steps */
  layers?: { associatedLoss: number; autoencoderLoss: number }[];
}

export interface StepLogOptions {
  /** write a line every `every` steps */
  every: number;
  /** training samples per epoch */
  samplesPerEpoch: number;
  /** the learning rate of a 0-based epoch */
  lrAt: (epoch: number) => number;
  /** milliseconds, for tests (default performance.now) */
  clock?: () => number;
  /** where the lines go (default: appended to `file`) */
  write?: (line: string) => void;
}

/** Collects every batch's results (pass each BatchProgress to add) and appends a line every `every` steps. */
export class StepLog {
  private readonly clock: () => number;
  private readonly write: (line: string) => void;
  private begin = Number.NaN;
  private last = Number.NaN;
  private samples = 0;
  private lossSum = 0;
  private correct = 0;
  private layerSums: { associatedLoss: number; autoencoderLoss: number }[] = [];

  constructor(file: string, private readonly options: StepLogOptions) {
    if (!Number.isInteger(options.every) || options.every < 1) throw new RangeError(`StepLog: every: expected an integer >= 1, got ${options.every}`);
    this.clock = options.clock ?? (() => performance.now());
    this.write = options.write ?? ((line) => appendFileSync(file, line));
  }

  add(p: BatchProgress): void {
    // the clock starts when the first epoch of this process did (after any pipeline start-up)
    if (Number.isNaN(this.begin)) this.begin = this.last = this.clock() - 1000 * p.seconds;
    const { size, loss, correct, layers } = p.last;
    this.samples += size;
    this.lossSum += loss * size;
    this.correct += correct;
    layers?.forEach((l, i) => {
      const sum = (this.layerSums[i] ??= { associatedLoss: 0, autoencoderLoss: 0 });
      sum.associatedLoss += l.associatedLoss * size;
      sum.autoencoderLoss += l.autoencoderLoss * size;
    });
    // every epoch has the same number of batches, so the global step follows from the epoch
    const step = p.epoch * p.batches + p.batch;
    if (step % this.options.every !== 0) return;
    const now = this.clock();
    const record: StepRecord = {
      step,
      epoch: p.epoch + 1,
      samples: p.epoch * this.options.samplesPerEpoch + p.samples,
      seconds: (now - this.begin) / 1000,
      lr: this.options.lrAt(p.epoch),
      loss: this.lossSum / this.samples,
      ...(Number.isNaN(this.correct) ? {} : { accuracy: this.correct / this.samples }),
      samplesPerSec: this.samples / Math.max((now - this.last) / 1000, 1e-9),
      ...(this.layerSums.length > 0 ? {
        layers: this.layerSums.map((l) => ({ associatedLoss: l.associatedLoss / this.samples, autoencoderLoss: l.autoencoderLoss / this.samples })),
      } : {}),
    };
    this.write(JSON.stringify(record) + '\n');
    this.last = now;
    this.samples = this.lossSum = this.correct = 0;
    this.layerSums = [];
  }
}
