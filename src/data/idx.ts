// MNIST-family IDX files (Fashion-MNIST, MNIST), gzipped or raw.
//
// Header: two zero bytes, a type byte (0x08 = unsigned byte), the number of dimensions, then
// each dimension as a big-endian uint32; images are [N, rows, cols], labels [N].
import { dataPathExists, readDataFile } from './files.js';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DatasetFormatError, DatasetNotFoundError } from './errors.js';
import type { ArraySource, DatasetMeta, LoadedDataset } from './source.js';

export type IdxName = 'fashion-mnist' | 'mnist';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

const CLASSES: Record<IdxName, string[]> = {
  'fashion-mnist': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
};
const STATS: Record<IdxName, [number, number]> = { 'fashion-mnist': [0.286, 0.353], mnist: [0.1307, 0.3081] };

/** Parses an IDX unsigned-byte tensor of the expected rank; returns its dims and data (a view). */
export function parseIdx(file: string, raw: Uint8Array, rank: number): { dims: number[]; data: Uint8Array } {
  let buf = raw;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      buf = gunzipSync(raw);
    } catch (err) {
      throw new DatasetFormatError(file, `gzip data is corrupt (${(err as Error).message})`);
    }
  }
  if (buf.length < 4) throw new DatasetFormatError(file, `${buf.length} bytes: too short for an IDX header`);
  const magic = ((buf[0]! << 24) | (buf[1]! << 16) | (buf[2]! << 8) | buf[3]!) >>> 0;
  const expected = 0x800 + rank;
  if (magic !== expected) {
    throw new DatasetFormatError(
      file,
      `IDX magic 0x${magic.toString(16).padStart(8, '0')}, expected 0x${expected.toString(16).padStart(8, '0')} ` +
        `(unsigned bytes, ${rank} dimension${rank > 1 ? 's' : ''})`,
    );
  }
  const header = 4 + 4 * rank;
  if (buf.length < header) throw new DatasetFormatError(file, `${buf.length} bytes: too short for a rank-${rank} IDX header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  if (buf.length - header !== size) {
    throw new DatasetFormatError(file, `dimensions [${dims}] need ${size} data bytes, the file has ${buf.length - header}`);
  }
  return { dims, data: buf.subarray(header) };
}

function findFile(dir: string, stem: string): string | null {
  for (const f of [stem, `${stem}.gz`]) if (dataPathExists(join(dir, f))) return join(dir, f);
  return null;
}

function installHint(name: IdxName, dir: string): string {
  const deb = name === 'fashion-mnist' ? `apt-get install dataset-fashion-mnist (it installs ${FASHION_MNIST_DIR}), or ` : '';
  return `${deb}put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (gzipped or not) in ${dir} or a directory given by --dir`;
}

function loadPart(name: IdxName, dir: string, prefix: 'train' | 't10k'): ArraySource {
  const imgFile = findFile(dir, `${prefix}-images-idx3-ubyte`);
  const lblFile = findFile(dir, `${prefix}-labels-idx1-ubyte`);
  if (!imgFile || !lblFile) {
    const missing = !imgFile ? `${prefix}-images-idx3-ubyte[.gz]` : `${prefix}-labels-idx1-ubyte[.gz]`;
    throw new DatasetNotFoundError(`${name} file ${missing}`, [dir], installHint(name, dir));
  }
  const img = parseIdx(imgFile, readDataFile(imgFile), 3);
  const lbl = parseIdx(lblFile, readDataFile(lblFile), 1);
  const [n, h, w] = img.dims as [number, number, number];
  if (lbl.dims[0] !== n) throw new DatasetFormatError(lblFile, `${lbl.dims[0]} labels for the ${n} images of ${imgFile}`);
  if (n === 0 || h === 0 || w === 0) throw new DatasetFormatError(imgFile, `empty image tensor [${img.dims}]`);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = lbl.data[i]!;
    if (l >= 10) throw new DatasetFormatError(lblFile, `label ${i} (byte ${8 + i}) is ${l}, outside [0, 10)`);
    labels[i] = l;
  }
  return { kind: 'array', origin: imgFile, n, height: h, width: w, channels: 1, images: new Uint8Array(img.data), labels };
}

/** Resolves the directory: the given one, else the Debian default (Fashion-MNIST) or $LBT_DATA/mnist. */
export function idxDir(name: IdxName, dir?: string): string {
  if (dir) return resolve(dir);
  if (name === 'fashion-mnist') return FASHION_MNIST_DIR;
  return resolve(process.env.LBT_DATA ?? '.', 'mnist');
}

/** Loads the training and test parts; throws before returning anything when a file is wrong. */
export function loadIdxDataset(name: IdxName, dir?: string): LoadedDataset {
  const d = idxDir(name, dir);
  if (!dataPathExists(d)) throw new DatasetNotFoundError(`${name} directory ${d}`, [], installHint(name, d));
  const train = loadPart(name, d, 'train');
  const test = loadPart(name, d, 't10k');
  if (test.height !== train.height || test.width !== train.width) {
    throw new DatasetFormatError(
      test.origin,
      `images are ${test.height}x${test.width}, the training images ${train.height}x${train.width}`,
    );
  }
  const [mean, std] = STATS[name];
  const meta: DatasetMeta = {
    name,
    numClasses: 10,
    classNames: CLASSES[name],
    shape: [1, train.height, train.width],
    mean: [mean],
    std: [std],
    style: 'cifar',
  };
  return { meta, train, test };
}
