// Test accuracy from every exit layer of an AL network at once. Exit k predicts
// h_1(... h_k(b_k(s_k))); the encoders f_1..f_L run once per batch and every exit branches off
// them, so L exits cost one encoder pass plus L bridge-and-decode chains, not L full passes.
// Each exit computes exactly what AssociatedNet.predict(x, k) computes (the same layers on the
// same batches), so the figures equal `al eval --exit-layer k`.
import type { AssociatedNet } from '../al/associated_net.js';
import { backend } from '../backend/backend.js';
import type { Split } from '../data/dataset.js';
import { Tensor, noGrad } from '../tensor/tensor.js';

/** Accuracy of exits 1..L on `split`, in evaluation mode (training mode is restored after). */
export function exitAccuracies(net: AssociatedNet, split: Split, batchSize = 500): number[] {
  const size = split.shape.reduce((p, d) => p * d, 1);
  const correct = new Array<number>(net.depth).fill(0);
  net.train(false);
  try {
    noGrad(() => {
      for (let start = 0; start < split.n; start += batchSize) {
        const b = Math.min(batchSize, split.n - start);
        let s = new Tensor(split.images.subarray(start * size, (start + b) * size), [b, ...split.shape]);
        const predictions = new Int32Array(b);
        for (let k = 1; k <= net.depth; k++) {
          const layer = net.layers[k - 1]!;
          s = layer.encode(s);
          const scores = net.decodeFrom(k, layer.bridge(s));
          backend().argmaxRows(scores.data, predictions, b, scores.shape[1]!);
          for (let i = 0; i < b; i++) if (predictions[i] === split.labels[start + i]) correct[k - 1]!++;
        }
      }
    });
  } finally {
    net.train(true);
  }
  return correct.map((c) => (split.n === 0 ? 0 : c / split.n));
}
