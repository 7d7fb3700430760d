// The CIFAR training augmentation of a batch of NHWC images (Backend.augmentImages), step by step
// on a float64 copy of each image, rounded once into y.
import type { AugmentAttrs, F32 } from '../kernel_names.js';
import { requireDims, requireLength } from './check.js';

/** Checks shared with the native kernel (same messages): shapes, buffer lengths, draws in range. */
export function checkAugment(x: F32, crop: Int32Array, adjust: F32, y: F32, attrs: AugmentAttrs): void {
  const k = 'augmentImages';
  const { n, h, w, c, pad } = attrs;
  requireDims(k, { n, h, w, c, pad });
  const size = n * h * w * c;
  requireLength(k, 'x', x, size);
  requireLength(k, 'y', y, size);
  requireLength(k, 'crop', crop, 3 * n);
  requireLength(k, 'adjust', adjust, 2 * n);
  for (let i = 0; i < n; i++) {
    const top = crop[3 * i]!, left = crop[3 * i + 1]!, flip = crop[3 * i + 2]!;
    if (top < 0 || top > 2 * pad || left < 0 || left > 2 * pad) {
      throw new RangeError(`${k}: image ${i}: crop offsets (${top}, ${left}) outside 0..${2 * pad}`);
    }
    if (flip !== 0 && flip !== 1) throw new RangeError(`${k}: image ${i}: flip must be 0 or 1, got ${flip}`);
  }
}

export function augmentImages(x: F32, crop: Int32Array, adjust: F32, y: F32, attrs: AugmentAttrs): void {
  checkAugment(x, crop, adjust, y, attrs);
  const { n, h, w, c, pad } = attrs;
  const size = h * w * c;
  const v = new Float64Array(size);
  for (let i = 0; i < n; i++) {
    const top = crop[3 * i]!, left = crop[3 * i + 1]!, flip = crop[3 * i + 2] === 1;
    const delta = adjust[2 * i]!, factor = adjust[2 * i + 1]!;
    // Crop of the zero-padded image, mirrored: output column s reads column w-1-s of the crop.
    for (let r = 0; r < h; r++) {
      for (let s = 0; s < w; s++) {
        const sr = r + top - pad;
        const sc = (flip ? w - 1 - s : s) + left - pad;
        const inside = sr >= 0 && sr < h && sc >= 0 && sc < w;
        for (let ch = 0; ch < c; ch++) {
          v[(r * w + s) * c + ch] = inside ? x[i * size + (sr * w + sc) * c + ch]! : 0;
        }
      }
    }
    for (let p = 0; p < size; p++) v[p] = v[p]! + delta;
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      for (let p = ch; p < size; p += c) sum += v[p]!;
      const mean = sum / (h * w);
      for (let p = ch; p < size; p += c) v[p] = (v[p]! - mean) * factor + mean;
    }
    let sum = 0;
    for (let p = 0; p < size; p++) sum += v[p]!;
    const mean = sum / size;
    let squares = 0;
    for (let p = 0; p < size; p++) squares += (v[p]! - mean) ** 2;
    const scale = 1 / Math.max(Math.sqrt(squares / size), 1 / Math.sqrt(size));
    for (let p = 0; p < size; p++) y[i * size + p] = (v[p]! - mean) * scale;
  }
}
