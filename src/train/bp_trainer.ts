// Ordinary backpropagation: for each mini-batch, forward, softmax cross-entropy, backward
// through the whole network, one optimizer step. The baseline every AL figure is compared with.
import { backend } from '../backend/backend.js';
import type { Split } from '../data/dataset.js';
import type { Layer } from '../nn/layer.js';
import type { Optimizer } from '../optim/optimizer.js';
import { softmaxCrossEntropy } from '../tensor/ops/loss.js';
import { releaseGraph, type Tensor } from '../tensor/tensor.js';
import { countCorrect, evaluateAccuracy } from './evaluate.js';
import type { Learner, StepResult } from './loop.js';

/** One BP step on one batch; a non-finite loss is returned without updating anything. */
export function bpStep(model: Layer, optimizer: Optimizer, x: Tensor, labels: Int32Array): StepResult {
  optimizer.zeroGrad();
  const logits = model.forward(x);
  const loss = softmaxCrossEntropy(logits, labels);
  const value = loss.data[0]!;
  const predictions = new Int32Array(labels.length);
  backend().argmaxRows(logits.data, predictions, labels.length, logits.shape[1]!);
  if (Number.isFinite(value)) {
    loss.backward();
    optimizer.step();
  }
  // nothing of the graph is used after this point: its buffers serve the next step
  releaseGraph(loss);
  return { loss: value, correct: countCorrect(predictions, labels) };
}

export class BpLearner implements Learner {
  readonly method = 'bp';

  constructor(readonly model: Layer, readonly optimizer: Optimizer, private readonly lrAt: (epoch: number, epochs: number) => number) {}

  setEpoch(epoch: number, epochs: number): number {
    this.model.train();
    this.optimizer.lr = this.lrAt(epoch, epochs);
    return this.optimizer.lr;
  }

  step(x: Tensor, labels: Int32Array): StepResult {
    return bpStep(this.model, this.optimizer, x, labels);
  }

  testAccuracy(split: Split): number {
    return evaluateAccuracy(this.model, split);
  }
}
