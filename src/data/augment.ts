// The authors' CIFAR training augmentation (Kao & Chen's TensorFlow code, after the TensorFlow
// CIFAR-10 tutorial), applied to every training batch:
//   1. zero-pad 4 pixels on each side (40x40) and crop a random 32x32 window,
//   2. mirror left-right with probability 1/2,
//   3. brightness: add a random delta in [-63/255, 63/255] to every value,
//   4. contrast: scale each channel's deviation from its mean by a random factor in [0.2, 1.8],
//   5. per-image standardisation: (x - mean) / max(std, 1/sqrt(h w c)) over the whole image.
// The authors passed max_delta=63 to random_brightness on x/255-scaled data, the tutorial's
// value for 0..255 pixels. Step 5 subtracts the image mean, so any delta cancels except for
// float rounding, and 63/255 keeps that rounding small. The step is kept, cheap as it is, so the
// pipeline stays the authors' step for step.
//
// The random draws are made here, in TypeScript, from the training Rng (five per image, in the
// order above), so a seed fixes the result on either backend; the per-pixel work is the backend's
// augmentImages kernel (C++ in the native addon). Measured on this 2-core machine it augments
// about 30,000 images per second on one core, against a few hundred samples per second for a
// ResNet-20 training step, so it runs inline on the training thread (docs/benchmarks.md).

import type { Rng } from '../tensor/rng.js';
import { augmentImages } from '../tensor/ops/image.js';

/** A per-batch transform of training images. */
export interface BatchAugmentation {
  /** For logs and config.json. */
  readonly description: string;
  /** The augmented batch, a new [n, ...shape] buffer; x is not changed. */
  apply(x: Float32Array, n: number, rng: Rng): Float32Array;
}

export interface CifarAugmentOptions {
  /** Zero padding on each side before the random crop (default 4). */
  pad?: number;
  /** Largest brightness delta (default 63/255). */
  brightness?: number;
  /** Range of the contrast factor (default [0.2, 1.8]). */
  contrast?: readonly [number, number];
  /** Random left-right mirroring (default true). */
  flip?: boolean;
}

/** The per-image random draws: crop [n, 3] = (top, left, flip 0|1); adjust [n, 2] = (brightness delta, contrast factor). */
export interface AugmentDraws {
  crop: Int32Array;
  adjust: Float32Array;
}

export class CifarAugmentation implements BatchAugmentation {
  readonly shape: readonly [number, number, number];
  readonly pad: number;
  readonly brightness: number;
  readonly contrast: readonly [number, number];
  readonly flip: boolean;

  constructor(shape: readonly [number, number, number], options: CifarAugmentOptions = {}) {
    this.shape = shape;
    this.pad = options.pad ?? 4;
    this.brightness = options.brightness ?? 63 / 255;
    this.contrast = options.contrast ?? [0.2, 1.8];
    this.flip = options.flip ?? true;
    if (!Number.isInteger(this.pad) || this.pad < 0) throw new RangeError(`CifarAugmentation: pad: expected an integer >= 0, got ${this.pad}`);
    if (!(this.brightness >= 0)) throw new RangeError(`CifarAugmentation: brightness: expected a number >= 0, got ${this.brightness}`);
    const [lo, hi] = this.contrast;
    if (!(lo > 0 && hi >= lo)) throw new RangeError(`CifarAugmentation: contrast: expected 0 < lower <= upper, got [${lo}, ${hi}]`);
  }

  get description(): string {
    return `pad ${this.pad} + random crop, ${this.flip ? 'horizontal flip, ' : ''}brightness ±${this.brightness.toFixed(4)}, ` +
      `contrast ${this.contrast[0]}..${this.contrast[1]}, per-image standardisation`;
  }

  /** Five draws per image, in the order of the steps; the same Rng state gives the same draws. */
  draw(n: number, rng: Rng): AugmentDraws {
    const crop = new Int32Array(3 * n);
    const adjust = new Float32Array(2 * n);
    const span = 2 * this.pad + 1;
    const [lo, hi] = this.contrast;
    for (let i = 0; i < n; i++) {
      crop[3 * i] = rng.int(span);
      crop[3 * i + 1] = rng.int(span);
      const mirror = rng.next() < 0.5;
      crop[3 * i + 2] = this.flip && mirror ? 1 : 0;
      adjust[2 * i] = (2 * rng.next() - 1) * this.brightness;
      adjust[2 * i + 1] = lo + (hi - lo) * rng.next();
    }
    return { crop, adjust };
  }

  apply(x: Float32Array, n: number, rng: Rng): Float32Array {
    const { crop, adjust } = this.draw(n, rng);
    return augmentImages(x, [n, ...this.shape], crop, adjust, this.pad);
  }
}

/**
 * Per-image standardisation in place, for images that are not augmented (test sets): each of the
 * n images of `size` values becomes (x - mean) / max(std, 1/sqrt(size)), as step 5 above.
 * Sums in double precision.
 */
export function standardizeImages(x: Float32Array, n: number, size: number): void {
  const floor = 1 / Math.sqrt(size);
  for (let i = 0; i < n; i++) {
    const image = x.subarray(i * size, (i + 1) * size);
    let sum = 0;
    for (let p = 0; p < size; p++) sum += image[p]!;
    const mean = sum / size;
    let squares = 0;
    for (let p = 0; p < size; p++) squares += (image[p]! - mean) ** 2;
    const scale = 1 / Math.max(Math.sqrt(squares / size), floor);
    for (let p = 0; p < size; p++) image[p] = (image[p]! - mean) * scale;
  }
}
