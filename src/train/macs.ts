// trainMacsPerSample: the multiply-adds one training sample costs (the forward and backward
// passes of everything that trains), counted from the kernels a real step calls, so AL's and BP's
// arithmetic are read off the same network code rather than estimated by hand.
import { backend, withBackend } from '../backend/backend.js';
import { countingBackend } from '../backend/counting.js';
import { Tensor } from '../tensor/tensor.js';
import type { Learner } from './loop.js';

/**
 * Runs one step of `learner` on a batch of `batch` made-up samples and returns the multiply-adds
 * of matrix products and convolutions per sample. The step updates the learner's weights: give it
 * a throwaway copy of the network. Batch 2, so batch norm has statistics to take.
 */
export function trainMacsPerSample(learner: Learner, inputShape: readonly number[], classes: number, batch = 2): number {
  const inner = backend();
  const counting = countingBackend(inner);
  const size = inputShape.reduce((p, d) => p * d, 1);
  const x = new Float32Array(batch * size);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i);
  const labels = Int32Array.from({ length: batch }, (_, i) => i % classes);
  withBackend(counting.backend, () => learner.step(new Tensor(x, [batch, ...inputShape]), labels));
  return counting.macs() / batch;
}
