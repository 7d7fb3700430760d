// Seeded mini-batches. The order of an epoch depends only on the Rng's state, so a run can be
// replayed exactly (and resumed from a checkpoint that saved the Rng state).

import type { Rng } from '../tensor/rng.js';
import type { Split } from './dataset.js';

export interface Batch {
  /** [size, ...shape], row-major. */
  x: Float32Array;
  labels: Int32Array;
  size: number;
}

export interface BatchOptions {
  /** Draw a new permutation for every epoch; false keeps the stored order (and uses no randomness). */
  shuffle: boolean;
  /** Drop the last batch when it is smaller than batchSize. */
  dropLast: boolean;
  /**
   * Write every batch into the same two buffers. The Batch yielded is then only valid until the
   * next one is requested, and must not be transferred to a worker (that would detach the buffer).
   * Off by default: fresh buffers per batch are what pipelining across threads needs.
   */
  reuseBuffers?: boolean;
}

/** The sample order of one epoch: a fresh permutation from `rng`, or 0..n-1 without consuming it. */
export function epochOrder(n: number, rng: Rng, shuffle: boolean): Int32Array {
  if (shuffle) return rng.permutation(n);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}

export class BatchIterator implements Iterable<Batch> {
  readonly split: Split;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly reuseBuffers: boolean;
  private readonly rng: Rng;
  private readonly sampleSize: number;
  private sharedX: Float32Array | null = null;
  private sharedLabels: Int32Array | null = null;

  constructor(split: Split, batchSize: number, rng: Rng, options: BatchOptions) {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`BatchIterator: batchSize: expected an integer >= 1, got ${batchSize}`);
    }
    const sampleSize = split.shape.reduce((p, d) => p * d, 1);
    if (split.images.length !== split.n * sampleSize) {
      throw new RangeError(`BatchIterator: images length: expected ${split.n} x ${sampleSize} = ${split.n * sampleSize}, got ${split.images.length}`);
    }
    if (split.labels.length !== split.n) {
      throw new RangeError(`BatchIterator: labels length: expected ${split.n}, got ${split.labels.length}`);
    }
    this.split = split;
    this.batchSize = batchSize;
    this.rng = rng;
    this.shuffle = options.shuffle;
    this.dropLast = options.dropLast;
    this.reuseBuffers = options.reuseBuffers ?? false;
    this.sampleSize = sampleSize;
  }

  /** Batches in one epoch (0 when dropLast and n < batchSize). */
  get batchesPerEpoch(): number {
    const n = this.split.n;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /**
   * One epoch. The permutation is drawn here, when epoch() is called, not on the first next(), so
   * the Rng is consumed in call order however lazily the batches are pulled.
   */
  epoch(): IterableIterator<Batch> {
    return this.batchesOf(epochOrder(this.split.n, this.rng, this.shuffle));
  }

  /** Each `for...of` over the iterator is one new epoch. */
  [Symbol.iterator](): IterableIterator<Batch> {
    return this.epoch();
  }

  private *batchesOf(order: Int32Array): IterableIterator<Batch> {
    const n = order.length;
    const end = this.dropLast ? n - (n % this.batchSize) : n;
    for (let start = 0; start < end; start += this.batchSize) {
      yield this.gather(order.subarray(start, Math.min(start + this.batchSize, end)));
    }
  }

  private gather(indices: Int32Array): Batch {
    const size = indices.length;
    const ss = this.sampleSize;
    const { images, labels } = this.split;
    let x: Float32Array;
    let y: Int32Array;
    if (this.reuseBuffers) {
      this.sharedX ??= new Float32Array(this.batchSize * ss);
      this.sharedLabels ??= new Int32Array(this.batchSize);
      x = this.sharedX.subarray(0, size * ss);
      y = this.sharedLabels.subarray(0, size);
    } else {
      x = new Float32Array(size * ss);
      y = new Int32Array(size);
    }
    for (let i = 0; i < size; i++) {
      const s = indices[i]!;
      x.set(images.subarray(s * ss, s * ss + ss), i * ss);
      y[i] = labels[s]!;
    }
    return { x, labels: y, size };
  }
}
