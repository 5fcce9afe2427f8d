// Per-channel mean and standard deviation of a dataset lbt does not know (`folder`), from its
// training images as the networks see them (the evaluation transform, before normalisation), over
// all pixels, as CIFAR's published constants are computed. A fixed sample of at most STATS_IMAGES
// images keeps this quick on large folders; the sample does not depend on the run seed, so a search,
// its retrain and `lbt train` on the same data get the same numbers (and a run saves them).
import { DataConfigError } from './errors.js';
import { deriveSeed, permutation, Rng } from './rng.js';
import type { DatasetMeta, ImageSource } from './source.js';
import { makeTransform } from './transforms.js';

export const STATS_IMAGES = 1000;
const STATS_SEED = deriveSeed(0x4c4254, 6);

export interface Normalization {
  mean: number[];
  std: number[];
  /** Images the numbers were computed from. */
  images: number;
}

/** Mean and std per channel over `pool` (indices into source; at most STATS_IMAGES of them, a fixed sample). */
export function channelStats(source: ImageSource, pool: ArrayLike<number>, meta: DatasetMeta): Normalization {
  const [c, h, w] = meta.shape;
  if (pool.length === 0)
    throw new DataConfigError('dataset', `${source.origin}: no training images to compute the mean and std from`);
  const pick =
    pool.length <= STATS_IMAGES
      ? Array.from(pool)
      : Array.from(permutation(pool.length, STATS_SEED).subarray(0, STATS_IMAGES), (k) => pool[k]!);
  const identity = { ...meta, mean: new Array(c).fill(0), std: new Array(c).fill(1) };
  const tr = makeTransform(source, identity, { train: false });
  const per = c * h * w;
  const x = new Float32Array(per);
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  const rng = new Rng(0); // the evaluation transform draws no random numbers
  for (const i of pick) {
    tr.write(i, rng, x, 0);
    for (let p = 0; p < per; p++) {
      const v = x[p]!;
      sum[p % c]! += v;
      sq[p % c]! += v * v;
    }
  }
  const n = pick.length * h * w;
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sq, (s, k) => Math.sqrt(Math.max(s / n - mean[k]! ** 2, 0)));
  // a constant channel (a solid-colour dataset) would divide by zero: its std stays 1
  return { mean, std: std.map((s) => (s > 1e-6 ? s : 1)), images: pick.length };
}

/** The dataset meta with the given normalisation. */
export function withNormalization<T extends { meta: DatasetMeta }>(ds: T, n: Pick<Normalization, 'mean' | 'std'>): T {
  return { ...ds, meta: { ...ds.meta, mean: [...n.mean], std: [...n.std] } };
}
