// Writers for small files in the real dataset formats, into a temporary directory.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { create } from 'tar';
import { Rng } from '../../src/data/rng.js';

export function tempDir(tag: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `lbt-data-${tag}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** n random 32x32x3 images, NHWC, and labels in [0, k). */
export function randomImages(n: number, k: number, seed: number, pixels = 3072): { images: Uint8Array; labels: number[] } {
  const rng = new Rng(seed);
  const images = new Uint8Array(n * pixels);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
  return { images, labels: Array.from({ length: n }, () => rng.int(k)) };
}

/** CIFAR rows: label byte(s) then planar R, G, B planes; labels2 adds the CIFAR-100 coarse byte first. */
export function cifarRows(images: Uint8Array, labels: number[], coarse?: number[]): Uint8Array {
  const row = (coarse ? 2 : 1) + 3072;
  const out = new Uint8Array(labels.length * row);
  labels.forEach((l, i) => {
    let o = i * row;
    if (coarse) out[o++] = coarse[i]!;
    out[o++] = l;
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) out[o + c * 1024 + p] = images[i * 3072 + p * 3 + c]!;
  });
  return out;
}

/** An IDX unsigned-byte file: magic 0x0800+rank, big-endian dims, data. */
export function idxFile(dims: number[], data: Uint8Array, magic = 0x800 + dims.length): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, data]);
}

export function writeIdxSet(
  dir: string,
  prefix: 'train' | 't10k',
  images: Uint8Array,
  labels: number[],
  h: number,
  w: number,
  gz: boolean,
) {
  const put = (name: string, bytes: Uint8Array) =>
    writeFileSync(join(dir, gz ? `${name}.gz` : name), gz ? gzipSync(bytes) : bytes);
  put(`${prefix}-images-idx3-ubyte`, idxFile([labels.length, h, w], images));
  put(`${prefix}-labels-idx1-ubyte`, idxFile([labels.length], Uint8Array.from(labels)));
}

/** Writes a tiny CIFAR-10 distribution (rowsPer rows per batch file) into dir/cifar-10-batches-bin. */
export function writeCifar10(dir: string, rowsPer: number, seed: number) {
  const folder = join(dir, 'cifar-10-batches-bin');
  mkdirSync(folder, { recursive: true });
  const names = [
    'data_batch_1.bin',
    'data_batch_2.bin',
    'data_batch_3.bin',
    'data_batch_4.bin',
    'data_batch_5.bin',
    'test_batch.bin',
  ];
  const all = randomImages(rowsPer * names.length, 10, seed);
  names.forEach((f, b) => {
    const imgs = all.images.subarray(b * rowsPer * 3072, (b + 1) * rowsPer * 3072);
    writeFileSync(join(folder, f), cifarRows(imgs, all.labels.slice(b * rowsPer, (b + 1) * rowsPer)));
  });
  return all;
}

export function writeCifar100(dir: string, nTrain: number, nTest: number, seed: number) {
  const folder = join(dir, 'cifar-100-binary');
  mkdirSync(folder, { recursive: true });
  const all = randomImages(nTrain + nTest, 100, seed);
  const coarse = all.labels.map((l) => l % 20);
  const part = (from: number, to: number) =>
    cifarRows(all.images.subarray(from * 3072, to * 3072), all.labels.slice(from, to), coarse.slice(from, to));
  writeFileSync(join(folder, 'train.bin'), part(0, nTrain));
  writeFileSync(join(folder, 'test.bin'), part(nTrain, nTrain + nTest));
  return all;
}

export async function tarGz(cwd: string, file: string, members: string[]): Promise<void> {
  await create({ gzip: true, file, cwd }, members);
}

/** A solid-colour RGB image file: PNG (lossless) or JPEG (quality 100). */
export function writeImage(file: string, w: number, h: number, rgb: [number, number, number], kind: 'png' | 'jpeg') {
  const rgba = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([...rgb, 255], 4 * i);
  if (kind === 'png') {
    const png = new PNG({ width: w, height: h });
    rgba.copy(png.data);
    writeFileSync(file, PNG.sync.write(png));
  } else writeFileSync(file, jpeg.encode({ data: rgba, width: w, height: h }, 100).data);
}

/** An image file from pixels (HWC, 1 or 3 channels): PNG (grey or RGB, lossless) or JPEG (colour, quality 100). */
export function writePixels(file: string, w: number, h: number, pix: Uint8Array, channels: 1 | 3, kind: 'png' | 'jpeg' = 'png') {
  const rgba = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++)
    for (let c = 0; c < 4; c++) rgba[4 * i + c] = c === 3 ? 255 : pix[i * channels + (channels === 1 ? 0 : c)]!;
  if (kind === 'jpeg') return writeFileSync(file, jpeg.encode({ data: rgba, width: w, height: h }, 100).data);
  const png = new PNG({ width: w, height: h });
  rgba.copy(png.data);
  writeFileSync(file, PNG.sync.write(png, { colorType: channels === 1 ? 0 : 2 }));
}

/**
 * A `folder` dataset of class folders under dir: `perClass` PNG images of w×h per class (c0, c1, ...),
 * each a class-dependent colour plus noise; returns the file names per class in the order written.
 */
export function writeClassFolders(
  dir: string,
  classes: number,
  perClass: number,
  w: number,
  h: number,
  channels: 1 | 3 = 3,
  seed = 0,
) {
  const rng = new Rng(seed);
  for (let c = 0; c < classes; c++) {
    mkdirSync(join(dir, `c${c}`), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const pix = new Uint8Array(w * h * channels);
      for (let p = 0; p < pix.length; p++)
        pix[p] = Math.min(255, Math.max(0, Math.floor((255 * (c + 0.5)) / classes) + rng.int(41) - 20));
      writePixels(join(dir, `c${c}`, `img${String(i).padStart(3, '0')}.png`), w, h, pix, channels);
    }
  }
}
