// Small CIFAR datasets in the exact official binary layout, for tests (CIFAR itself cannot be
// downloaded on these machines). Record: label byte(s), then the red, green and blue 32x32 planes.
import fs from 'node:fs';
import path from 'node:path';

export const SIDE = 32;
export const PLANE = SIDE * SIDE;

/** The byte of channel ch at (row, col) of image `image`: differs between images, channels and positions. */
export function cifarPixel(image: number, row: number, col: number, ch: number): number {
  return (image * 37 + row * 11 + col * 5 + ch * 83) % 256;
}

/** One file's bytes: `labels[i]` holds the label byte(s) of record i; pixels from cifarPixel(firstImage + i, ...). */
export function cifarFileBytes(labels: readonly (readonly number[])[], firstImage = 0): Uint8Array {
  const labelBytes = labels[0]?.length ?? 1;
  const rec = labelBytes + 3 * PLANE;
  const out = new Uint8Array(labels.length * rec);
  labels.forEach((l, i) => {
    const base = i * rec;
    l.forEach((v, k) => (out[base + k] = v));
    for (let ch = 0; ch < 3; ch++) {
      for (let r = 0; r < SIDE; r++) {
        for (let c = 0; c < SIDE; c++) out[base + labelBytes + ch * PLANE + r * SIDE + c] = cifarPixel(firstImage + i, r, c, ch);
      }
    }
  });
  return out;
}

/**
 * Writes CIFAR-10's six files into `dir` with `perFile` records each (test_batch.bin too); the
 * label of overall training image i is i % 10, of test image i (9 - i % 10). Training images are
 * numbered 0.. across the five batches, test images from 1000.
 */
export function writeCifar10(dir: string, perFile = 2): void {
  fs.mkdirSync(dir, { recursive: true });
  for (let b = 0; b < 5; b++) {
    const labels = Array.from({ length: perFile }, (_, i) => [(b * perFile + i) % 10]);
    fs.writeFileSync(path.join(dir, `data_batch_${b + 1}.bin`), cifarFileBytes(labels, b * perFile));
  }
  const test = Array.from({ length: perFile }, (_, i) => [9 - (i % 10)]);
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), cifarFileBytes(test, 1000));
}

/** CIFAR-100's two files: record i has coarse label i % 20 and fine label (7 i) % 100. */
export function writeCifar100(dir: string, train = 4, test = 3): void {
  fs.mkdirSync(dir, { recursive: true });
  const labels = (n: number): number[][] => Array.from({ length: n }, (_, i) => [i % 20, (7 * i) % 100]);
  fs.writeFileSync(path.join(dir, 'train.bin'), cifarFileBytes(labels(train), 0));
  fs.writeFileSync(path.join(dir, 'test.bin'), cifarFileBytes(labels(test), 1000));
}
