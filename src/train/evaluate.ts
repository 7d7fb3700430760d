// Classification accuracy on a whole split, in evaluation mode and without recording a graph.
import { backend } from '../backend/backend.js';
import type { Split } from '../data/dataset.js';
import type { Layer } from '../nn/layer.js';
import { Tensor, noGrad } from '../tensor/tensor.js';

/**
 * The class each sample of `split` scores highest on, batch by batch, without recording a graph.
 * `scores` maps a batch [size, ...shape] to class scores [size, classes]; the caller sets the
 * model's evaluation mode.
 */
export function predictClasses(split: Split, scores: (x: Tensor) => Tensor, batchSize = 500): Int32Array {
  const sample = split.shape.reduce((p, d) => p * d, 1);
  const predictions = new Int32Array(split.n);
  noGrad(() => {
    for (let start = 0; start < split.n; start += batchSize) {
      const size = Math.min(batchSize, split.n - start);
      const x = new Tensor(split.images.subarray(start * sample, (start + size) * sample), [size, ...split.shape]);
      const y = scores(x);
      backend().argmaxRows(y.data, predictions.subarray(start, start + size), size, y.shape[1]!);
    }
  });
  return predictions;
}

/** Predicted class of every sample of `split` in evaluation mode (the model's mode is restored). */
export function predict(model: Layer, split: Split, batchSize = 500): Int32Array {
  const wasTraining = model.training;
  model.eval();
  try {
    return predictClasses(split, (x) => model.forward(x), batchSize);
  } finally {
    model.train(wasTraining);
  }
}

/** Number of rows of `predictions` equal to their label. */
export function countCorrect(predictions: Int32Array, labels: Int32Array): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  return correct;
}

export function accuracy(predictions: Int32Array, labels: Int32Array): number {
  return labels.length === 0 ? 0 : countCorrect(predictions, labels) / labels.length;
}

export function evaluateAccuracy(model: Layer, split: Split, batchSize = 500): number {
  return accuracy(predict(model, split, batchSize), split.labels);
}
