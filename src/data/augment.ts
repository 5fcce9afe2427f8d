// Augmentation of fixed-size in-memory images (CIFAR, MNIST-family), as the reference pipelines:
// RandomCrop(size, padding) with zero padding, RandomHorizontalFlip, ToTensor + Normalize, then
// Cutout (DARTS utils.Cutout: always applied, after normalisation).
//
// Output is float32 HWC (channels innermost) at out[offset..], ready for a channels-last batch.
// Random draws, in this order, only for the enabled steps: crop dy, crop dx (each uniform in
// [0, 2·pad]), flip (next() < 0.5), cutout centre y, cutout centre x (uniform in [0, H), [0, W)).
import type { Rng } from './rng.js';
import type { ArraySource } from './source.js';

export interface ArrayAugment {
  /** Zero padding for the random crop; 0 turns cropping off. */
  pad: number;
  flip: boolean;
  /** Cutout side length in pixels; 0 turns it off. */
  cutout: number;
}

export const NO_AUGMENT: ArrayAugment = { pad: 0, flip: false, cutout: 0 };

/** The per-channel lookup table v → (v/255 − mean[c]) / std[c], indexed c·256 + v. */
export function normalisationTable(mean: readonly number[], std: readonly number[]): Float32Array {
  if (mean.length !== std.length) throw new RangeError(`normalisation: ${mean.length} means for ${std.length} stds`);
  const lut = new Float32Array(mean.length * 256);
  for (let c = 0; c < mean.length; c++) {
    if (!(std[c]! > 0)) throw new RangeError(`normalisation: std[${c}] = ${std[c]} must be positive`);
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - mean[c]!) / std[c]!;
  }
  return lut;
}

/** Random choices for one image (exposed so tests can pin them). */
export interface AugmentDraw {
  dy: number;
  dx: number;
  flip: boolean;
  cutY: number;
  cutX: number;
}

export function drawAugment(aug: ArrayAugment, h: number, w: number, rng: Rng | null): AugmentDraw {
  const d: AugmentDraw = { dy: aug.pad, dx: aug.pad, flip: false, cutY: -1, cutX: -1 };
  if (!rng) return d;
  if (aug.pad > 0) {
    d.dy = rng.int(2 * aug.pad + 1);
    d.dx = rng.int(2 * aug.pad + 1);
  }
  if (aug.flip) d.flip = rng.next() < 0.5;
  if (aug.cutout > 0) {
    d.cutY = rng.int(h);
    d.cutX = rng.int(w);
  }
  return d;
}

/**
 * Writes image i of src, augmented by draw d, normalised with lut, into out (HWC) at offset.
 * Output pixel (y, x) reads padded(y + dy, x' + dx) with x' = W−1−x when flipped, i.e. source
 * pixel (y + dy − pad, x' + dx − pad), or the padding value 0 when outside the image.
 */
export function writeAugmented(
  src: ArraySource,
  i: number,
  d: AugmentDraw,
  aug: ArrayAugment,
  lut: Float32Array,
  out: Float32Array,
  offset: number,
): void {
  const { height: h, width: w, channels: c, images } = src;
  const base = i * h * w * c;
  const oy = d.dy - aug.pad;
  const ox = d.dx - aug.pad;
  let o = offset;
  for (let y = 0; y < h; y++) {
    const sy = y + oy;
    const rowIn = sy >= 0 && sy < h;
    for (let x = 0; x < w; x++) {
      const sx = (d.flip ? w - 1 - x : x) + ox;
      if (rowIn && sx >= 0 && sx < w) {
        const p = base + (sy * w + sx) * c;
        for (let k = 0; k < c; k++) out[o++] = lut[k * 256 + images[p + k]!]!;
      } else {
        for (let k = 0; k < c; k++) out[o++] = lut[k * 256]!;
      }
    }
  }
  if (aug.cutout > 0 && d.cutY >= 0) cutoutInto(out, offset, h, w, c, d.cutY, d.cutX, aug.cutout);
}

/** Zeroes rows [clip(cy − L/2), clip(cy + L/2)) × the same columns (L/2 rounded down), all channels. */
export function cutoutInto(
  out: Float32Array,
  offset: number,
  h: number,
  w: number,
  c: number,
  cy: number,
  cx: number,
  len: number,
) {
  const half = Math.floor(len / 2);
  const y1 = Math.max(0, cy - half);
  const y2 = Math.min(h, cy + half);
  const x1 = Math.max(0, cx - half);
  const x2 = Math.min(w, cx + half);
  for (let y = y1; y < y2; y++) out.fill(0, offset + (y * w + x1) * c, offset + (y * w + x2) * c);
}
