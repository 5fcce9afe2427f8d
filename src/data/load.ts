// The data of a run: a dataset read once, split by the paper's protocol. One shape from the config
// file to here (the config's `dataset` section is a DataSpec), and the one place where subset sizes
// (null = the default, a count, or a fraction) become counts or per-class fractions, where a held-out
// test split is sized, and where D_u's rule (dataset.unlabeled) picks its source.
import { loadCifar } from './cifar.js';
import { type DecodePool, sharedDecodePool } from './decode-pool.js';
import { DataConfigError } from './errors.js';
import { loadFolderDataset, loadImageFolders } from './folder.js';
import { loadIdxDataset } from './idx.js';
import { deriveSeed } from './rng.js';
import { type DatasetMeta, type ImageSource, type LoadedDataset, type Style, withoutLabels } from './source.js';
import {
  checkSplits,
  type Fractions,
  holdOut,
  makeClassSplits,
  makeSplits,
  SplitIndices,
  type SplitSizes,
  sampleOther,
} from './splits.js';
import { channelStats, withNormalization } from './stats.js';
import { BatchStream, type StreamOptions, type Subset } from './stream.js';
import { makeTransform } from './transforms.js';
import { loadUnlabeled, ruleKind, type UnlabeledData, type UnlabeledRule } from './unlabeled.js';

export const LOADABLE = ['cifar10', 'cifar100', 'fashion-mnist', 'mnist', 'imagenet', 'folder'] as const;
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
  /** Where the other CIFAR (the paper's D_u of a CIFAR search) lies; null = dir. */
  unlabeledDir?: string | null;
  /** Where D_u comes from (default 'paper'); see unlabeled.ts. */
  unlabeled?: UnlabeledRule;
  /** Input size of image folders (imagenet, folder); null = imagenet 224, folder its images' own. */
  imageSize?: number | null;
  /** How images are fed; auto (default) = by input size (cifar up to 64 pixels a side). */
  style?: Style | 'auto';
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

const IN_MEMORY_SIZE: Partial<Record<LoadableDataset, number>> = { cifar10: 32, cifar100: 32 };

/** Loads a dataset as distributed (training and test parts), validated in full. */
export async function loadDataset(spec: Pick<DataSpec, 'name' | 'dir' | 'imageSize' | 'style'>): Promise<LoadedDataset> {
  const dir = spec.dir ?? undefined;
  const style = spec.style === 'auto' ? undefined : spec.style;
  const inMemory = () => {
    if (style === 'imagenet')
      throw new DataConfigError('dataset.style', `${spec.name} is read into memory: only the cifar style applies`);
    const native = IN_MEMORY_SIZE[spec.name] ?? 28;
    if (spec.imageSize && spec.imageSize !== native)
      throw new DataConfigError('dataset.imageSize', `${spec.name} images are ${native} pixels a side and are not resized`);
  };
  switch (spec.name) {
    case 'cifar10':
    case 'cifar100':
      inMemory();
      return loadCifar(spec.name, dir);
    case 'fashion-mnist':
    case 'mnist':
      inMemory();
      return loadIdxDataset(spec.name, dir);
    case 'imagenet':
      return loadImageFolders(dir, spec.imageSize ?? 224, style);
    case 'folder':
      return loadFolderDataset(dir, { imageSize: spec.imageSize ?? null, ...(style && { style }) });
  }
}

/**
 * Reads everything a run needs and splits it: the dataset, and for a search D_u's source when it is
 * not the training set (the other CIFAR under the paper's rule, or a folder). `loaded`: the dataset
 * when the caller has read it already (it is not read twice).
 */
export async function loadData(spec: DataSpec, o: SplitOptions & { loaded?: LoadedDataset }): Promise<SplitData> {
  const ds = o.loaded ?? (await loadDataset(spec));
  const rule = spec.unlabeled ?? 'paper';
  if (o.saved?.unlabeledSource && o.saved.unlabeledSource.rule !== ruleKind(rule))
    throw new DataConfigError(
      'dataset.unlabeled',
      `the run's splits took D_u by the ${o.saved.unlabeledSource.rule} rule, the config says ${ruleKind(rule)}`,
    );
  const u = o.purpose === 'search' ? await loadUnlabeled(rule, ds, spec) : null;
  return splitData(ds, u, spec, o);
}

/** Default per-class fractions of ImageNet: paper §4.2 for a search (10% / 2.5% / 10%); halves for training. */
const FOLDER_DEFAULTS: Record<DataPurpose, Fractions> = {
  search: { train: 0.1, valid: 0.025, unlabeled: 0.1 },
  train: { train: 0.5, valid: 0.5 - 1e-9, unlabeled: 0 }, // 0.5 and just under 0.5 never round past a class's count
};

/** A `folder` dataset without a test folder holds this part of its training images out as the test split. */
export const FOLDER_TEST_FRACTION = 0.1;

const isFraction = (v: SubsetSize | undefined): v is number => v !== null && v !== undefined && v > 0 && v < 1;

/** A subset size as a count: the default for null, a fraction of `of` (at least one image), or the count itself. */
const countOf = (v: SubsetSize | undefined, of: number, dflt: number) =>
  v === null || v === undefined ? dflt : isFraction(v) ? Math.max(1, Math.floor(v * of)) : v;

/**
 * Training images held out as the test split: dataset.testFromTrain, else for a `folder` dataset
 * without a test/ or val/ folder a tenth of its images (at least one), else none.
 */
export function heldOutCount(s: SizeSpec, n: { train: number; test: number | null }, dataset: string): number {
  if (s.testFromTrain !== null && s.testFromTrain !== undefined) return s.testFromTrain;
  return dataset === 'folder' && n.test === null ? Math.max(1, Math.floor(FOLDER_TEST_FRACTION * n.train)) : 0;
}

/**
 * Count sizes of a dataset split by counts. Fractions are of the labelled training images available
 * for splitting (the training set less those held out as the test split), at least one image; the
 * test size's fraction is of the test split, D_u's of its source when that is another dataset or a
 * folder. Defaults: search, thirds of the training set (halves with D_u from elsewhere, which is then
 * used whole); train, its two halves and no D_u. heldOut: see heldOutCount (default testFromTrain).
 */
export function resolveCounts(
  s: SizeSpec,
  n: { train: number; test: number | null; other: number | null; heldOut?: number },
  purpose: DataPurpose,
): SplitSizes {
  const held = n.heldOut ?? s.testFromTrain ?? 0;
  const pool = n.train - held;
  const nTest = held || (n.test ?? 0);
  const test = countOf(s.testSize, nTest, nTest);
  if (purpose === 'train') {
    const half = Math.floor(pool / 2);
    const train = countOf(s.trainSize, pool, half);
    const valid = countOf(s.valSize, pool, Math.min(pool - half, Math.max(0, pool - train)));
    return { train, valid, unlabeled: 0, test };
  }
  const part = n.other !== null ? Math.floor(pool / 2) : Math.floor(pool / 3);
  return {
    train: countOf(s.trainSize, pool, part),
    valid: countOf(s.valSize, pool, part),
    unlabeled: countOf(s.unlabeledSize, n.other ?? pool, n.other ?? part),
    test,
  };
}

/** Per-class fractions of ImageNet (counts are refused: classes differ in size); external: D_u comes from elsewhere. */
export function resolveFractions(s: SizeSpec, purpose: DataPurpose, external = false): Fractions {
  const d = FOLDER_DEFAULTS[purpose];
  const frac = (k: 'trainSize' | 'valSize' | 'unlabeledSize', dflt: number) => {
    const v = s[k];
    if (v === null || v === undefined) return dflt;
    if (v !== 0 && !isFraction(v)) throw new DataConfigError(`dataset.${k}`, `ImageNet takes a fraction in (0, 1), got ${v}`);
    return v;
  };
  return {
    train: frac('trainSize', d.train),
    valid: frac('valSize', d.valid),
    unlabeled: purpose === 'train' || external ? 0 : frac('unlabeledSize', d.unlabeled),
  };
}

const subset = (name: string, source: ImageSource, idx: readonly number[], labelled: boolean): Subset => ({
  name,
  source,
  indices: Int32Array.from(idx),
  labelled,
});

/** ImageNet (paper §4.2): per-class fractions; D_u from a folder (all of it by default) when the rule says so. */
function classSplits(ds: LoadedDataset, other: ImageSource | null, s: SizeSpec, o: SplitOptions): SplitIndices {
  if (s.testFromTrain)
    throw new DataConfigError(
      'testFromTrain',
      'ImageNet has its own val/ test split; a held-out test split is for the other datasets',
    );
  const f = resolveFractions(s, o.purpose, other !== null);
  const nTest = ds.test?.n ?? null;
  let splits = makeClassSplits(ds.meta.name, o.seed, ds.train.labels!, ds.meta.numClasses, f, nTest);
  if (other) {
    const on = { name: other.origin, n: other.n };
    splits = { ...splits, unlabeledFrom: on.name, unlabeled: sampleOther(o.seed, countOf(s.unlabeledSize, on.n, on.n), on) };
  }
  if (splits.test === null || s.testSize === null || s.testSize === undefined) return splits;
  return { ...splits, test: splits.test.slice(0, countOf(s.testSize, splits.test.length, splits.test.length)) };
}

function freshSplits(ds: LoadedDataset, other: ImageSource | null, s: SizeSpec, o: SplitOptions): SplitIndices {
  if (ds.meta.name === 'imagenet') return classSplits(ds, other, s, o);
  const nTest = ds.test?.n ?? null;
  const heldOut = heldOutCount(s, { train: ds.train.n, test: nTest }, ds.meta.name);
  const sizes = resolveCounts(s, { train: ds.train.n, test: nTest, other: other?.n ?? null, heldOut }, o.purpose);
  const on = other ? { name: other.origin, n: other.n } : null;
  return makeSplits(ds.meta.name, o.seed, sizes, { train: ds.train.n, other: on, test: nTest, heldOut });
}

/** Mean and std of a dataset lbt does not know, over its training images less those held out as the test split. */
function computedNormalization(ds: LoadedDataset, s: SizeSpec) {
  const held = heldOutCount(s, { train: ds.train.n, test: ds.test?.n ?? null }, ds.meta.name);
  const pool = held ? holdOut(ds.train.n, held).rest : Int32Array.from({ length: ds.train.n }, (_, i) => i);
  return channelStats(ds.train, pool, ds.meta);
}

/** Saved splits, checked against this dataset and D_u's source as it is now. */
function reuseSplits(saved: SplitIndices, ds: LoadedDataset, u: UnlabeledData | null): SplitIndices {
  const splits = SplitIndices.parse(saved);
  if (splits.dataset !== ds.meta.name)
    throw new DataConfigError('splits.dataset', `${splits.dataset}, the data is ${ds.meta.name}`);
  const was = splits.unlabeledSource;
  if (u?.source && was && was.from !== 'train' && was.images !== u.source.n)
    throw new DataConfigError(
      'splits.unlabeledSource',
      `D_u (${u.record.origin}) held ${was.images} images when the run started and holds ${u.source.n} now`,
    );
  return splits;
}

/**
 * Splits a loaded dataset. `u`: D_u's source (loadUnlabeled) when it is another dataset or a folder
 * (labels are never used), or null to carve D_u out of the training set. A dataset lbt does not know
 * gets its mean and std here (saved in the splits; a resumed run reuses them).
 */
export function splitData(ds: LoadedDataset, u: UnlabeledData | null, s: SizeSpec, o: SplitOptions): SplitData {
  const other = u?.source ?? null;
  let splits = o.saved ? reuseSplits(o.saved, ds, u) : freshSplits(ds, other, s, o);
  if (!o.saved && u) splits = { ...splits, unlabeledSource: u.record };
  if (ds.statsToCompute) {
    const norm = splits.normalization ?? computedNormalization(ds, s);
    ds = withNormalization(ds, norm);
    splits = { ...splits, normalization: norm };
  }
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

export interface OpenStreamOptions extends Omit<StreamOptions, 'seed' | 'pool'> {
  /** The run's data seed; each part derives its own stream seed from it. */
  seed: number;
  /** Worker threads for images on disk: default the process's (sharedDecodePool); null = decode on this thread. */
  pool?: DecodePool | null;
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
  const pool = o.pool === undefined ? (sub.source.kind === 'folder' ? sharedDecodePool() : null) : o.pool;
  return new BatchStream(sub, transform, {
    ...o,
    pool: pool ?? undefined,
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
