// Shared by the native kernel tests: seeded random data and an elementwise comparison whose
// tolerance grows with the length of the sum behind each output element.
import assert from 'node:assert/strict';

import { Rng } from '../../src/tensor/rng.js';

export function randoms(seed: number): { normal(n: number, scale?: number): Float32Array; ints(n: number, range: number): Float32Array } {
  const rng = new Rng(seed);
  return {
    normal: (n, scale = 1) => Float32Array.from({ length: n }, () => rng.normal() * scale),
    // small integers: exact sums, and ties for max pooling
    ints: (n, range) => Float32Array.from({ length: n }, () => rng.int(range)),
  };
}

/**
 * |actual - expected| <= rel |expected| + absPerTerm * terms, elementwise. With inputs ~N(0, 1),
 * float32 rounding of a sum of `terms` products grows at most linearly with `terms`, so the
 * absolute part scales with it; `rel` covers the final rounding.
 */
export function assertClose(
  actual: ArrayLike<number>, expected: ArrayLike<number>, what: string,
  tol: { rel?: number; absPerTerm?: number; terms?: number } = {},
): void {
  const rel = tol.rel ?? 1e-5;
  const abs = (tol.absPerTerm ?? 2e-6) * (tol.terms ?? 1);
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const excess = Math.abs(actual[i]! - e) - (rel * Math.abs(e) + abs);
    if (!(excess <= worst)) {
      worst = Number.isNaN(excess) ? Infinity : excess;
      worstAt = i;
    }
  }
  if (worstAt >= 0) {
    assert.fail(`${what}: element ${worstAt} is ${actual[worstAt]}, reference ${expected[worstAt]} (tolerance rel ${rel}, abs ${abs})`);
  }
}
