// ImageNet-style class folders: <root>/<class>/<image>.{jpg,jpeg,png}, decoded lazily.
//
// Layout: <dir>/train/<class>/... (and <dir>/val/<class>/... for evaluation, optional), or
// <dir>/<class>/... directly. Classes are the sorted folder names; the label is the class's
// position in that order (as torchvision's ImageFolder).
import { type Dirent, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DatasetFormatError, DatasetNotFoundError } from './errors.js';
import { asDataFileError, dataPathExists, readDataFile } from './files.js';
import type { DatasetMeta, FolderSource, LoadedDataset } from './source.js';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

const IMAGE_EXT = /\.(jpe?g|png)$/i;

/** Scans root's class folders; `classes` (when given) fixes the class order, as for a val folder. */
export function scanFolder(root: string, classes?: readonly string[]): FolderSource {
  const abs = resolve(root);
  if (!dataPathExists(abs) || !statSync(abs).isDirectory()) {
    throw new DatasetNotFoundError(
      `image folder ${abs}`,
      [],
      'Give a directory holding one subfolder of JPEG/PNG images per class.',
    );
  }
  const found = listDir(abs)
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  if (found.length === 0) throw new DatasetFormatError(abs, 'no class subfolders (expected <class>/<image>.jpg|.png)');
  const order = classes ?? found;
  if (classes) {
    const unknown = found.filter((c) => !classes.includes(c));
    if (unknown.length)
      throw new DatasetFormatError(abs, `class folders not in the training set: ${unknown.slice(0, 5).join(', ')}`);
  }
  const files: string[] = [];
  const labels: number[] = [];
  for (const name of found) {
    const dir = join(abs, name);
    const imgs = listDir(dir)
      .map((e) => e.name)
      .filter((f) => IMAGE_EXT.test(f))
      .sort();
    if (imgs.length === 0) throw new DatasetFormatError(dir, 'class folder holds no .jpg/.jpeg/.png images');
    const label = order.indexOf(name);
    for (const f of imgs) {
      files.push(join(dir, f));
      labels.push(label);
    }
  }
  return { kind: 'folder', origin: abs, n: files.length, files, labels: Int32Array.from(labels), classes: order };
}

/** The entries of a directory of a data set (an unreadable one is a DataFileError naming it). */
function listDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw asDataFileError(e, dir, 'cannot list the directory');
  }
}

export interface DecodedImage {
  width: number;
  height: number;
  /** RGB, HWC. */
  rgb: Uint8Array;
}

/** Decodes a JPEG or PNG file to RGB (alpha dropped, grey expanded); a clear error if it cannot. */
export function decodeImage(file: string): DecodedImage {
  const buf = readDataFile(file, 'image file');
  const isPng = buf.length >= 8 && buf[0] === 0x89 && buf[1] === 0x50 && buf[2] === 0x4e && buf[3] === 0x47;
  const isJpeg = buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8;
  try {
    if (isJpeg) {
      const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024 });
      return { width: img.width, height: img.height, rgb: img.data };
    }
    if (isPng) {
      const png = PNG.sync.read(buf);
      const n = png.width * png.height;
      const rgb = new Uint8Array(n * 3);
      for (let i = 0; i < n; i++) {
        rgb[3 * i] = png.data[4 * i]!;
        rgb[3 * i + 1] = png.data[4 * i + 1]!;
        rgb[3 * i + 2] = png.data[4 * i + 2]!;
      }
      return { width: png.width, height: png.height, rgb };
    }
  } catch (err) {
    throw new DatasetFormatError(file, `cannot decode the ${isPng ? 'PNG' : 'JPEG'} image (${(err as Error).message})`);
  }
  throw new DatasetFormatError(file, 'not a JPEG or PNG image (unknown signature)');
}

/** Resolves the folders: <dir>/train (+ <dir>/val) when present, else <dir> itself; dir defaults to $LBT_DATA/imagenet. */
export function loadImageFolders(dir: string | undefined, imageSize = 224): LoadedDataset {
  const root = resolve(dir ?? join(process.env.LBT_DATA ?? '.', 'imagenet'));
  if (!dataPathExists(root)) {
    throw new DatasetNotFoundError(
      `ImageNet directory ${root}`,
      [],
      'Put the ImageNet training images as <dir>/train/<class>/*.JPEG (and <dir>/val/<class>/ for evaluation) and give <dir> with --dir or the data config (default $LBT_DATA/imagenet).',
    );
  }
  const hasTrain = dataPathExists(join(root, 'train'));
  const train = scanFolder(hasTrain ? join(root, 'train') : root);
  const test = hasTrain && dataPathExists(join(root, 'val')) ? scanFolder(join(root, 'val'), train.classes) : null;
  const meta: DatasetMeta = {
    name: 'imagenet',
    numClasses: train.classes.length,
    classNames: train.classes,
    shape: [3, imageSize, imageSize],
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
  };
  return { meta, train, test };
}
