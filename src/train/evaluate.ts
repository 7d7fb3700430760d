// Classification accuracy on a whole split, in evaluation mode and without recording a graph.
import { backend } from '../backend/backend.js';
import type { Split } from '../data/mnist.js';
import type { Layer } from '../nn/layer.js';
import { Tensor, noGrad } from '../tensor/tensor.js';

/** Predicted class of every sample of `split`, batch by batch (the model's mode is restored). */
export function predict(model: Layer, split: Split, batchSize = 500): Int32Array {
  const wasTraining = model.training;
  model.eval();
  const sample = split.shape.reduce((p, d) => p * d, 1);
  const predictions = new Int32Array(split.n);
  try {
    noGrad(() => {
      for (let start = 0; start < split.n; start += batchSize) {
        const size = Math.min(batchSize, split.n - start);
        const x = new Tensor(split.images.subarray(start * sample, (start + size) * sample), [size, ...split.shape]);
        const logits = model.forward(x);
        backend().argmaxRows(logits.data, predictions.subarray(start, start + size), size, logits.shape[1]!);
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return predictions;
}

export function accuracy(predictions: Int32Array, labels: Int32Array): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  return labels.length === 0 ? 0 : correct / labels.length;
}

export function evaluateAccuracy(model: Layer, split: Split, batchSize = 500): number {
  return accuracy(predict(model, split, batchSize), split.labels);
}
