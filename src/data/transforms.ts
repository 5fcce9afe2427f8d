// Per-image transforms: a source image → normalised float32 HWC in a batch buffer.
import { type ArrayAugment, cutoutInto, drawAugment, normalisationTable, writeAugmented } from './augment.js';
import { decodeImage, toChannels } from './image-file.js';
import { centerCropRect, randomResizedCropRect, resizeCropInto, resizeImage } from './resize.js';
import type { Rng } from './rng.js';
import type { ArraySource, DatasetMeta, FolderSource, ImageSource, Style } from './source.js';

export interface Transform {
  /** [C, H, W] of one output image. */
  readonly shape: readonly [number, number, number];
  /** Whether write() draws random numbers (training augmentation). */
  readonly random: boolean;
  /** Writes source image i into out (HWC float32) at offset. */
  write(i: number, rng: Rng, out: Float32Array, offset: number): void;
  /** For sources on disk: what a worker needs to run the same transform (see DecodePool). */
  readonly folder?: {
    files: readonly string[];
    meta: FolderMeta;
    aug: AugmentOptions;
  };
}

/** What a worker needs of a dataset's meta to transform folder images. */
export interface FolderMeta {
  shape: [number, number, number];
  mean: number[];
  std: number[];
  style: Style;
}

export interface AugmentOptions {
  /** Training augmentation (crop/flip, or random-resized-crop/flip) when true; evaluation transform when false. */
  train: boolean;
  /** Random-crop padding for fixed-size images; default 4. */
  pad?: number;
  /** Horizontal flips; default true when training. */
  flip?: boolean;
  /** Cutout length (0 = off, the default; 16 for CIFAR evaluation training). Applied only when training. */
  cutout?: number;
}

/** The transform for a source under a dataset's normalisation, output shape and style. */
export function makeTransform(source: ImageSource, meta: DatasetMeta, o: AugmentOptions): Transform {
  if (source.kind === 'array') return arrayTransform(source, meta, o);
  const folder: FolderMeta = { shape: [...meta.shape], mean: [...meta.mean], std: [...meta.std], style: meta.style };
  const write = meta.style === 'cifar' ? fixedSizeWriter(source, folder, o) : resizedCropWriter(source, folder, o);
  return { shape: meta.shape, random: o.train, folder: { files: source.files, meta: folder, aug: { ...o } }, write };
}

const arrayAugment = (o: AugmentOptions): ArrayAugment =>
  o.train ? { pad: o.pad ?? 4, flip: o.flip ?? true, cutout: o.cutout ?? 0 } : { pad: 0, flip: false, cutout: 0 };

/** In-memory images of exactly the input shape: random crop with zero padding, flip, cutout (CIFAR style only). */
function arrayTransform(source: ArraySource, meta: DatasetMeta, o: AugmentOptions): Transform {
  const [c, h, w] = meta.shape;
  if (source.channels !== c || source.height !== h || source.width !== w) {
    throw new RangeError(
      `makeTransform: ${source.origin} holds ${source.channels}x${source.height}x${source.width} images, ` +
        `${meta.name} expects ${c}x${h}x${w}`,
    );
  }
  if (meta.style !== 'cifar') throw new RangeError(`makeTransform: in-memory images take the cifar style, not ${meta.style}`);
  const aug = arrayAugment(o);
  const lut = normalisationTable(meta.mean, meta.std);
  const random = aug.pad > 0 || aug.flip || aug.cutout > 0;
  return {
    shape: meta.shape,
    random,
    write(i, rng, out, offset) {
      writeAugmented(source, i, drawAugment(aug, h, w, random ? rng : null), aug, lut, out, offset);
    },
  };
}

type Writer = Transform['write'];

/**
 * Folder images as fixed-size inputs (CIFAR style): decoded, converted to the input's channels,
 * resized whole to H×W when they are another size, then exactly the in-memory augmentation.
 */
function fixedSizeWriter(source: Pick<FolderSource, 'files'>, m: FolderMeta, o: AugmentOptions): Writer {
  const [c, h, w] = m.shape;
  const aug = arrayAugment(o);
  const lut = normalisationTable(m.mean, m.std);
  const random = aug.pad > 0 || aug.flip || aug.cutout > 0;
  return (i, rng, out, offset) => {
    const img = decodeImage(source.files[i]!);
    const images = resizeImage(toChannels(img.rgb, c), img.width, img.height, c, w, h);
    const one: ArraySource = {
      kind: 'array',
      origin: source.files[i]!,
      n: 1,
      height: h,
      width: w,
      channels: c,
      images,
      labels: null,
    };
    writeAugmented(one, 0, drawAugment(aug, h, w, random ? rng : null), aug, lut, out, offset);
  };
}

/** Folder images ImageNet style: random-resized crop + flip for training; resize (·256/224) + centre crop for evaluation. */
function resizedCropWriter(source: Pick<FolderSource, 'files'>, m: FolderMeta, o: AugmentOptions): Writer {
  const [c, h, w] = m.shape;
  if (h !== w) throw new RangeError(`makeTransform: the imagenet style needs a square [C, S, S] shape, got [${m.shape}]`);
  const flip = o.train && (o.flip ?? true);
  const cutout = o.train ? (o.cutout ?? 0) : 0;
  return (i, rng, out, offset) => {
    const img = decodeImage(source.files[i]!);
    const rect = o.train
      ? randomResizedCropRect(img.width, img.height, rng)
      : centerCropRect(img.width, img.height, Math.round((h * 256) / 224), h);
    const mirrored = flip && rng.next() < 0.5;
    resizeCropInto(toChannels(img.rgb, c), img.width, img.height, rect, h, mirrored, m.mean, m.std, out, offset);
    if (cutout > 0) cutoutInto(out, offset, h, w, c, rng.int(h), rng.int(w), cutout);
  };
}

/** The writer a decode worker runs for a job: the same as makeTransform's for that folder and meta. */
export function folderWriter(files: readonly string[], m: FolderMeta, o: AugmentOptions): Writer {
  return m.style === 'cifar' ? fixedSizeWriter({ files }, m, o) : resizedCropWriter({ files }, m, o);
}
