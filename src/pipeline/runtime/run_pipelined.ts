// The epoch loop of every pipelined method: the same seeded batches, progress callbacks, metrics
// and clean stop as the sequential loop (train/loop.ts), but batches are fed into a running
// pipeline and their losses come back as they leave it. Each epoch ends at a drain point: the
// coordinator collects every stage's state into its own copy of the model, evaluates it and lets
// the caller write a checkpoint, all from a state in which every stage has seen the same batches.
//
// The training accuracy of pipelined AL is not measured: it needs the decoders h_{L-1}..h_1 of the
// earlier stages applied to the last stage's output, a message travelling backwards through the
// pipeline. Metrics report it as null.
import { BatchIterator } from '../../data/batches.js';
import type { Dataset, Split } from '../../data/mnist.js';
import { TrainingError } from '../../train/errors.js';
import { LayerLossSums, firstEpoch, releaseEpochMemory, yieldToEventLoop, type EpochMetrics, type LoopOptions } from '../../train/loop.js';
import type { PipelineEngine } from './stage_group.js';

export interface PipelinedEpochMetrics extends EpochMetrics {
  /** busy time / epoch wall time of each stage */
  utilisation: number[];
  /** naive BP: mean optimizer updates between a batch's forward and its backward, per stage */
  staleness?: number;
}

export interface PipelinedLoopOptions extends Omit<LoopOptions, 'onEpoch'> {
  /** test accuracy of the coordinator's net, called after each epoch's collect */
  testAccuracy: (split: Split) => number;
  /** the learning rate of f and b in the coordinator's net, read after each epoch's collect */
  lr: () => number;
  /** add the mean staleness of the naive schedule to the metrics */
  reportStaleness?: boolean;
  onEpoch?: (m: PipelinedEpochMetrics) => void;
}

export async function runPipelinedEpochs(pipeline: PipelineEngine, data: Dataset, options: PipelinedLoopOptions): Promise<PipelinedEpochMetrics[]> {
  const batches = new BatchIterator(data.train, options.batchSize, options.rng, { shuffle: options.shuffle ?? true, dropLast: false });
  const history: PipelinedEpochMetrics[] = [];
  const shape = data.train.shape;
  const first = firstEpoch('runPipelinedEpochs', options);
  for (let epoch = first; epoch < options.epochs; epoch++) {
    const start = performance.now();
    const busyBefore = [...pipeline.busy];
    const sizes: number[] = [];
    let lossSum = 0, seen = 0, batchesOut = 0, correct = 0, staleness = 0, failure: Error | null = null;
    let measuredAccuracy = true;
    const layerSums = new LayerLossSums();
    const firstIndex = pipeline.batchesDone;
    pipeline.onBatchDone = (done) => {
      const { index, loss } = done;
      const size = sizes[index - firstIndex]!;
      if (!Number.isFinite(loss) && failure === null) {
        failure = new TrainingError(`loss became ${loss} at epoch ${epoch + 1}, batch ${index - firstIndex + 1}: lower --lr or check the data`);
      }
      lossSum += loss * size;
      seen += size;
      layerSums.add(done.layers, size);
      if (done.correct === null) measuredAccuracy = false;
      else correct += done.correct;
      staleness += done.staleness ?? 0;
      batchesOut++;
      options.onBatch?.({
        epoch, batch: batchesOut, batches: batches.batchesPerEpoch, samples: seen, loss: lossSum / seen,
        accuracy: measuredAccuracy ? correct / seen : Number.NaN, seconds: (performance.now() - start - pausedMs) / 1000, layers: layerSums.means(),
        last: { size, loss, correct: done.correct ?? Number.NaN, layers: done.layers },
      });
    };
    let stopped = false, fedSamples = 0, pausedMs = 0;
    // a drain mid-epoch (for a test evaluation) leaves every stage on the same batch, as at an epoch's end
    const settle = async (): Promise<void> => {
      await pipeline.collect();
      if (failure) throw failure;
    };
    for (const batch of batches.epoch()) {
      sizes.push(batch.size);
      fedSamples += batch.size;
      // augmentation runs here, on the coordinator, off the stages' threads; it draws from the
      // same Rng as the shuffle, in the same order as the sequential loop
      const x = data.augment ? data.augment.apply(batch.x, batch.size, options.rng) : batch.x;
      await pipeline.feed(x, [batch.size, ...shape], batch.labels, epoch, options.epochs);
      if (failure) throw failure;
      pausedMs += (await options.afterStep?.({ step: epoch * batches.batchesPerEpoch + sizes.length, epoch, samples: epoch * data.train.n + fedSamples }, settle)) ?? 0;
      await yieldToEventLoop();
      if (options.shouldStop?.()) {
        stopped = true;
        break;
      }
    }
    // even a stopped epoch drains, so that every stage ends on the same batch; like the
    // sequential loop, an unfinished epoch is not reported (nor checkpointed): --resume reruns it
    await pipeline.collect();
    if (failure) throw failure;
    if (stopped && batchesOut < batches.batchesPerEpoch) break;
    const seconds = (performance.now() - start - pausedMs) / 1000;
    const metrics: PipelinedEpochMetrics = {
      epoch: epoch + 1,
      trainLoss: lossSum / Math.max(seen, 1),
      trainAccuracy: measuredAccuracy ? correct / Math.max(seen, 1) : Number.NaN,
      testAccuracy: options.testAccuracy(data.test),
      samplesPerSec: seen / seconds,
      seconds,
      lr: options.lr(),
      ...(layerSums.means() ? { layers: layerSums.means() } : {}),
      utilisation: pipeline.busy.map((b, k) => (b - busyBefore[k]!) / (seconds * 1000)),
      ...(options.reportStaleness ? { staleness: staleness / Math.max(batchesOut, 1) / pipeline.busy.length } : {}),
    };
    history.push(metrics);
    options.onEpoch?.(metrics);
    releaseEpochMemory();
    if (stopped || options.shouldStop?.()) break;
  }
  pipeline.onBatchDone = null;
  return history;
}
