// Ordinary backpropagation training: for each mini-batch, forward, softmax cross-entropy,
// backward through the whole network, one optimizer step. The baseline every AL figure is
// compared with.
import type { Dataset } from '../data/mnist.js';
import { BatchIterator } from '../data/batches.js';
import type { Layer } from '../nn/layer.js';
import type { Optimizer } from '../optim/optimizer.js';
import { softmaxCrossEntropy } from '../tensor/ops/loss.js';
import type { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { TrainingError } from './errors.js';
import { evaluateAccuracy } from './evaluate.js';
import { backend } from '../backend/backend.js';

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
  samplesPerSec: number;
  seconds: number;
  lr: number;
}

export interface BatchProgress {
  epoch: number;
  batch: number;
  batches: number;
  samples: number;
  loss: number;
  accuracy: number;
  seconds: number;
}

export interface BpTrainOptions {
  epochs: number;
  batchSize: number;
  rng: Rng;
  /** Learning rate for a 0-based epoch (a schedule); called at the start of every epoch. */
  lrAt: (epoch: number) => number;
  onBatch?: (p: BatchProgress) => void;
  onEpoch?: (m: EpochMetrics) => void;
  /** Checked between batches: true stops after the current batch. */
  shouldStop?: () => boolean;
}

/** One BP step on one batch; returns the mean loss and the number of correct predictions. */
export function bpStep(model: Layer, optimizer: Optimizer, x: Tensor, labels: Int32Array): { loss: number; correct: number } {
  optimizer.zeroGrad();
  const logits = model.forward(x);
  const loss = softmaxCrossEntropy(logits, labels);
  const value = loss.data[0]!;
  const predictions = new Int32Array(labels.length);
  backend().argmaxRows(logits.data, predictions, labels.length, logits.shape[1]!);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  if (Number.isFinite(value)) {
    loss.backward();
    optimizer.step();
  }
  return { loss: value, correct };
}

export function trainBp(model: Layer, optimizer: Optimizer, data: Dataset, options: BpTrainOptions): EpochMetrics[] {
  const batches = new BatchIterator(data.train, options.batchSize, options.rng, { shuffle: true, dropLast: false });
  const history: EpochMetrics[] = [];
  const shape = data.train.shape;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    optimizer.lr = options.lrAt(epoch);
    model.train();
    const start = performance.now();
    let lossSum = 0, correct = 0, seen = 0, index = 0;
    for (const batch of batches.epoch()) {
      const x = new Tensor(batch.x, [batch.size, ...shape]);
      const step = bpStep(model, optimizer, x, batch.labels);
      if (!Number.isFinite(step.loss)) {
        throw new TrainingError(`loss became ${step.loss} at epoch ${epoch + 1}, batch ${index + 1}: lower --lr or check the data`);
      }
      lossSum += step.loss * batch.size;
      correct += step.correct;
      seen += batch.size;
      index++;
      options.onBatch?.({
        epoch, batch: index, batches: batches.batchesPerEpoch, samples: seen,
        loss: lossSum / seen, accuracy: correct / seen, seconds: (performance.now() - start) / 1000,
      });
      if (options.shouldStop?.()) break;
    }
    const seconds = (performance.now() - start) / 1000;
    const metrics: EpochMetrics = {
      epoch: epoch + 1,
      trainLoss: lossSum / Math.max(seen, 1),
      trainAccuracy: correct / Math.max(seen, 1),
      testAccuracy: evaluateAccuracy(model, data.test),
      samplesPerSec: seen / seconds,
      seconds,
      lr: optimizer.lr,
    };
    history.push(metrics);
    options.onEpoch?.(metrics);
    if (options.shouldStop?.()) break;
  }
  return history;
}
