// Seeded pseudo-random numbers for data order and augmentation, independent of libtorch's RNG.
//
// mulberry32: one 32-bit word of state, so a generator's state is a plain JSON number.
// Streams of randomness are derived from a run seed with deriveSeed(seed, ...coordinates)
// (murmur3's finaliser as the mixer), so the numbers for (epoch, position) never depend on
// how many numbers were drawn before: resumed and prefetched runs see the same values.

/** murmur3 fmix32: a bijective 32-bit mixer. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A seed for the stream at the given integer coordinates under `seed` (all taken mod 2^32). */
export function deriveSeed(seed: number, ...coords: readonly number[]): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  for (const c of coords) h = fmix32((h ^ fmix32((c >>> 0) + 0x7f4a7c15)) >>> 0);
  return h;
}

export class Rng {
  #s: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`Rng: seed ${seed} is not an integer`);
    this.#s = seed >>> 0;
  }

  /** The generator's state (restore it with new Rng(state)). */
  get state(): number {
    return this.#s;
  }

  /** Uniform on [0, 1), 32 bits of resolution. */
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform on [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** True with probability p. */
  bernoulli(p = 0.5): boolean {
    return this.next() < p;
  }
}

/** A uniformly random permutation of 0..n-1 (Fisher-Yates, drawing from a fresh Rng(seed)). */
export function permutation(n: number, seed: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const rng = new Rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = p[i]!;
    p[i] = p[j]!;
    p[j] = tmp;
  }
  return p;
}
