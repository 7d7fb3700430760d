// The CIFAR augmentation on the reference backend: the draws are seeded and in range, crop and
// flip move the right pixels (hand-made images), every output image has mean 0 and std 1, and the
// maths of brightness and contrast under standardisation holds.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setBackend } from '../../../src/backend/backend.js';
import { referenceBackend } from '../../../src/backend/reference_backend.js';
import { CifarAugmentation, standardizeImages } from '../../../src/data/augment.js';
import { ShapeError } from '../../../src/tensor/errors.js';
import { augmentImages } from '../../../src/tensor/ops/image.js';
import { Rng } from '../../../src/tensor/rng.js';

before(() => setBackend(referenceBackend));

const random = (n: number, seed: number): Float32Array => {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.next() - 0.5);
};

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

/** Mean and population std of each image of a batch. */
function imageStats(y: Float32Array, size: number): { mean: number; std: number }[] {
  const out = [];
  for (let i = 0; i < y.length / size; i++) {
    const img = y.subarray(i * size, (i + 1) * size);
    const mean = img.reduce((s, v) => s + v, 0) / size;
    out.push({ mean, std: Math.sqrt(img.reduce((s, v) => s + (v - mean) ** 2, 0) / size) });
  }
  return out;
}

test('draws: seeded, five per image, every value in its range', () => {
  const aug = new CifarAugmentation([32, 32, 3]);
  const a = aug.draw(2000, new Rng(3));
  assert.deepEqual(aug.draw(2000, new Rng(3)), a);
  assert.notDeepEqual(aug.draw(2000, new Rng(4)).crop, a.crop);
  const tops = new Set<number>(), lefts = new Set<number>(), flips = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    tops.add(a.crop[3 * i]!);
    lefts.add(a.crop[3 * i + 1]!);
    flips.add(a.crop[3 * i + 2]!);
    assert.ok(Math.abs(a.adjust[2 * i]!) <= 63 / 255 + 1e-7);
    assert.ok(a.adjust[2 * i + 1]! >= 0.2 - 1e-7 && a.adjust[2 * i + 1]! <= 1.8 + 1e-7);
  }
  assert.deepEqual([...tops].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([...lefts].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([...flips].sort(), [0, 1]);
  // Five draws per image whatever the options: turning flips off leaves the other draws as they were.
  const noFlip = new CifarAugmentation([32, 32, 3], { flip: false }).draw(2000, new Rng(3));
  assert.ok(noFlip.crop.every((v, k) => (k % 3 === 2 ? v === 0 : v === a.crop[k])));
  assert.deepEqual(noFlip.adjust, a.adjust);
});

test('apply: the same seed gives the same batch, another seed another; x is left alone', () => {
  const aug = new CifarAugmentation([32, 32, 3]);
  const x = random(8 * 3072, 1);
  const copy = Float32Array.from(x);
  const a = aug.apply(x, 8, new Rng(9));
  assert.deepEqual(aug.apply(x, 8, new Rng(9)), a);
  assert.notDeepEqual(aug.apply(x, 8, new Rng(10)), a);
  assert.deepEqual(x, copy);
});

test('crop and flip of a hand-made 2x2 image, padded by 1', () => {
  // [[10, 20], [30, 40]] padded is a 4x4 frame of zeros around it.
  const x = Float32Array.from([10, 20, 30, 40]);
  const run = (top: number, left: number, flip: number): number[] =>
    [...augmentImages(x, [1, 2, 2, 1], Int32Array.from([top, left, flip]), Float32Array.from([0, 1]), 1)];
  // Window at (0, 0) = [[0, 0], [0, 10]]: mean 2.5, std 2.5 sqrt(3).
  const s = 2.5 * Math.sqrt(3);
  const lo = -2.5 / s, hi = 7.5 / s;
  assertClose(run(0, 0, 0), [lo, lo, lo, hi], 1e-6, 'top-left');
  // Mirrored: [[0, 0], [10, 0]].
  assertClose(run(0, 0, 1), [lo, lo, hi, lo], 1e-6, 'top-left mirrored');
  // Window at (2, 2) = [[40, 0], [0, 0]].
  assertClose(run(2, 2, 0), [hi, lo, lo, lo], 1e-6, 'bottom-right');
  // (1, 1) is the image itself: mean 25, std sqrt(125); mirrored [[20, 10], [40, 30]].
  const z = (v: number): number => (v - 25) / Math.sqrt(125);
  assertClose(run(1, 1, 0), [z(10), z(20), z(30), z(40)], 1e-6, 'centre');
  assertClose(run(1, 1, 1), [z(20), z(10), z(40), z(30)], 1e-6, 'centre mirrored');
  // A std below 1/sqrt(size) is not divided by: [[0, 0], [0, 1]] keeps its spread, (v - 1/4) / (1/2).
  const small = augmentImages(Float32Array.from([1, 2, 3, 4]), [1, 2, 2, 1], Int32Array.from([0, 0, 0]), Float32Array.from([0, 1]), 1);
  assertClose(small, [-0.5, -0.5, -0.5, 1.5], 1e-6, 'std floor');
});

test('crop and flip of a 3x4 two-channel image against an explicit padded copy', () => {
  const [h, w, c, pad] = [3, 4, 2, 2];
  const x = Float32Array.from({ length: h * w * c }, (_, k) => k + 1);
  for (let top = 0; top <= 2 * pad; top++) {
    for (let left = 0; left <= 2 * pad; left++) {
      for (const flip of [0, 1]) {
        // The padded image as nested arrays, then the window, then the mirror.
        const padded = Array.from({ length: h + 2 * pad }, (_, r) => Array.from({ length: w + 2 * pad }, (_, q) =>
          Array.from({ length: c }, (_, ch) => (r >= pad && r < h + pad && q >= pad && q < w + pad ? x[((r - pad) * w + q - pad) * c + ch]! : 0))));
        const window = padded.slice(top, top + h).map((row) => row.slice(left, left + w));
        const expected = Float32Array.from((flip ? window.map((row) => [...row].reverse()) : window).flat(2));
        standardizeImages(expected, 1, h * w * c);
        const y = augmentImages(x, [1, h, w, c], Int32Array.from([top, left, flip]), Float32Array.from([0, 1]), pad);
        assertClose(y, expected, 1e-6, `top ${top} left ${left} flip ${flip}`);
      }
    }
  }
});

test('every augmented image has mean 0 and std 1', () => {
  const aug = new CifarAugmentation([32, 32, 3]);
  const y = aug.apply(random(16 * 3072, 2), 16, new Rng(5));
  for (const [i, { mean, std }] of imageStats(y, 3072).entries()) {
    assert.ok(Math.abs(mean) < 1e-6, `image ${i}: mean ${mean}`);
    assert.ok(Math.abs(std - 1) < 1e-5, `image ${i}: std ${std}`);
  }
});

test('brightness cancels under standardisation; contrast changes only images whose channel means differ', () => {
  const x = random(3072, 3);
  const shape = [1, 32, 32, 3];
  const crop = Int32Array.from([3, 5, 1]);
  const base = augmentImages(x, shape, crop, Float32Array.from([0, 1.4]), 4);
  assertClose(augmentImages(x, shape, crop, Float32Array.from([0.2, 1.4]), 4), base, 1e-5, 'brightness +0.2');
  // Give the channels different means, as real colour images have: contrast then reweights them.
  const tinted = x.map((v, k) => v + (k % 3) * 0.5);
  const a = augmentImages(tinted, shape, crop, Float32Array.from([0, 0.2]), 4);
  const b = augmentImages(tinted, shape, crop, Float32Array.from([0, 1.8]), 4);
  assert.ok(a.some((v, k) => Math.abs(v - b[k]!) > 0.1), 'contrast had no effect on a tinted image');
  // With one channel, contrast is a scaling about the image mean, which standardisation undoes
  // (while the std stays above the 1/sqrt(size) floor, hence the scale of the values).
  const grey = random(64, 4).map((v) => 10 * v);
  const g = (f: number): Float32Array => augmentImages(grey, [1, 8, 8, 1], Int32Array.from([1, 1, 0]), Float32Array.from([0, f]), 1);
  assertClose(g(0.3), g(1.7), 1e-5, 'single channel');
});

test('a constant image becomes zeros, not NaN (the std floor 1/sqrt(size))', () => {
  const y = augmentImages(new Float32Array(2 * 12).fill(0.7), [2, 2, 2, 3], Int32Array.from([1, 1, 0, 1, 1, 1]), Float32Array.from([0.1, 1.5, -0.1, 0.5]), 1);
  assert.deepEqual([...y], new Array(24).fill(0));
});

test('standardizeImages matches the kernel with identity draws', () => {
  const x = random(3 * 3072, 6);
  const expected = Float32Array.from(x);
  standardizeImages(expected, 3, 3072);
  const y = augmentImages(x, [3, 32, 32, 3], Int32Array.from([4, 4, 0, 4, 4, 0, 4, 4, 0]), Float32Array.from([0, 1, 0, 1, 0, 1]), 4);
  assertClose(y, expected, 1e-6, 'identity');
});

test('bad arguments: shapes, offsets outside the padded image, flips other than 0 or 1, options', () => {
  const x = new Float32Array(2 * 4);
  const ok = Float32Array.from([0, 1, 0, 1]);
  assert.throws(() => augmentImages(x, [2, 2, 2], Int32Array.from([0, 0, 0, 0, 0, 0]), ok, 1), ShapeError);
  assert.throws(() => augmentImages(x, [2, 2, 2, 1], new Int32Array(3), ok, 1), /expected crop \[2, 3\], got 3 values/);
  assert.throws(() => augmentImages(x, [2, 2, 2, 2], new Int32Array(6), ok, 1), /expected 16 values for x \[2, 2, 2, 2\], got 8/);
  assert.throws(() => augmentImages(x, [2, 2, 2, 1], Int32Array.from([0, 0, 0, 3, 0, 0]), ok, 1), /augmentImages: image 1: crop offsets \(3, 0\) outside 0..2/);
  assert.throws(() => augmentImages(x, [2, 2, 2, 1], Int32Array.from([0, -1, 0, 0, 0, 0]), ok, 1), /image 0: crop offsets \(0, -1\)/);
  assert.throws(() => augmentImages(x, [2, 2, 2, 1], Int32Array.from([0, 0, 2, 0, 0, 0]), ok, 1), /image 0: flip must be 0 or 1, got 2/);
  assert.throws(() => new CifarAugmentation([32, 32, 3], { pad: -1 }), /pad: expected an integer >= 0, got -1/);
  assert.throws(() => new CifarAugmentation([32, 32, 3], { contrast: [0, 1] }), /contrast: expected 0 < lower <= upper, got \[0, 1\]/);
  assert.deepEqual(augmentImages(new Float32Array(0), [0, 32, 32, 3], new Int32Array(0), new Float32Array(0), 4), new Float32Array(0));
});
