// CIFAR-10 / CIFAR-100 binary distribution: from a directory or straight from the .tar.gz.
//
// Rows of (label bytes, 1024 R, 1024 G, 1024 B): CIFAR-10 has one label byte, CIFAR-100 two
// (coarse, then fine; we keep the fine label). Pixels are stored planar (CHW) per row and
// converted to our NHWC layout here.
import { statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { list } from 'tar';
import { DatasetFormatError, DatasetNotFoundError } from './errors.js';
import { dataPathExists, readDataFile, readDataHead } from './files.js';
import type { ArraySource, DatasetMeta, LoadedDataset } from './source.js';

export type CifarName = 'cifar10' | 'cifar100';

const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

interface Layout {
  title: string;
  folder: string;
  archive: string;
  url: string;
  train: string[];
  test: string[];
  labelBytes: 1 | 2;
  numClasses: number;
  mean: number[];
  std: number[];
}

export const CIFAR_LAYOUT: Record<CifarName, Layout> = {
  cifar10: {
    title: 'CIFAR-10',
    folder: 'cifar-10-batches-bin',
    archive: 'cifar-10-binary.tar.gz',
    url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
    train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
    test: ['test_batch.bin'],
    labelBytes: 1,
    numClasses: 10,
    mean: [0.49139968, 0.48215827, 0.44653124],
    std: [0.24703233, 0.24348505, 0.26158768],
  },
  cifar100: {
    title: 'CIFAR-100',
    folder: 'cifar-100-binary',
    archive: 'cifar-100-binary.tar.gz',
    url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
    train: ['train.bin'],
    test: ['test.bin'],
    labelBytes: 2,
    numClasses: 100,
    mean: [0.5071, 0.4867, 0.4408],
    std: [0.2675, 0.2565, 0.2761],
  },
};

const PIXELS = 3072;

/** Parses rows of a CIFAR binary file into NHWC images and labels; validates size and labels. */
export function parseCifar(name: CifarName, file: string, buf: Uint8Array): { images: Uint8Array; labels: Int32Array } {
  const { labelBytes, numClasses, title } = CIFAR_LAYOUT[name];
  const row = labelBytes + PIXELS;
  if (buf.length === 0 || buf.length % row !== 0) {
    throw new DatasetFormatError(
      file,
      `${buf.length} bytes is not a positive multiple of the ${row}-byte ${title} row ` +
        `(${labelBytes} label byte${labelBytes > 1 ? 's' : ''} + 3072 pixel bytes): truncated, or not a ${title} file`,
    );
  }
  const n = buf.length / row;
  const images = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = i * row;
    if (labelBytes === 2 && buf[r]! >= 20) {
      throw new DatasetFormatError(file, `row ${i} (byte ${r}): coarse label ${buf[r]} outside [0, 20)`);
    }
    const label = buf[r + labelBytes - 1]!;
    if (label >= numClasses) {
      throw new DatasetFormatError(file, `row ${i} (byte ${r + labelBytes - 1}): label ${label} outside [0, ${numClasses})`);
    }
    labels[i] = label;
    const src = r + labelBytes;
    const dst = i * PIXELS;
    for (let p = 0; p < 1024; p++) {
      images[dst + 3 * p] = buf[src + p]!;
      images[dst + 3 * p + 1] = buf[src + 1024 + p]!;
      images[dst + 3 * p + 2] = buf[src + 2048 + p]!;
    }
  }
  return { images, labels };
}

export type CifarLocation = { kind: 'dir'; path: string } | { kind: 'archive'; path: string };

function installHint(name: CifarName): string {
  const l = CIFAR_LAYOUT[name];
  return (
    `Download ${l.archive} (${l.title} binary version, ${l.url}) and put it, as is or unpacked ` +
    `(${l.folder}/${l.train[0]} ...), in a directory given by --dir, the data config's dir, or the LBT_DATA environment variable`
  );
}

/** Finds the distribution under dir (or $LBT_DATA): the files, their folder, or the archive. */
export function locateCifar(name: CifarName, dir?: string): CifarLocation {
  const l = CIFAR_LAYOUT[name];
  const root = dir ?? process.env.LBT_DATA;
  if (!root) throw new DatasetNotFoundError(`${l.title} data directory`, [], `No directory was given. ${installHint(name)}`);
  const abs = resolve(root);
  if (!dataPathExists(abs)) throw new DatasetNotFoundError(`${l.title} data directory ${abs}`, [], installHint(name));
  if (!statSync(abs).isDirectory()) {
    if (abs.endsWith('.tar.gz') || abs.endsWith('.tgz')) return { kind: 'archive', path: abs };
    throw new DatasetFormatError(abs, `expected a directory or a ${l.archive} archive`);
  }
  const candidates = [abs, join(abs, l.folder)];
  for (const c of candidates) if (dataPathExists(join(c, l.train[0]!))) return { kind: 'dir', path: c };
  const archive = join(abs, l.archive);
  if (dataPathExists(archive)) return { kind: 'archive', path: archive };
  throw new DatasetNotFoundError(`${l.title} (${l.train[0]} or ${l.archive})`, [...candidates, archive], installHint(name));
}

/** Reads the named members (by base name) of a .tar.gz into memory. */
async function readArchive(archive: string, wanted: readonly string[]): Promise<Map<string, Uint8Array>> {
  const head = readDataHead(archive, 2, 'archive');
  if (head[0] !== 0x1f || head[1] !== 0x8b)
    throw new DatasetFormatError(archive, 'not a gzip-compressed tar archive (no gzip signature 1f 8b at its start)');
  const chunks = new Map<string, Buffer[]>();
  try {
    await list({
      file: archive,
      onReadEntry: (entry) => {
        const base = basename(entry.path);
        if (entry.type !== 'File' || !wanted.includes(base) || chunks.has(base)) {
          entry.resume();
          return;
        }
        const parts: Buffer[] = [];
        chunks.set(base, parts);
        entry.on('data', (c: Buffer) => parts.push(c));
      },
    });
  } catch (err) {
    throw new DatasetFormatError(archive, `not a readable .tar.gz archive (${(err as Error).message})`);
  }
  const out = new Map<string, Uint8Array>();
  for (const w of wanted) {
    const parts = chunks.get(w);
    if (!parts) throw new DatasetFormatError(archive, `the archive has no member named ${w}`);
    out.set(w, Buffer.concat(parts));
  }
  return out;
}

function readMembers(loc: CifarLocation, files: readonly string[]): Promise<Map<string, Uint8Array>> | Map<string, Uint8Array> {
  if (loc.kind === 'archive') return readArchive(loc.path, files);
  const out = new Map<string, Uint8Array>();
  for (const f of files) {
    const p = join(loc.path, f);
    if (!dataPathExists(p))
      throw new DatasetNotFoundError(`file ${f}`, [loc.path], 'The directory holds part of the distribution only.');
    out.set(f, readDataFile(p));
  }
  return out;
}

function concatParts(name: CifarName, loc: CifarLocation, files: readonly string[], bufs: Map<string, Uint8Array>): ArraySource {
  const parsed = files.map((f) =>
    parseCifar(name, loc.kind === 'archive' ? `${loc.path}:${f}` : join(loc.path, f), bufs.get(f)!),
  );
  const n = parsed.reduce((a, p) => a + p.labels.length, 0);
  const images = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  let at = 0;
  for (const p of parsed) {
    images.set(p.images, at * PIXELS);
    labels.set(p.labels, at);
    at += p.labels.length;
  }
  const origin = files.length === 1 ? `${loc.path}/${files[0]}` : loc.path;
  return { kind: 'array', origin, n, height: 32, width: 32, channels: 3, images, labels };
}

function cifarMeta(name: CifarName, classNames: readonly string[]): DatasetMeta {
  const l = CIFAR_LAYOUT[name];
  return { name, numClasses: l.numClasses, classNames, shape: [3, 32, 32], mean: l.mean, std: l.std, style: 'cifar' };
}

/** Loads the CIFAR training (and, unless trainOnly, test) sets; everything is validated before it returns. */
export async function loadCifar(name: CifarName, dir?: string, o: { trainOnly?: boolean } = {}): Promise<LoadedDataset> {
  const l = CIFAR_LAYOUT[name];
  const loc = locateCifar(name, dir);
  const files = o.trainOnly ? l.train : [...l.train, ...l.test];
  const bufs = await readMembers(loc, files);
  const train = concatParts(name, loc, l.train, bufs);
  const test = o.trainOnly ? null : concatParts(name, loc, l.test, bufs);
  let classNames: string[] = CIFAR10_CLASSES;
  if (name === 'cifar100') {
    const namesFile = loc.kind === 'dir' ? join(loc.path, 'fine_label_names.txt') : '';
    const names =
      namesFile && dataPathExists(namesFile)
        ? readDataFile(namesFile, 'class names file')
            .toString('utf8')
            .split('\n')
            .filter((s) => s.trim())
        : [];
    classNames = names.length === 100 ? names : Array.from({ length: 100 }, (_, i) => `class_${i}`);
  }
  return { meta: cifarMeta(name, classNames), train, test };
}
