// Augmentation pinned on hand-made images: crop offsets, flips, cutout window, normalisation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ArraySource,
  centerCropRect,
  cutoutInto,
  deriveSeed,
  drawAugment,
  normalisationTable,
  permutation,
  randomResizedCropRect,
  resizeCropInto,
  Rng,
  writeAugmented,
} from '../../src/data/index.js';

/** The published mulberry32, as the oracle for our Rng. */
function mulberry32(a: number) {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('Rng is mulberry32; permutation and deriveSeed are fixed functions of the seed', () => {
  const ref = mulberry32(42);
  const r = new Rng(42);
  for (let i = 0; i < 100; i++) assert.equal(r.next(), ref());
  const again = new Rng(r.state);
  assert.equal(again.next(), ref());
  assert.deepEqual(Array.from(permutation(10, 7)), [6, 5, 8, 1, 2, 3, 4, 7, 9, 0]);
  assert.equal(deriveSeed(1, 2, 3), 2240900365);
  assert.notEqual(deriveSeed(1, 2, 3), deriveSeed(1, 3, 2));
});

/** A 4x4 one-channel image with pixel (y, x) = 10y + x + 1. */
const img: ArraySource = {
  kind: 'array',
  origin: 'hand-made',
  n: 1,
  height: 4,
  width: 4,
  channels: 1,
  images: Uint8Array.from({ length: 16 }, (_, p) => 10 * Math.floor(p / 4) + (p % 4) + 1),
  labels: null,
};
/** mean 0, std 1/255: normalised values equal the raw bytes. */
const identity = normalisationTable([0], [1 / 255]);
const run = (dy: number, dx: number, flip: boolean) => {
  const out = new Float32Array(16);
  writeAugmented(img, 0, { dy, dx, flip, cutY: -1, cutX: -1 }, { pad: 1, flip: true, cutout: 0 }, identity, out, 0);
  return Array.from(out, Math.round);
};

test('random crop with padding: offsets (dy, dx) read padded(y + dy, x + dx), zero outside', () => {
  // dy = 0, dx = 2 with pad 1: out(y, x) = src(y − 1, x + 1).
  assert.deepEqual(run(0, 2, false), [0, 0, 0, 0, 2, 3, 4, 0, 12, 13, 14, 0, 22, 23, 24, 0]);
  // Centre offset (dy = dx = pad) is the identity.
  assert.deepEqual(run(1, 1, false), Array.from(img.images));
  // Flip after crop: out(y, x) = cropped(y, 3 − x).
  assert.deepEqual(run(0, 2, true), [0, 0, 0, 0, 0, 4, 3, 2, 0, 14, 13, 12, 0, 24, 23, 22]);
});

test('a seed fixes the draws: Rng(42) gives dy 5, dx 4, no flip, cutout centre (21, 5)', () => {
  // Rng(42).next() = 0.6011, 0.4483, 0.8525, 0.6697, 0.1748 → floor(9u), floor(9u), u < 0.5, floor(32u), floor(32u).
  assert.deepEqual(drawAugment({ pad: 4, flip: true, cutout: 16 }, 32, 32, new Rng(42)), {
    dy: 5,
    dx: 4,
    flip: false,
    cutY: 21,
    cutX: 5,
  });
  // Disabled steps draw nothing: with crop only, the first two numbers go to the offsets.
  assert.deepEqual(drawAugment({ pad: 1, flip: false, cutout: 0 }, 4, 4, new Rng(42)), {
    dy: 1,
    dx: 1,
    flip: false,
    cutY: -1,
    cutX: -1,
  });
  // And the pixels that seed produces on the hand-made image (pad 1: offsets 1, 1 → identity; flip 0.85 → no).
  const out = new Float32Array(16);
  const aug = { pad: 1, flip: true, cutout: 0 };
  writeAugmented(img, 0, drawAugment(aug, 4, 4, new Rng(42)), aug, identity, out, 0);
  assert.deepEqual(Array.from(out, Math.round), Array.from(img.images));
  // Rng(3).next() = 0.7202, 0.0387, 0.4562 → dy 2, dx 0, flipped: out(y, x) = src(y + 1, (3 − x) − 1).
  assert.deepEqual(drawAugment(aug, 4, 4, new Rng(3)), { dy: 2, dx: 0, flip: true, cutY: -1, cutX: -1 });
  writeAugmented(img, 0, drawAugment(aug, 4, 4, new Rng(3)), aug, identity, out, 0);
  assert.deepEqual(Array.from(out, Math.round), [13, 12, 11, 0, 23, 22, 21, 0, 33, 32, 31, 0, 0, 0, 0, 0]);
});

test('cutout zeroes rows and columns [c − L/2, c + L/2) clipped to the image, every channel', () => {
  const out = new Float32Array(8 * 8 * 2).fill(1);
  cutoutInto(out, 0, 8, 8, 2, 1, 6, 4); // rows [0, 3), columns [4, 8)
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const zero = y < 3 && x >= 4;
      assert.deepEqual([out[(y * 8 + x) * 2], out[(y * 8 + x) * 2 + 1]], zero ? [0, 0] : [1, 1], `(${y}, ${x})`);
    }
  }
  // Length 16 at the centre of a 32x32 image: exactly 16x16 zeros.
  const big = new Float32Array(32 * 32).fill(1);
  cutoutInto(big, 0, 32, 32, 1, 16, 16, 16);
  assert.equal(big.filter((v) => v === 0).length, 256);
  assert.equal(big[8 * 32 + 8], 0);
  assert.equal(big[7 * 32 + 8], 1);
  assert.equal(big[8 * 32 + 24], 1);
});

test('normalisation: (v/255 − mean)/std per channel, CIFAR-10 statistics', () => {
  const lut = normalisationTable([0.49139968, 0.48215827, 0.44653124], [0.24703233, 0.24348505, 0.26158768]);
  const expect = [
    [0, [-1.989212, -1.9802377, -1.7070041]],
    [255, [2.0588411, 2.1267907, 2.1158059]],
    [128, [0.0427519, 0.0813295, 0.2118966]],
  ] as const;
  for (const [v, vals] of expect)
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(lut[c * 256 + v]! - vals[c]!) < 1e-6, `v ${v} c ${c}`);
  assert.throws(() => normalisationTable([0], [0]), /std\[0\] = 0 must be positive/);
});

test('resize/crop: identity resample is exact, flip mirrors, eval crop matches Resize 256 + CenterCrop 224', () => {
  const rgb = Uint8Array.from({ length: 2 * 3 * 3 }, (_, i) => i * 10);
  // A 3-wide, 2-high image; the 2x2 crop at x = 1 resampled to 2x2 copies its pixels exactly.
  const small = new Float32Array(2 * 2 * 3);
  resizeCropInto(rgb, 3, 2, { x: 1, y: 0, w: 2, h: 2 }, 2, false, [0, 0, 0], [1 / 255, 1 / 255, 1 / 255], small, 0);
  assert.deepEqual(Array.from(small, Math.round), [30, 40, 50, 60, 70, 80, 120, 130, 140, 150, 160, 170]);
  resizeCropInto(rgb, 3, 2, { x: 1, y: 0, w: 2, h: 2 }, 2, true, [0, 0, 0], [1 / 255, 1 / 255, 1 / 255], small, 0);
  assert.deepEqual(Array.from(small, Math.round), [60, 70, 80, 30, 40, 50, 150, 160, 170, 120, 130, 140]);
  // Downscale by 2 averages pairs exactly (sample points fall halfway between pixels).
  const out = new Float32Array(3);
  const row = Uint8Array.from([0, 0, 0, 100, 100, 100, 0, 0, 0, 100, 100, 100]); // 2x2: black, grey / black, grey
  resizeCropInto(row, 2, 2, { x: 0, y: 0, w: 2, h: 2 }, 1, false, [0, 0, 0], [1 / 255, 1 / 255, 1 / 255], out, 0);
  assert.deepEqual(Array.from(out.subarray(0, 3), Math.round), [50, 50, 50]);
  // 500x375: shorter side 375 → 256, crop 224 keeps 224·375/256 = 328.125 source pixels, centred.
  const r = centerCropRect(500, 375, 256, 224);
  assert.ok(Math.abs(r.w - 328.125) < 1e-9 && Math.abs(r.h - 328.125) < 1e-9);
  assert.ok(Math.abs(r.x - (500 - 328.125) / 2) < 1e-9 && Math.abs(r.y - (375 - 328.125) / 2) < 1e-9);
});

test('random resized crop stays inside the image with area in [8%, 100%] and ratio in [3/4, 4/3]', () => {
  const rng = new Rng(5);
  for (let i = 0; i < 200; i++) {
    const r = randomResizedCropRect(300, 200, rng);
    assert.ok(r.x >= 0 && r.y >= 0 && r.x + r.w <= 300 && r.y + r.h <= 200, JSON.stringify(r));
    assert.ok(r.w * r.h >= 0.08 * 60000 * 0.9 && r.w / r.h > 0.7 && r.w / r.h < 1.4, JSON.stringify(r));
  }
});
