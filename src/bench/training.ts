// Training throughput: samples per second of one full step at batch 128 on random data, for the
// workloads PyTorch runs beside ours: BP (forward, softmax cross-entropy, backward, Adam) and
// sequential AL (every layer's two local losses, backward passes and Adam steps).
import { buildAssociatedNet } from '../al/decompositions.js';
import { buildModel, type ModelName } from '../models/index.js';
import { countParameters } from '../nn/layer.js';
import { Adam } from '../optim/adam.js';
import { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { bpStep } from '../train/bp_trainer.js';
import { secondsPerCall, type TimingOptions } from './timing.js';

export interface TrainingWorkload {
  name: string;
  model: ModelName;
  inputShape: [number, number, number];
  /** 'al': sequential Associated Learning (the authors' cut and t width) instead of BP */
  method?: 'bp' | 'al';
}

export const TRAINING_WORKLOADS: TrainingWorkload[] = [
  { name: 'train-mlp', model: 'mlp', inputShape: [28, 28, 1] },
  { name: 'train-cnn', model: 'cnn', inputShape: [32, 32, 3] },
  { name: 'train-resnet20', model: 'resnet20', inputShape: [32, 32, 3] },
  { name: 'train-al-mlp', model: 'mlp', inputShape: [28, 28, 1], method: 'al' },
  { name: 'train-al-cnn', model: 'cnn', inputShape: [28, 28, 1], method: 'al' },
];

export function trainingSamplesPerSec(w: TrainingWorkload, batch: number, timing: TimingOptions): { samplesPerSec: number; params: number } {
  const rng = new Rng(0);
  const [h, wd, c] = w.inputShape;
  const x = new Tensor(new Float32Array(batch * h * wd * c).map(() => rng.normal()), [batch, h, wd, c]);
  const labels = new Int32Array(batch).map(() => rng.int(10));
  if (w.method === 'al') {
    // Adam at 1e-3 (f, b) and 2e-3 (g, h), as bench/torch_bench.py's AL workloads
    const net = buildAssociatedNet({ model: w.model, inputShape: w.inputShape, classes: 10, rng, lr: 1e-3 });
    const params = [...net.effectiveParameters(), ...net.affiliatedParameters()].reduce((n, t) => n + t.size, 0);
    const seconds = secondsPerCall(() => net.trainStep(x, labels), timing);
    return { samplesPerSec: batch / seconds, params };
  }
  const model = buildModel(w.model, { inputShape: w.inputShape, classes: 10, rng });
  const optimizer = new Adam(model.parameters(), { lr: 1e-4 });
  const seconds = secondsPerCall(() => bpStep(model, optimizer, x, labels), timing);
  return { samplesPerSec: batch / seconds, params: countParameters(model) };
}
