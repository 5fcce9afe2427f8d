// Image sources: where the pixels of a dataset come from, before any transform.

export const DATASET_NAMES = ['cifar10', 'cifar100', 'fashion-mnist', 'mnist', 'imagenet', 'folder', 'synthetic'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/**
 * How images are fed to the networks. cifar: fixed-size images (resized whole when they are not the
 * input size), random crop with zero padding + horizontal flip, the CIFAR stems (NetworkCIFAR, the
 * supernet's conv3x3 stem). imagenet: random-resized crop + flip, resize + centre crop for evaluation,
 * the ImageNet stems (NetworkImageNet, three strided convs).
 */
export type Style = 'cifar' | 'imagenet';

/** Images held in memory: uint8, NHWC (row-major, channel innermost). */
export interface ArraySource {
  readonly kind: 'array';
  /** What it was read from, for messages: a file, directory or archive. */
  readonly origin: string;
  readonly n: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly images: Uint8Array;
  /** Class per image, or null when the source has none (labels removed). */
  readonly labels: Int32Array | null;
}

/** Images left on disk (class folders, or any folder of images for D_u), decoded when a batch needs them. */
export interface FolderSource {
  readonly kind: 'folder';
  readonly origin: string;
  readonly n: number;
  /** Absolute path per image. */
  readonly files: readonly string[];
  /** Class per image (its folder's position in `classes`), or null for a folder of unlabeled images. */
  readonly labels: Int32Array | null;
  readonly classes: readonly string[];
}

export type ImageSource = ArraySource | FolderSource;

/** What a model needs to know about a dataset. */
export interface DatasetMeta {
  readonly name: DatasetName;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  /** Shape of one transformed image, [C, H, W]. */
  readonly shape: readonly [number, number, number];
  /** Per-channel normalisation applied after scaling pixels to [0, 1]. */
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** How images are fed (augmentation, evaluation transform, stems). */
  readonly style: Style;
}

/** A dataset as distributed: its training and test parts. */
export interface LoadedDataset {
  readonly meta: DatasetMeta;
  readonly train: ImageSource;
  readonly test: ImageSource | null;
  /** True when meta.mean/std are placeholders to be computed from the training images (a dataset lbt does not know). */
  readonly statsToCompute?: boolean;
}

/** Removes the labels of an in-memory source (the pixels are shared, not copied). */
export function withoutLabels(s: ArraySource): ArraySource {
  return { ...s, labels: null };
}

/** Number of images per class (labels outside [0, numClasses) are a bug upstream and throw). */
export function classCounts(labels: Int32Array, indices: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < indices.length; i++) {
    const l = labels[indices[i]!]!;
    if (!(l >= 0 && l < numClasses)) throw new RangeError(`classCounts: label ${l} outside [0, ${numClasses})`);
    counts[l]!++;
  }
  return counts;
}
