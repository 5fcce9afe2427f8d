// Crops and bilinear resizing of decoded, variable-size RGB images (the ImageNet pipelines):
// RandomResizedCrop(size, scale 0.08–1, ratio 3/4–4/3) + flip for training, and
// Resize(size·256/224) + CenterCrop(size) for evaluation. One bilinear pass maps the crop
// rectangle straight to the output (no antialiasing filter, unlike PIL's resize).
import type { Rng } from './rng.js';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** torchvision's RandomResizedCrop.get_params, with our Rng. */
export function randomResizedCropRect(width: number, height: number, rng: Rng, scale = [0.08, 1], ratio = [3 / 4, 4 / 3]): Rect {
  const area = width * height;
  const logLo = Math.log(ratio[0]!);
  const logHi = Math.log(ratio[1]!);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(scale[0]!, scale[1]!);
    const ar = Math.exp(rng.uniform(logLo, logHi));
    const w = Math.round(Math.sqrt(target * ar));
    const h = Math.round(Math.sqrt(target / ar));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      return { y: rng.int(height - h + 1), x: rng.int(width - w + 1), w, h };
    }
  }
  // Fallback: the whole image, clamped to the ratio range, centred.
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]!) h = Math.round(w / ratio[0]!);
  else if (inRatio > ratio[1]!) w = Math.round(h * ratio[1]!);
  return { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), w, h };
}

/** The source rectangle that Resize(shorter side → resize) + CenterCrop(crop) keeps. */
export function centerCropRect(width: number, height: number, resize: number, crop: number): Rect {
  const scale = resize / Math.min(width, height);
  const w = Math.min(width, crop / scale);
  const h = Math.min(height, crop / scale);
  return { x: (width - w) / 2, y: (height - h) / 2, w, h };
}

/**
 * Samples rect of an RGB HWC image bilinearly onto a size×size grid (pixel centres aligned),
 * optionally mirrored, normalised ((v/255 − mean) / std on the interpolated value), written HWC
 * at out[offset..].
 */
export function resizeCropInto(
  rgb: Uint8Array,
  width: number,
  height: number,
  rect: Rect,
  size: number,
  flip: boolean,
  mean: readonly number[],
  std: readonly number[],
  out: Float32Array,
  offset: number,
): void {
  const sx = rect.w / size;
  const sy = rect.h / size;
  const scale = [1 / (255 * std[0]!), 1 / (255 * std[1]!), 1 / (255 * std[2]!)];
  const shift = [mean[0]! / std[0]!, mean[1]! / std[1]!, mean[2]! / std[2]!];
  let o = offset;
  for (let y = 0; y < size; y++) {
    const fy = Math.min(Math.max(rect.y + (y + 0.5) * sy - 0.5, 0), height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, height - 1);
    const ay = fy - y0;
    for (let xo = 0; xo < size; xo++) {
      const x = flip ? size - 1 - xo : xo;
      const fx = Math.min(Math.max(rect.x + (x + 0.5) * sx - 0.5, 0), width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, width - 1);
      const ax = fx - x0;
      const p00 = (y0 * width + x0) * 3;
      const p01 = (y0 * width + x1) * 3;
      const p10 = (y1 * width + x0) * 3;
      const p11 = (y1 * width + x1) * 3;
      for (let c = 0; c < 3; c++) {
        const top = rgb[p00 + c]! + (rgb[p01 + c]! - rgb[p00 + c]!) * ax;
        const bot = rgb[p10 + c]! + (rgb[p11 + c]! - rgb[p10 + c]!) * ax;
        out[o++] = (top + (bot - top) * ay) * scale[c]! - shift[c]!;
      }
    }
  }
}
