// Pipelined training through the one epoch loop (train/loop.ts, runStepLoop): a running pipeline
// as its step driver. Batches are fed into the pipeline and their losses come back as they leave
// it. Each epoch ends at a drain point: the coordinator collects every stage's state into its own
// copy of the model, evaluates it and lets the caller write a checkpoint, all from a state in
// which every stage has seen the same batches.
//
// The training accuracy of pipelined AL is not measured: it needs the decoders h_{L-1}..h_1 of the
// earlier stages applied to the last stage's output, a message travelling backwards through the
// pipeline. Metrics report it as null.
import type { Dataset, Split } from '../../data/dataset.js';
import { runStepLoop, type EpochMetrics, type LoopOptions, type StepDriver } from '../../train/loop.js';
import type { PipelineEngine } from './stage_group.js';

export interface PipelinedEpochMetrics extends EpochMetrics {
  /** busy time / epoch wall time of each stage */
  utilisation: number[];
  /** naive BP: mean optimizer updates between a batch's forward and its backward, per stage */
  staleness?: number;
}

export interface PipelineDriverOptions {
  /** test accuracy of the coordinator's net, called after each epoch's collect */
  testAccuracy: (split: Split) => number;
  /** the learning rate of f and b in the coordinator's net, read after each epoch's collect */
  lr: () => number;
  /** add the mean staleness of the naive schedule to the metrics */
  reportStaleness?: boolean;
}

export interface PipelinedLoopOptions extends Omit<LoopOptions, 'onEpoch' | 'testAccuracy'>, PipelineDriverOptions {
  onEpoch?: (m: PipelinedEpochMetrics) => void;
}

/** A running pipeline (ALPipeline, BpPipeline) as the epoch loop's step driver. */
export function pipelineDriver(pipeline: PipelineEngine, options: PipelineDriverOptions): StepDriver {
  let epoch = 0, epochs = 0, staleness = 0, busyBefore: number[] = [];
  return {
    beginEpoch(e, total, report) {
      epoch = e;
      epochs = total;
      staleness = 0;
      busyBefore = [...pipeline.busy];
      pipeline.onBatchDone = (done) => {
        staleness += done.staleness ?? 0;
        report({ loss: done.loss, correct: done.correct, layers: done.layers });
      };
    },
    feed: (x, shape, labels, _batch, mark) => pipeline.feed(x, shape, labels, epoch, epochs, mark),
    // even a stopped epoch drains, so that every stage ends on the same batch; after the loop's
    // last one, the stages hand their arrays over instead of copying them
    endEpoch: (last) => pipeline.collect({ handOver: last }),
    // a drain mid-epoch (for a test evaluation) leaves every stage on the same batch, as at an epoch's end
    settle: () => pipeline.collect(),
    ...(pipeline.snapshot ? { snapshot: () => pipeline.snapshot!(), lag: pipeline.lag ?? 0 } : {}),
    testAccuracy: options.testAccuracy,
    lr: options.lr,
    epochExtras: (seconds, batches) => ({
      utilisation: pipeline.busy.map((b, k) => (b - busyBefore[k]!) / (seconds * 1000)),
      ...(options.reportStaleness ? { staleness: staleness / Math.max(batches, 1) / pipeline.busy.length } : {}),
    }),
    finish: () => {
      pipeline.onBatchDone = null;
    },
  };
}

/** Trains a running pipeline for options.epochs epochs: the shared epoch loop over pipelineDriver. */
export function runPipelinedEpochs(pipeline: PipelineEngine, data: Dataset, options: PipelinedLoopOptions): Promise<PipelinedEpochMetrics[]> {
  const { testAccuracy, lr, reportStaleness, onEpoch, ...loop } = options;
  const driver = pipelineDriver(pipeline, { testAccuracy, lr, ...(reportStaleness ? { reportStaleness } : {}) });
  return runStepLoop(driver, data, { ...loop, ...(onEpoch ? { onEpoch: onEpoch as (m: EpochMetrics) => void } : {}) }, 'runPipelinedEpochs') as Promise<PipelinedEpochMetrics[]>;
}
