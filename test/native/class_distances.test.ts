// Class distances through the native kernels (oneDNN matmul for the centroids, the C++
// meanSquaredError for every distance) against the reference backend, on random points with an
// uneven class mix and rows that are not multiples of any vector width.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classDistances } from '../../src/analysis/class_distances.js';
import { setBackend } from '../../src/backend/backend.js';
import { nativeBackend } from '../../src/backend/native_backend.js';
import { referenceBackend } from '../../src/backend/reference_backend.js';
import { Rng } from '../../src/tensor/rng.js';

test('classDistances: native kernels agree with the reference backend within float32 rounding', () => {
  const rng = new Rng(11);
  const n = 517, d = 301, classes = 10;
  const labels = Int32Array.from({ length: n }, () => Math.min(rng.int(classes), rng.int(classes)));
  const x = Float32Array.from({ length: n * d }, (_, i) => rng.normal() + labels[Math.floor(i / d)]! * 0.1 * (i % 7));
  setBackend(referenceBackend);
  const want = classDistances(x, labels, classes, d, 100);
  setBackend(nativeBackend);
  const got = classDistances(x, labels, classes, d, 100);
  assert.equal(got.classes, want.classes);
  for (const key of ['inter', 'intra', 'ratio'] as const) {
    assert.ok(Math.abs(got[key]! - want[key]!) <= 1e-5 * Math.abs(want[key]!), `${key}: native ${got[key]}, reference ${want[key]}`);
  }
});
