// Sequential AL as a training method: each batch passes through all AL layers in order and each
// layer steps its own optimizers. The reported training loss is the sum of every layer's two
// local losses (what AL minimises); the per-layer losses are reported beside it.
import { backend } from '../backend/backend.js';
import type { Split } from '../data/dataset.js';
import type { Tensor } from '../tensor/tensor.js';
import { TrainingError } from '../train/errors.js';
import { accuracy, countCorrect, predictClasses } from '../train/evaluate.js';
import type { Learner, StepResult } from '../train/loop.js';
import { ALDivergenceError } from './al_layer.js';
import type { AssociatedNet } from './associated_net.js';

/** Predicted classes of a whole split from AL layer `exit`, in evaluation mode. */
export function predictAL(net: AssociatedNet, split: Split, exit = net.depth, batchSize = 500): Int32Array {
  net.train(false);
  try {
    return predictClasses(split, (x) => net.predict(x, exit), batchSize);
  } finally {
    net.train(true);
  }
}

export class ALLearner implements Learner {
  readonly method = 'al';

  constructor(readonly net: AssociatedNet) {}

  setEpoch(epoch: number, epochs: number): number {
    this.net.train(true);
    this.net.setEpoch(epoch, epochs);
    return this.net.layers[0]!.forwardOptimizer.lr;
  }

  step(x: Tensor, labels: Int32Array): StepResult {
    let out;
    try {
      out = this.net.trainStep(x, labels);
    } catch (error) {
      if (error instanceof ALDivergenceError) throw new TrainingError(`${error.message}: lower --lr or check the data`);
      throw error;
    }
    const predictions = new Int32Array(labels.length);
    backend().argmaxRows(out.scores.data, predictions, labels.length, this.net.classes);
    const loss = out.losses.reduce((s, l) => s + l.associatedLoss + l.autoencoderLoss, 0);
    return { loss, correct: countCorrect(predictions, labels), layers: out.losses };
  }

  testAccuracy(split: Split, exit = this.net.depth): number {
    return accuracy(predictAL(this.net, split, exit), split.labels);
  }
}
