// Seeded random data in a dataset's shape: for benchmarks (throughput does not depend on the
// values) and tests. Pixels uniform in [0, 1), labels uniform over the classes.
import { Rng } from '../tensor/rng.js';
import type { Split } from './dataset.js';

export function randomSplit(n: number, shape: [number, number, number], classes: number, seed: number): Split {
  const rng = new Rng(seed);
  return {
    images: Float32Array.from({ length: n * shape[0] * shape[1] * shape[2] }, () => rng.next()),
    labels: Int32Array.from({ length: n }, () => rng.int(classes)),
    n, shape, classes,
  };
}
