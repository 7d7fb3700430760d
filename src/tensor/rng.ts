// Seeded pseudo-random numbers: xoshiro128** (Blackman & Vigna, https://prng.di.unimi.it/),
// seeded through splitmix32 so that nearby seeds give unrelated streams. 32-bit integer maths only,
// so the same seed gives the same numbers on every machine; the state is four words, which a
// checkpoint can save and restore.

import { backend } from '../backend/backend.js';
import { polarNormal, xoshiroNext } from '../backend/reference/random.js';

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private s: Uint32Array;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`Rng: expected an integer seed, got ${seed}`);
    const mix = splitmix32(seed);
    this.s = new Uint32Array([mix(), mix(), mix(), mix()]);
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    return xoshiroNext(this.s);
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). Rejection sampling, so there is no modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) throw new RangeError(`Rng.int: expected 1 <= n <= 2^32, got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal (Marsaglia's polar method; the second value is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    const spare = { value: null as number | null };
    const u = polarNormal(this.s, spare);
    this.spareNormal = spare.value;
    return u;
  }

  /**
   * out[i] = normal() × scale for every i, the same numbers as that loop, drawn by the backend's
   * kernel: weight initialisation draws tens of millions.
   */
  fillNormal(out: Float32Array, scale: number): void {
    let from = 0;
    if (this.spareNormal !== null && out.length > 0) {
      out[0] = this.spareNormal * scale;
      this.spareNormal = null;
      from = 1;
    }
    if (from === out.length) return;
    const left = backend().normalFill(from === 0 ? out : out.subarray(from), this.s, scale);
    this.spareNormal = Number.isNaN(left) ? null : left;
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** The generator's whole state, for checkpoints. */
  getState(): number[] {
    return [...this.s, this.spareNormal === null ? Number.NaN : this.spareNormal];
  }

  setState(state: readonly number[]): void {
    if (state.length !== 5) throw new RangeError(`Rng.setState: expected 5 numbers, got ${state.length}`);
    this.s = new Uint32Array(state.slice(0, 4));
    this.spareNormal = Number.isNaN(state[4]) ? null : state[4]!;
  }
}

