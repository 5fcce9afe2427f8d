// Per-image transforms: a source image → normalised float32 HWC in a batch buffer.
import { type ArrayAugment, cutoutInto, drawAugment, normalisationTable, writeAugmented } from './augment.js';
import { decodeImage } from './folder.js';
import { centerCropRect, randomResizedCropRect, resizeCropInto } from './resize.js';
import type { Rng } from './rng.js';
import type { DatasetMeta, ImageSource } from './source.js';

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
    meta: { shape: [number, number, number]; mean: number[]; std: number[] };
    aug: AugmentOptions;
  };
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

/** The transform for a source under a dataset's normalisation and output shape. */
export function makeTransform(source: ImageSource, meta: DatasetMeta, o: AugmentOptions): Transform {
  const [c, h, w] = meta.shape;
  const flip = o.train && (o.flip ?? true);
  if (source.kind === 'array') {
    if (source.channels !== c || source.height !== h || source.width !== w) {
      throw new RangeError(
        `makeTransform: ${source.origin} holds ${source.channels}x${source.height}x${source.width} images, ` +
          `${meta.name} expects ${c}x${h}x${w}`,
      );
    }
    const aug: ArrayAugment = o.train ? { pad: o.pad ?? 4, flip, cutout: o.cutout ?? 0 } : { pad: 0, flip: false, cutout: 0 };
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
  if (c !== 3 || h !== w) throw new RangeError(`makeTransform: folder images need a [3, S, S] shape, got [${meta.shape}]`);
  const cutout = o.train ? (o.cutout ?? 0) : 0;
  return {
    shape: meta.shape,
    random: o.train,
    folder: { files: source.files, meta: { shape: [c, h, w], mean: [...meta.mean], std: [...meta.std] }, aug: { ...o } },
    write(i, rng, out, offset) {
      const img = decodeImage(source.files[i]!);
      const rect = o.train
        ? randomResizedCropRect(img.width, img.height, rng)
        : centerCropRect(img.width, img.height, Math.round((h * 256) / 224), h);
      const mirrored = flip && rng.next() < 0.5;
      resizeCropInto(img.rgb, img.width, img.height, rect, h, mirrored, meta.mean, meta.std, out, offset);
      if (cutout > 0) cutoutInto(out, offset, h, w, 3, rng.int(h), rng.int(w), cutout);
    },
  };
}
