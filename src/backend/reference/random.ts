// The seeded generator behind src/tensor/rng.ts and the reference normalFill: xoshiro128**
// (Blackman & Vigna, https://prng.di.unimi.it/) on a four-word state, and Marsaglia's polar method
// for normals. native/random.cc repeats normalFill step for step, so both backends draw the same.

/** The next uniform 32-bit unsigned integer of the generator whose state `s` holds; advances it. */
export function xoshiroNext(s: Uint32Array): number {
  const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
  const t = s[1]! << 9;
  s[2]! ^= s[0]!;
  s[3]! ^= s[1]!;
  s[1]! ^= s[2]!;
  s[0]! ^= s[3]!;
  s[2]! ^= t;
  s[3] = rotl(s[3]!, 11);
  return result;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Uniform in [0, 1) with 32 bits of resolution. */
export function xoshiroUniform(s: Uint32Array): number {
  return xoshiroNext(s) / 4294967296;
}

/** Two independent standard normals by the polar method; `spare` receives the second. */
export function polarNormal(s: Uint32Array, spare: { value: number | null }): number {
  for (;;) {
    const u = 2 * xoshiroUniform(s) - 1;
    const v = 2 * xoshiroUniform(s) - 1;
    const q = u * u + v * v;
    if (q > 0 && q < 1) {
      const f = Math.sqrt((-2 * Math.log(q)) / q);
      spare.value = v * f;
      return u * f;
    }
  }
}

/** The Backend's normalFill (kernel_names.ts), in TypeScript. */
export function normalFill(out: Float32Array, state: Uint32Array, scale: number): number {
  if (state.length !== 4) throw new RangeError(`normalFill: expected a Uint32Array of 4 words for state, got ${state.length}`);
  const spare: { value: number | null } = { value: null };
  for (let i = 0; i < out.length; i++) {
    if (spare.value !== null) {
      out[i] = spare.value * scale;
      spare.value = null;
    } else {
      out[i] = polarNormal(state, spare) * scale;
    }
  }
  return spare.value ?? Number.NaN;
}
