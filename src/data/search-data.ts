// The data a search run uses: one typed config, loaded once, split by the paper's protocol.
import { z } from 'zod';
import { type CifarName, loadCifar } from './cifar.js';
import { DataConfigError } from './errors.js';
import { loadImageFolders } from './folder.js';
import { loadIdxDataset } from './idx.js';
import { deriveSeed } from './rng.js';
import { type DatasetMeta, type ImageSource, type LoadedDataset, withoutLabels } from './source.js';
import { checkSplits, makeClassSplits, makeSplits, SplitIndices } from './splits.js';
import { BatchStream, type StreamOptions, type Subset } from './stream.js';
import { makeTransform } from './transforms.js';

const count = z.number().int().nonnegative();
const fraction = z.number().min(0).max(1);

export const DataConfig = z.strictObject({
  dataset: z.enum(['cifar10', 'cifar100', 'fashion-mnist', 'mnist', 'imagenet']).default('fashion-mnist'),
  /** Dataset directory (CIFAR: also a .tar.gz); default $LBT_DATA, or the Debian Fashion-MNIST path. */
  dir: z.string().optional(),
  /** Directory of the other CIFAR, whose training images are D_u; default: dir. */
  unlabeledDir: z.string().optional(),
  seed: z.number().int().nonnegative().default(0),
  /** Split sizes (count-based datasets); defaults follow the paper: CIFAR 25K/25K/50K (the other CIFAR)/10K, MNIST-family 20K/20K/20K/10K. */
  trainSize: count.optional(),
  validSize: count.optional(),
  unlabeledSize: count.optional(),
  testSize: count.optional(),
  /** Training images held out as the test split instead of the test set (paper §4.4: 5000); one sample for every seed. */
  testFromTrain: count.optional(),
  /** Per-class fractions for ImageNet folders (§4.2). */
  trainFraction: fraction.default(0.1),
  validFraction: fraction.default(0.025),
  unlabeledFraction: fraction.default(0.1),
  /** Output side of ImageNet crops. */
  imageSize: z.number().int().positive().default(224),
});
export type DataConfig = z.infer<typeof DataConfig>;

export type Part = 'train' | 'valid' | 'unlabeled' | 'test';

export interface SearchData {
  readonly meta: DatasetMeta;
  /** Save this with the run; pass it back to loadSearchData to resume on the same split. */
  readonly splits: SplitIndices;
  readonly train: Subset;
  readonly valid: Subset;
  /** D_u: batches come without labels. */
  readonly unlabeled: Subset;
  readonly test: Subset | null;
}

/** Loads a dataset as distributed (training and test parts), validated in full. */
export async function loadDataset(spec: {
  dataset: DataConfig['dataset'];
  dir?: string;
  imageSize?: number;
}): Promise<LoadedDataset> {
  switch (spec.dataset) {
    case 'cifar10':
    case 'cifar100':
      return loadCifar(spec.dataset, spec.dir);
    case 'fashion-mnist':
    case 'mnist':
      return loadIdxDataset(spec.dataset, spec.dir);
    case 'imagenet':
      return loadImageFolders(spec.dir, spec.imageSize ?? 224);
  }
}

const subset = (name: string, source: ImageSource, idx: readonly number[], labelled: boolean): Subset => ({
  name,
  source,
  indices: Int32Array.from(idx),
  labelled,
});

/**
 * Splits a loaded dataset. `other` is D_u's source when it is another dataset (labels are
 * removed here); null carves D_u out of the training set. `saved` reuses a run's splits.
 */
export function buildSearchData(ds: LoadedDataset, other: ImageSource | null, cfg: DataConfig, saved?: SplitIndices): SearchData {
  const nTrain = ds.train.n;
  const nTest = ds.test?.n ?? null;
  let splits: SplitIndices;
  if (saved) {
    splits = SplitIndices.parse(saved);
    if (splits.dataset !== ds.meta.name)
      throw new DataConfigError('splits.dataset', `${splits.dataset}, the data is ${ds.meta.name}`);
  } else if (ds.train.kind === 'folder') {
    if (cfg.testFromTrain)
      throw new DataConfigError(
        'testFromTrain',
        'image folders have their own val/ test split; a held-out test split is for CIFAR and IDX data',
      );
    const f = { train: cfg.trainFraction, valid: cfg.validFraction, unlabeled: cfg.unlabeledFraction };
    splits = makeClassSplits(ds.meta.name, cfg.seed, ds.train.labels, ds.meta.numClasses, f, nTest);
  } else {
    const h = cfg.testFromTrain ?? 0;
    const half = other ? Math.floor((nTrain - h) / 2) : Math.floor((nTrain - h) / 3);
    const sizes = {
      train: cfg.trainSize ?? half,
      valid: cfg.validSize ?? half,
      unlabeled: cfg.unlabeledSize ?? (other ? other.n : half),
      test: cfg.testSize ?? (h || (nTest ?? 0)),
    };
    const o = other ? { name: other.origin, n: other.n } : null;
    splits = makeSplits(ds.meta.name, cfg.seed, sizes, { train: nTrain, other: o, test: nTest, heldOut: h });
  }
  const uSource = other ? (other.kind === 'array' ? withoutLabels(other) : other) : ds.train;
  checkSplits(splits, { train: nTrain, unlabeled: uSource.n, test: nTest });
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

/**
 * Reads everything a search needs (CIFAR: also the other CIFAR's training images as D_u). `loaded`:
 * the dataset itself when the caller has read it already (it is not read twice).
 */
export async function loadSearchData(
  config: z.input<typeof DataConfig>,
  saved?: SplitIndices,
  loaded?: LoadedDataset,
): Promise<SearchData> {
  const cfg = DataConfig.parse(config);
  const ds = loaded ?? (await loadDataset(cfg));
  let other: ImageSource | null = null;
  if (cfg.dataset === 'cifar10' || cfg.dataset === 'cifar100') {
    const otherName: CifarName = cfg.dataset === 'cifar10' ? 'cifar100' : 'cifar10';
    other = (await loadCifar(otherName, cfg.unlabeledDir ?? cfg.dir, { trainOnly: true })).train;
  }
  return buildSearchData(ds, other, cfg, saved);
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
export function openStream(data: SearchData, part: Part, o: OpenStreamOptions): BatchStream {
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
export function hiddenLabels(data: SearchData, index: Int32Array): Int32Array | null {
  const labels = data.unlabeled.source === data.train.source ? data.train.source.labels : null;
  return labels ? Int32Array.from(index, (i) => labels[i]!) : null;
}
