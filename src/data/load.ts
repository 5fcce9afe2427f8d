// The data of a run: a dataset read once, split by the paper's protocol. One shape from the config
// file to here (the config's `dataset` section is a DataSpec), and the one place where subset sizes
// (null = the default, a count, or a fraction) become counts or per-class fractions.
import { type CifarName, loadCifar } from './cifar.js';
import { DataConfigError } from './errors.js';
import { loadImageFolders } from './folder.js';
import { loadIdxDataset } from './idx.js';
import { deriveSeed } from './rng.js';
import { type DatasetMeta, type ImageSource, type LoadedDataset, withoutLabels } from './source.js';
import { checkSplits, type Fractions, makeClassSplits, makeSplits, SplitIndices, type SplitSizes } from './splits.js';
import { BatchStream, type StreamOptions, type Subset } from './stream.js';
import { makeTransform } from './transforms.js';

export const LOADABLE = ['cifar10', 'cifar100', 'fashion-mnist', 'mnist', 'imagenet'] as const;
export type LoadableDataset = (typeof LOADABLE)[number];

/** A subset size: null = the default split, an integer >= 1 = that many images, 0 < x < 1 = that fraction. */
export type SubsetSize = number | null;

/** The sizes of the subsets, as a config file gives them (src/config's dataset section has these keys). */
export interface SizeSpec {
  trainSize?: SubsetSize;
  valSize?: SubsetSize;
  unlabeledSize?: SubsetSize;
  testSize?: SubsetSize;
  /** Training images held out as the test split instead of the test set (paper §4.4: 5000). */
  testFromTrain?: number | null;
}

/** What to load and how to split it: the config file's `dataset` section as it is. */
export interface DataSpec extends SizeSpec {
  name: LoadableDataset;
  /** Dataset directory (CIFAR: also a .tar.gz); null = $LBT_DATA, or the Debian Fashion-MNIST path. */
  dir?: string | null;
  /** Where the other CIFAR (D_u of a CIFAR search) lies; null = dir. */
  unlabeledDir?: string | null;
}

/**
 * What the splits are for. search: D_tr, D_val and D_u (paper §4.1-4.2). train (`lbt train`, the
 * retrain after a search): D_tr and D_val only, by default the two halves of the labelled training set.
 */
export type DataPurpose = 'search' | 'train';

export interface SplitOptions {
  /** The split seed (a run's seed). */
  seed: number;
  purpose: DataPurpose;
  /** A run's saved splits (resume): reused as they are, after checking them against the data. */
  saved?: SplitIndices;
}

export type Part = 'train' | 'valid' | 'unlabeled' | 'test';

/** A dataset split into the subsets a run uses. */
export interface SplitData {
  readonly meta: DatasetMeta;
  /** Save this with the run; pass it back (SplitOptions.saved) to resume on the same split. */
  readonly splits: SplitIndices;
  readonly train: Subset;
  readonly valid: Subset;
  /** D_u: batches come without labels (empty for purpose 'train'). */
  readonly unlabeled: Subset;
  readonly test: Subset | null;
}

/** Loads a dataset as distributed (training and test parts), validated in full. */
export async function loadDataset(spec: {
  name: LoadableDataset;
  dir?: string | null;
  imageSize?: number;
}): Promise<LoadedDataset> {
  const dir = spec.dir ?? undefined;
  switch (spec.name) {
    case 'cifar10':
    case 'cifar100':
      return loadCifar(spec.name, dir);
    case 'fashion-mnist':
    case 'mnist':
      return loadIdxDataset(spec.name, dir);
    case 'imagenet':
      return loadImageFolders(dir, spec.imageSize ?? 224);
  }
}

/**
 * Reads everything a run needs and splits it: a CIFAR search also reads the other CIFAR's training
 * images as D_u. `loaded`: the dataset when the caller has read it already (it is not read twice).
 */
export async function loadData(spec: DataSpec, o: SplitOptions & { loaded?: LoadedDataset }): Promise<SplitData> {
  const ds = o.loaded ?? (await loadDataset(spec));
  let other: ImageSource | null = null;
  if (o.purpose === 'search' && (spec.name === 'cifar10' || spec.name === 'cifar100')) {
    const otherName: CifarName = spec.name === 'cifar10' ? 'cifar100' : 'cifar10';
    other = (await loadCifar(otherName, spec.unlabeledDir ?? spec.dir ?? undefined, { trainOnly: true })).train;
  }
  return splitData(ds, other, spec, o);
}

/** Default per-class fractions of image folders: paper §4.2 for a search (10% / 2.5% / 10%); halves for training. */
const FOLDER_DEFAULTS: Record<DataPurpose, Fractions> = {
  search: { train: 0.1, valid: 0.025, unlabeled: 0.1 },
  train: { train: 0.5, valid: 0.5 - 1e-9, unlabeled: 0 }, // 0.5 and just under 0.5 never round past a class's count
};

const isFraction = (v: SubsetSize | undefined): v is number => v !== null && v !== undefined && v > 0 && v < 1;

/**
 * Count sizes of an in-memory dataset. Fractions are of the labelled training images available for
 * splitting (the training set less those held out as the test split), at least one image; the test
 * size's fraction is of the test split. Defaults: search, thirds of the training set (halves with
 * another dataset as D_u, which is then used whole); train, its two halves and no D_u.
 */
export function resolveCounts(
  s: SizeSpec,
  n: { train: number; test: number | null; other: number | null },
  purpose: DataPurpose,
): SplitSizes {
  const held = s.testFromTrain ?? 0;
  const pool = n.train - held;
  const nTest = held || (n.test ?? 0);
  const count = (v: SubsetSize | undefined, of: number, dflt: number) =>
    v === null || v === undefined ? dflt : isFraction(v) ? Math.max(1, Math.floor(v * of)) : v;
  const test = count(s.testSize, nTest, nTest);
  if (purpose === 'train') {
    const half = Math.floor(pool / 2);
    const train = count(s.trainSize, pool, half);
    const valid = count(s.valSize, pool, Math.min(pool - half, Math.max(0, pool - train)));
    return { train, valid, unlabeled: 0, test };
  }
  const part = n.other !== null ? Math.floor(pool / 2) : Math.floor(pool / 3);
  return {
    train: count(s.trainSize, pool, part),
    valid: count(s.valSize, pool, part),
    unlabeled: count(s.unlabeledSize, n.other ?? pool, n.other ?? part),
    test,
  };
}

/** Per-class fractions of image folders (counts are refused: classes differ in size). */
export function resolveFractions(s: SizeSpec, purpose: DataPurpose): Fractions {
  const d = FOLDER_DEFAULTS[purpose];
  const frac = (k: 'trainSize' | 'valSize' | 'unlabeledSize', dflt: number) => {
    const v = s[k];
    if (v === null || v === undefined) return dflt;
    if (v !== 0 && !isFraction(v)) throw new DataConfigError(`dataset.${k}`, `image folders take a fraction in (0, 1), got ${v}`);
    return v;
  };
  return {
    train: frac('trainSize', d.train),
    valid: frac('valSize', d.valid),
    unlabeled: purpose === 'train' ? 0 : frac('unlabeledSize', d.unlabeled),
  };
}

const subset = (name: string, source: ImageSource, idx: readonly number[], labelled: boolean): Subset => ({
  name,
  source,
  indices: Int32Array.from(idx),
  labelled,
});

function freshSplits(ds: LoadedDataset, other: ImageSource | null, s: SizeSpec, o: SplitOptions): SplitIndices {
  const nTest = ds.test?.n ?? null;
  const name = ds.meta.name;
  if (ds.train.kind === 'folder') {
    if (s.testFromTrain)
      throw new DataConfigError(
        'testFromTrain',
        'image folders have their own val/ test split; a held-out test split is for CIFAR and IDX data',
      );
    const splits = makeClassSplits(name, o.seed, ds.train.labels, ds.meta.numClasses, resolveFractions(s, o.purpose), nTest);
    if (splits.test === null || s.testSize === null || s.testSize === undefined) return splits;
    const keep = isFraction(s.testSize) ? Math.max(1, Math.floor(s.testSize * splits.test.length)) : s.testSize;
    return { ...splits, test: splits.test.slice(0, keep) };
  }
  const sizes = resolveCounts(s, { train: ds.train.n, test: nTest, other: other?.n ?? null }, o.purpose);
  const held = s.testFromTrain ?? 0;
  const on = other ? { name: other.origin, n: other.n } : null;
  return makeSplits(name, o.seed, sizes, { train: ds.train.n, other: on, test: nTest, heldOut: held });
}

/**
 * Splits a loaded dataset. `other` is D_u's source when it is another dataset (labels are removed
 * here); null carves D_u out of the training set.
 */
export function splitData(ds: LoadedDataset, other: ImageSource | null, s: SizeSpec, o: SplitOptions): SplitData {
  let splits: SplitIndices;
  if (o.saved) {
    splits = SplitIndices.parse(o.saved);
    if (splits.dataset !== ds.meta.name)
      throw new DataConfigError('splits.dataset', `${splits.dataset}, the data is ${ds.meta.name}`);
  } else splits = freshSplits(ds, other, s, o);
  const uSource = other ? (other.kind === 'array' ? withoutLabels(other) : other) : ds.train;
  checkSplits(splits, { train: ds.train.n, unlabeled: uSource.n, test: ds.test?.n ?? null });
  return {
    meta: ds.meta,
    splits,
    train: subset('train', ds.train, splits.train, true),
    valid: subset('valid', ds.train, splits.valid, true),
    unlabeled: subset('unlabeled', uSource, splits.unlabeled, false),
    test: !splits.test
      ? null
      : splits.testFrom === 'train'
        ? subset('test', ds.train, splits.test, true)
        : ds.test && subset('test', ds.test, splits.test, true),
  };
}

export interface OpenStreamOptions extends Omit<StreamOptions, 'seed'> {
  /** The run's data seed; each part derives its own stream seed from it. */
  seed: number;
  /** Training augmentation; default true except for test. */
  augment?: boolean;
  /** Cutout length when augmenting (0 = off, default). */
  cutout?: number;
  /** Random-crop padding for fixed-size images (default 4). */
  pad?: number;
}

const PART_TAG: Record<Part, number> = { train: 1, valid: 2, unlabeled: 3, test: 4 };

/**
 * A batch stream over one part. Defaults: train → epoch mode, shuffled, augmented; valid and
 * unlabeled → infinite (a fresh shuffled draw per pass, as DARTS draws search batches), augmented;
 * test → epoch mode, in order, no augmentation.
 */
export function openStream(
  data: Pick<SplitData, 'meta'> & Partial<Record<Part, Subset | null>>,
  part: Part,
  o: OpenStreamOptions,
): BatchStream {
  const sub = data[part];
  if (!sub) throw new DataConfigError(part, `${data.meta.name} has no ${part} set`);
  const isTest = part === 'test';
  const transform = makeTransform(sub.source, data.meta, { train: o.augment ?? !isTest, cutout: o.cutout, pad: o.pad });
  return new BatchStream(sub, transform, {
    ...o,
    seed: deriveSeed(o.seed, PART_TAG[part]),
    mode: o.mode ?? (part === 'valid' || part === 'unlabeled' ? 'infinite' : 'epoch'),
    shuffle: o.shuffle ?? !isTest,
  });
}

/** The held-back labels of D_u images (same-dataset D_u only), for pseudo-label agreement; else null. */
export function hiddenLabels(data: SplitData, index: Int32Array): Int32Array | null {
  const labels = data.unlabeled.source === data.train.source ? data.train.source.labels : null;
  return labels ? Int32Array.from(index, (i) => labels[i]!) : null;
}
