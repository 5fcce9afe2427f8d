// Crops and bilinear resizing of decoded, variable-size images (the ImageNet pipelines):
// RandomResizedCrop(size, scale 0.08–1, ratio 3/4–4/3) + flip for training, and
// Resize(size·256/224) + CenterCrop(size) for evaluation. One bilinear pass maps the crop
// rectangle straight to the output (no antialiasing filter, unlike PIL's resize). resizeImage
// resizes a whole image as PIL does (antialiased), for fixed-size inputs made from images of other sizes.
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
 * Samples rect of a C-channel HWC image bilinearly onto a size×size grid (pixel centres aligned),
 * optionally mirrored, normalised ((v/255 − mean) / std on the interpolated value), written HWC
 * at out[offset..]. C = mean.length.
 */
export function resizeCropInto(
  pix: Uint8Array,
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
  const C = mean.length;
  const sx = rect.w / size;
  const sy = rect.h / size;
  const scale = std.map((s) => 1 / (255 * s));
  const shift = mean.map((m, c) => m / std[c]!);
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
      const p00 = (y0 * width + x0) * C;
      const p01 = (y0 * width + x1) * C;
      const p10 = (y1 * width + x0) * C;
      const p11 = (y1 * width + x1) * C;
      for (let c = 0; c < C; c++) {
        const top = pix[p00 + c]! + (pix[p01 + c]! - pix[p00 + c]!) * ax;
        const bot = pix[p10 + c]! + (pix[p11 + c]! - pix[p10 + c]!) * ax;
        out[o++] = (top + (bot - top) * ay) * scale[c]! - shift[c]!;
      }
    }
  }
}

/** Per output index along one axis: the first input index and the normalised weights of the inputs from there. */
interface AxisTaps {
  start: Int32Array;
  weights: Float32Array[];
}

/** PIL's bilinear resampling along one axis: a triangle filter, widened by the scale when shrinking (antialiased). */
function axisTaps(inSize: number, outSize: number): AxisTaps {
  const scale = inSize / outSize;
  const support = Math.max(scale, 1);
  const start = new Int32Array(outSize);
  const weights: Float32Array[] = [];
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(Math.floor(centre - support + 0.5), 0);
    const hi = Math.min(Math.floor(centre + support + 0.5), inSize);
    const w = new Float32Array(Math.max(hi - lo, 1));
    let sum = 0;
    for (let j = lo; j < hi; j++) sum += w[j - lo] = Math.max(0, 1 - Math.abs((j + 0.5 - centre) / support));
    if (sum > 0) for (let k = 0; k < w.length; k++) w[k]! /= sum;
    else w[0] = 1;
    start[i] = lo;
    weights.push(w);
  }
  return { start, weights };
}

/**
 * Resizes a whole C-channel HWC uint8 image to outW×outH: bilinear, antialiased when shrinking (as
 * PIL's Image.resize(BILINEAR)), rounded to uint8. The same size returns the pixels as they are.
 */
export function resizeImage(pix: Uint8Array, w: number, h: number, C: number, outW: number, outH: number): Uint8Array {
  if (w === outW && h === outH) return pix;
  const tx = axisTaps(w, outW);
  const ty = axisTaps(h, outH);
  const tmp = new Float32Array(h * outW * C); // horizontal pass
  for (let y = 0; y < h; y++)
    for (let x = 0; x < outW; x++) {
      const ws = tx.weights[x]!;
      const s0 = (y * w + tx.start[x]!) * C;
      for (let c = 0; c < C; c++) {
        let v = 0;
        for (let k = 0; k < ws.length; k++) v += ws[k]! * pix[s0 + k * C + c]!;
        tmp[(y * outW + x) * C + c] = v;
      }
    }
  const out = new Uint8Array(outH * outW * C); // vertical pass
  for (let y = 0; y < outH; y++) {
    const ws = ty.weights[y]!;
    const r0 = ty.start[y]!;
    for (let x = 0; x < outW; x++)
      for (let c = 0; c < C; c++) {
        let v = 0;
        for (let k = 0; k < ws.length; k++) v += ws[k]! * tmp[((r0 + k) * outW + x) * C + c]!;
        out[(y * outW + x) * C + c] = Math.min(255, Math.max(0, Math.round(v)));
      }
  }
  return out;
}
