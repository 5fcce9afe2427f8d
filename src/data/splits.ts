// Train / validation / unlabeled / test splits: deterministic given a seed, saved with a run.
//
// Paper protocol (§4.1, §4.2): CIFAR-10's training set → train + validation (a seeded
// permutation's first and next parts, shared by teacher and student); D_u = the other CIFAR's
// training images without labels. Fashion-MNIST/MNIST: train, validation and D_u are disjoint
// parts of one permutation of its training set. ImageNet: per class, a seeded sample of 10% train,
// 2.5% validation and another 10% unlabeled. The λ/γ studies (§4.4) hold out 5K training images as
// the test split (testFrom: 'train'). Every split is stored sorted ascending.
import { z } from 'zod';
import { DataConfigError } from './errors.js';
import { deriveSeed, permutation } from './rng.js';
import type { DatasetName } from './source.js';

const Indices = z.array(z.number().int().nonnegative());

/** Where D_u came from (dataset.unlabeled), so that a resumed run reads the same images. */
export const UnlabeledSource = z.strictObject({
  /** The rule that chose it: the paper's, a held-out part of the training set, or a folder of images. */
  rule: z.enum(['paper', 'heldout', 'folder']),
  /** 'train': carved from the labelled training set (labels removed); else the dataset or folder read. */
  from: z.enum(['train', 'cifar10', 'cifar100', 'folder']),
  /** The file or directory it was read from. */
  origin: z.string(),
  /** Images in that source (the training set's for 'train'). */
  images: z.number().int().nonnegative(),
  /** Images of a D_u folder left out because they are labelled images of the dataset (same folder). */
  excluded: z.number().int().nonnegative().default(0),
});
export type UnlabeledSource = z.infer<typeof UnlabeledSource>;

/** Per-channel normalisation computed from the training images (datasets lbt does not know); reused on resume. */
export const SavedNormalization = z.strictObject({
  mean: z.array(z.number()).min(1),
  std: z.array(z.number().positive()).min(1),
  images: z.number().int().positive(),
});

export const SplitIndices = z.strictObject({
  format: z.literal('lbt-splits/1'),
  dataset: z.string(),
  seed: z.number().int().nonnegative(),
  /** Where D_u comes from: 'train' (the same training set) or another dataset's name. */
  unlabeledFrom: z.string(),
  train: Indices,
  valid: Indices,
  unlabeled: Indices,
  /** What `test` indexes: the test set, or the training set (a held-out part of it, paper §4.4). */
  testFrom: z.enum(['test', 'train']).default('test'),
  /** Indices into the test set (or the training set, see testFrom), or null when there is none. */
  test: Indices.nullable(),
  /** Where D_u came from (absent in splits written before dataset.unlabeled existed). */
  unlabeledSource: UnlabeledSource.optional(),
  /** The mean and std the run normalises with, when computed from the data. */
  normalization: SavedNormalization.optional(),
});
export type SplitIndices = z.infer<typeof SplitIndices>;

export interface SplitSizes {
  train: number;
  valid: number;
  unlabeled: number;
  test: number;
}

const sortedSlice = (p: Int32Array, from: number, to: number): number[] => Array.from(p.subarray(from, to)).sort((a, b) => a - b);

function need(field: string, want: number, have: number, what: string): void {
  if (!Number.isInteger(want) || want < 0) throw new DataConfigError(field, `${want} is not a non-negative integer`);
  if (want > have) throw new DataConfigError(field, `${want} images requested, ${what} holds ${have}`);
}

/** The held-out sample's stream: a constant ('LBT'), not derived from any run seed. */
const HELD_OUT_SEED = deriveSeed(0x4c4254, 5);

/**
 * The training images held out as the test split (paper §4.4: 5K of CIFAR's train + val): one
 * sample that does not depend on the run seed, so every seed and every λ/γ point is tested on the
 * same images. Returns the held-out part (unsorted) and the rest, in the sample's order.
 */
export function holdOut(nTrain: number, count: number): { held: Int32Array; rest: Int32Array } {
  need('testFromTrain', count, nTrain, 'the training set');
  const q = permutation(nTrain, HELD_OUT_SEED);
  return { held: q.subarray(0, count), rest: q.subarray(count) };
}

/** `count` images of a D_u source of n (another dataset or a folder), by the run seed, sorted. */
export function sampleOther(seed: number, count: number, other: { name: string; n: number }): number[] {
  need('unlabeledSize', count, other.n, `${other.name}`);
  return sortedSlice(permutation(other.n, deriveSeed(seed, 2)), 0, count);
}

/**
 * Count-based splits. nTrain: size of the labelled training set; nOther: size of the D_u source
 * when it is another dataset (null: D_u is carved from the same training set); nTest: test set size;
 * heldOut: training images held out as the test split instead of the test set (0 = none).
 */
export function makeSplits(
  dataset: DatasetName,
  seed: number,
  sizes: SplitSizes,
  n: { train: number; other: { name: string; n: number } | null; test: number | null; heldOut?: number },
): SplitIndices {
  const same = n.other === null;
  const h = n.heldOut ?? 0;
  const pool = h > 0 ? holdOut(n.train, h) : null;
  const nPool = n.train - h;
  const carved = sizes.train + sizes.valid + (same ? sizes.unlabeled : 0);
  const where = `the ${dataset} training set${h ? ` less the ${h} held out as the test split` : ''}`;
  need(`trainSize + validSize${same ? ' + unlabeledSize' : ''}`, carved, nPool, where);
  const p0 = permutation(nPool, deriveSeed(seed, 1));
  const p = pool ? p0.map((i) => pool.rest[i]!) : p0;
  const train = sortedSlice(p, 0, sizes.train);
  const valid = sortedSlice(p, sizes.train, sizes.train + sizes.valid);
  let unlabeled: number[];
  if (same) unlabeled = sortedSlice(p, sizes.train + sizes.valid, carved);
  else unlabeled = sampleOther(seed, sizes.unlabeled, n.other!);
  let test: number[] | null = null;
  if (pool) {
    need(
      'testSize',
      sizes.test,
      h,
      'the test split held out of the training set (dataset.testFromTrain; a folder dataset without test/ or val/: a tenth)',
    );
    const pick = sizes.test === h ? pool.held : permutation(h, deriveSeed(seed, 3)).map((i) => pool.held[i]!);
    test = sortedSlice(pick, 0, sizes.test);
  } else if (n.test !== null) {
    need('testSize', sizes.test, n.test, `the ${dataset} test set`);
    test =
      sizes.test === n.test
        ? Array.from({ length: n.test }, (_, i) => i)
        : sortedSlice(permutation(n.test, deriveSeed(seed, 3)), 0, sizes.test);
  }
  const unlabeledFrom = same ? 'train' : n.other!.name;
  return {
    format: 'lbt-splits/1',
    dataset,
    seed,
    unlabeledFrom,
    train,
    valid,
    unlabeled,
    testFrom: pool ? 'train' : 'test',
    test,
  };
}

export interface Fractions {
  train: number;
  valid: number;
  unlabeled: number;
}

/** Per-class fractions (ImageNet, §4.2): each class contributes round(f·count) images to each part, at least one to train and valid. */
export function makeClassSplits(
  dataset: DatasetName,
  seed: number,
  labels: Int32Array,
  numClasses: number,
  f: Fractions,
  nTest: number | null,
): SplitIndices {
  for (const [k, v] of Object.entries(f))
    if (!(v >= 0 && v <= 1)) throw new DataConfigError(`${k}Fraction`, `${v} is not in [0, 1]`);
  if (f.train + f.valid + f.unlabeled > 1)
    throw new DataConfigError('fractions', `train + valid + unlabeled = ${f.train + f.valid + f.unlabeled} > 1`);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]!]!.push(i);
  const train: number[] = [];
  const valid: number[] = [];
  const unlabeled: number[] = [];
  byClass.forEach((members, c) => {
    const m = members.length;
    const nt = Math.max(1, Math.round(f.train * m));
    const nv = Math.max(1, Math.round(f.valid * m));
    const nu = Math.round(f.unlabeled * m);
    if (nt + nv + nu > m)
      throw new DataConfigError(
        'fractions',
        `class ${c} has ${m} images, too few for ${nt} train + ${nv} valid + ${nu} unlabeled`,
      );
    const p = permutation(m, deriveSeed(seed, 4, c));
    for (let k = 0; k < nt + nv + nu; k++) (k < nt ? train : k < nt + nv ? valid : unlabeled).push(members[p[k]!]!);
  });
  const sort = (a: number[]) => a.sort((x, y) => x - y);
  const test = nTest === null ? null : Array.from({ length: nTest }, (_, i) => i);
  return {
    format: 'lbt-splits/1',
    dataset,
    seed,
    unlabeledFrom: 'train',
    train: sort(train),
    valid: sort(valid),
    unlabeled: sort(unlabeled),
    testFrom: 'test',
    test,
  };
}

/** Checks saved splits against the data they will index: ranges, duplicates, train/valid overlap. */
export function checkSplits(s: SplitIndices, n: { train: number; unlabeled: number; test: number | null }): void {
  const check = (field: string, idx: readonly number[], max: number) => {
    const seen = new Uint8Array(max);
    for (const i of idx) {
      if (i >= max) throw new DataConfigError(`splits.${field}`, `index ${i} outside a set of ${max} images`);
      if (seen[i]) throw new DataConfigError(`splits.${field}`, `index ${i} appears twice`);
      seen[i] = 1;
    }
    return seen;
  };
  const tr = check('train', s.train, n.train);
  const va = check('valid', s.valid, n.train);
  const un = check('unlabeled', s.unlabeled, n.unlabeled);
  for (const i of s.valid) if (tr[i]) throw new DataConfigError('splits.valid', `index ${i} is also in train`);
  if (s.unlabeledFrom === 'train') {
    for (let i = 0; i < n.train; i++)
      if (un[i] && (tr[i] || va[i])) throw new DataConfigError('splits.unlabeled', `index ${i} is also labelled`);
  }
  if (s.test !== null && s.testFrom === 'train') {
    // held out of the training set: never trained or searched on
    check('test', s.test, n.train);
    for (const i of s.test)
      if (tr[i] || va[i] || (s.unlabeledFrom === 'train' && un[i]))
        throw new DataConfigError('splits.test', `index ${i} is held out as a test image and also in a training split`);
  } else if (s.test !== null) {
    if (n.test === null) throw new DataConfigError('splits.test', 'the dataset has no test set');
    check('test', s.test, n.test);
  }
}
