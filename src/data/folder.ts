// Image folders, decoded lazily: class folders <root>/<class>/<image>.{jpg,jpeg,png} (ImageNet, or a
// dataset of one's own: `folder`), and any folder of images (D_u, labels ignored).
//
// Layout: <dir>/train/<class>/... with the test split in <dir>/test/<class>/... or <dir>/val/<class>/...
// (optional), or <dir>/<class>/... directly. Classes are the sorted folder names; the label is the
// class's position in that order (as torchvision's ImageFolder).
import { type Dirent, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatasetFormatError, DatasetNotFoundError } from './errors.js';
import { asDataFileError, dataPathExists } from './files.js';
import { type ImageHeader, probeImage } from './image-file.js';
import type { DatasetMeta, FolderSource, LoadedDataset, Style } from './source.js';

export { type DecodedImage, decodeImage, probeImage } from './image-file.js';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

const IMAGE_EXT = /\.(jpe?g|png)$/i;

/** Inputs up to this many pixels a side are fed CIFAR-style, larger ones ImageNet-style (dataset.style: auto). */
export const SMALL_IMAGE_MAX = 64;

/** The style an input size gets when the config leaves it to the data (dataset.style: auto). */
export const styleForSize = (h: number, w: number): Style => (Math.max(h, w) <= SMALL_IMAGE_MAX ? 'cifar' : 'imagenet');

/** A directory's entries, sorted; image-named entries that are not regular files (FIFOs, devices) are an error naming them. */
function entries(dir: string): { dirs: string[]; images: string[] } {
  let list: Dirent[];
  try {
    list = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw asDataFileError(err, dir, 'cannot list the directory');
  }
  const dirs: string[] = [];
  const images: string[] = [];
  for (const e of list) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    const st = e.isSymbolicLink() ? statSync(p, { throwIfNoEntry: false }) : e;
    if (st?.isDirectory()) dirs.push(e.name);
    else if (IMAGE_EXT.test(e.name)) {
      if (!st?.isFile()) throw new DatasetFormatError(p, 'not a regular file (an image must be a file)');
      images.push(e.name);
    }
  }
  return { dirs: dirs.sort(), images: images.sort() };
}

function needDir(abs: string, what: string, hint: string): void {
  if (!dataPathExists(abs) || !statSync(abs).isDirectory()) throw new DatasetNotFoundError(`${what} ${abs}`, [], hint);
}

/** Scans root's class folders; `classes` (when given) fixes the class order, as for a val folder. */
export function scanFolder(root: string, classes?: readonly string[]): FolderSource {
  const abs = resolve(root);
  needDir(abs, 'image folder', 'Give a directory holding one subfolder of JPEG/PNG images per class.');
  const found = entries(abs).dirs;
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
    const imgs = entries(dir).images;
    if (imgs.length === 0) throw new DatasetFormatError(dir, 'class folder holds no .jpg/.jpeg/.png images');
    const label = order.indexOf(name);
    for (const f of imgs) {
      files.push(join(dir, f));
      labels.push(label);
    }
  }
  return { kind: 'folder', origin: abs, n: files.length, files, labels: Int32Array.from(labels), classes: order };
}

/**
 * Every image under root, at any depth (class folders or none; labels are not kept), in sorted path
 * order, less the files in `exclude` (real paths: the labelled images when D_u comes from the same folder).
 */
export function scanImages(root: string, exclude: ReadonlySet<string> = new Set()): { source: FolderSource; excluded: number } {
  const abs = resolve(root);
  needDir(abs, 'image folder', 'dataset.unlabeled.dir names a folder of JPEG/PNG images (in subfolders or not).');
  const files: string[] = [];
  let excluded = 0;
  const walk = (dir: string, seen: Set<string>) => {
    const real = realpathSync(dir);
    if (seen.has(real)) return; // a symlink loop
    seen.add(real);
    const e = entries(dir);
    for (const f of e.images) {
      const p = join(dir, f);
      if (exclude.size && exclude.has(realpathSync(p))) excluded++;
      else files.push(p);
    }
    for (const d of e.dirs) walk(join(dir, d), seen);
  };
  walk(abs, new Set());
  if (files.length === 0)
    throw new DatasetFormatError(
      abs,
      excluded
        ? `all ${excluded} images are labelled images of the dataset: none left for D_u`
        : 'holds no .jpg/.jpeg/.png images',
    );
  return { source: { kind: 'folder', origin: abs, n: files.length, files, labels: null, classes: [] }, excluded };
}

/** The real paths of a folder source's files (to keep D_u from overlapping the labelled images). */
export function realPaths(s: FolderSource | null): Set<string> {
  return new Set(s ? s.files.map((f) => realpathSync(f)) : []);
}

/** <dir>/train with <dir>/test or <dir>/val when there is a train folder, else <dir> itself and no test folder. */
export function folderLayout(root: string): { train: string; test: string | null } {
  if (!dataPathExists(join(root, 'train'))) return { train: root, test: null };
  const test = ['test', 'val'].map((d) => join(root, d)).find((d) => dataPathExists(d)) ?? null;
  return { train: join(root, 'train'), test };
}

/** ImageNet: the folders at imageSize (default 224), ImageNet's mean and std; dir defaults to $LBT_DATA/imagenet. */
export function loadImageFolders(dir: string | undefined, imageSize = 224, style?: Style): LoadedDataset {
  const root = resolve(dir ?? join(process.env.LBT_DATA ?? '.', 'imagenet'));
  if (!dataPathExists(root)) {
    throw new DatasetNotFoundError(
      `ImageNet directory ${root}`,
      [],
      'Put the ImageNet training images as <dir>/train/<class>/*.JPEG (and <dir>/val/<class>/ for evaluation) and give <dir> with --dir or the data config (default $LBT_DATA/imagenet).',
    );
  }
  const layout = folderLayout(root);
  const train = scanFolder(layout.train);
  const test = layout.test ? scanFolder(layout.test, train.classes) : null;
  const meta: DatasetMeta = {
    name: 'imagenet',
    numClasses: train.classes.length,
    classNames: train.classes,
    shape: [3, imageSize, imageSize],
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    style: style ?? styleForSize(imageSize, imageSize),
  };
  return { meta, train, test };
}

/** The headers of a source's images: every file opened (unreadable, non-image and mixed-channel folders fail here). */
export function probeSource(s: FolderSource): ImageHeader[] {
  return s.files.map((f) => probeImage(f));
}

/** One channel count for all images, or a DatasetFormatError naming the first image that differs from the first. */
export function commonChannels(s: FolderSource, headers: readonly ImageHeader[]): 1 | 3 {
  const c = headers[0]!.channels;
  const k = headers.findIndex((h) => h.channels !== c);
  if (k >= 0) {
    const name = (n: number) => (n === 1 ? 'greyscale' : 'colour');
    throw new DatasetFormatError(
      s.files[k]!,
      `${name(headers[k]!.channels)} image in a folder of ${name(c)} images (${s.files[0]}): convert the folder to one kind`,
    );
  }
  return c;
}

/**
 * The input [H, W] and style of a `folder` dataset. imageSize when given (a square). Else, when every
 * image has one size: CIFAR style at that size; ImageNet style at its shorter side, at most 224. When
 * sizes differ: 32 (CIFAR style) or 224 (ImageNet style). The style (unless given) is cifar when no
 * image is larger than SMALL_IMAGE_MAX a side (or imageSize is not), else imagenet.
 */
export function folderInput(
  headers: readonly ImageHeader[],
  imageSize: number | null,
  style?: Style,
): { hw: [number, number]; style: Style } {
  if (imageSize) return { hw: [imageSize, imageSize], style: style ?? styleForSize(imageSize, imageSize) };
  const small = headers.every((x) => Math.max(x.width, x.height) <= SMALL_IMAGE_MAX);
  const st = style ?? (small ? 'cifar' : 'imagenet');
  const { width: w, height: h } = headers[0]!;
  const uniform = headers.every((x) => x.width === w && x.height === h);
  if (st === 'cifar') return { hw: uniform ? [h, w] : [32, 32], style: st };
  const side = uniform ? Math.min(h, w, 224) : 224;
  return { hw: [side, side], style: st };
}

export interface FolderOptions {
  imageSize?: number | null;
  style?: Style | null;
}

/**
 * A class-folder dataset of one's own (`folder`): every image's header is read (sizes, channels), the
 * input size and style follow from them unless given, and mean/std are left to be computed from the
 * training images (statsToCompute).
 */
export function loadFolderDataset(dir: string | undefined, o: FolderOptions = {}): LoadedDataset {
  if (!dir) throw new DatasetNotFoundError('folder dataset', [], 'Give its directory with dataset.dir (or --dir).');
  const root = resolve(dir);
  needDir(root, 'folder dataset', 'Give a directory of class folders (<dir>/<class>/*.png, or <dir>/train/<class>/...).');
  const layout = folderLayout(root);
  const train = scanFolder(layout.train);
  const test = layout.test ? scanFolder(layout.test, train.classes) : null;
  const headers = probeSource(train);
  const channels = commonChannels(train, headers);
  if (test) {
    const t = probeSource(test);
    const tc = commonChannels(test, t);
    if (tc !== channels)
      throw new DatasetFormatError(test.files[0]!, `${tc}-channel test images, the training images have ${channels}`);
  }
  const { hw, style } = folderInput(headers, o.imageSize ?? null, o.style ?? undefined);
  const [h, w] = hw;
  const meta: DatasetMeta = {
    name: 'folder',
    numClasses: train.classes.length,
    classNames: train.classes,
    shape: [channels, h, w],
    mean: new Array(channels).fill(0.5),
    std: new Array(channels).fill(0.25),
    style,
  };
  return { meta, train, test, statsToCompute: true };
}
