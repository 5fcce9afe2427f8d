// What `lbt data check` reports: every part of a dataset that can be read (images per part and per
// class, image sizes, channels), D_u's source under the chosen rule, and exactly what is missing,
// instead of the first missing file. A malformed file is still an error naming it.
import { CIFAR_LAYOUT, type CifarName, loadCifar } from './cifar.js';
import { DatasetNotFoundError } from './errors.js';
import { probeSource } from './folder.js';
import { type DataSpec, loadDataset, type SplitData, splitData } from './load.js';
import { Rng } from './rng.js';
import { classCounts, type DatasetMeta, type ImageSource, type LoadedDataset } from './source.js';
import { makeTransform } from './transforms.js';
import { loadUnlabeled, otherCifar, ruleKind, type UnlabeledData } from './unlabeled.js';

export interface SourceReport {
  part: 'train' | 'test' | 'unlabeled';
  origin: string;
  images: number;
  /** Width x height: one size, or the smallest and largest area ("32x32", "120x90 .. 500x375"). */
  size: string;
  /** Colour channels of the files ("1", "3", or "1, 3" for ImageNet, whose greyscale images are expanded). */
  channels: string;
  /** Images per class (null: the source has no labels, or its labels are not used). */
  perClass: number[] | null;
  /** D_u folder images left out because they are labelled images of the dataset. */
  excluded?: number;
}

export interface MissingPart {
  part: 'dataset' | 'test' | 'unlabeled';
  what: string;
  hint: string;
}

export interface Inspection {
  /** The dataset's meta (null when its training images are missing). */
  meta: DatasetMeta | null;
  rule: 'paper' | 'heldout' | 'folder';
  /** Where D_u comes from, in words. */
  unlabeled: string;
  sources: SourceReport[];
  /** The sources themselves, to read every image of (readEveryImage). */
  read: { part: SourceReport['part']; source: ImageSource }[];
  missing: MissingPart[];
  /** The splits a search would use (null when something it needs is missing). */
  data: SplitData | null;
}

function describe(part: SourceReport['part'], s: ImageSource, numClasses: number): SourceReport {
  const perClass = s.labels
    ? classCounts(
        s.labels,
        Int32Array.from({ length: s.n }, (_, i) => i),
        numClasses,
      )
    : null;
  if (s.kind === 'array')
    return { part, origin: s.origin, images: s.n, size: `${s.width}x${s.height}`, channels: String(s.channels), perClass };
  const headers = probeSource(s);
  const bySize = [...headers].sort((a, b) => a.width * a.height - b.width * b.height);
  const lo = `${bySize[0]!.width}x${bySize[0]!.height}`;
  const hi = `${bySize.at(-1)!.width}x${bySize.at(-1)!.height}`;
  const channels = [...new Set(headers.map((h) => h.channels))].sort().join(', ');
  return { part, origin: s.origin, images: s.n, size: lo === hi ? lo : `${lo} .. ${hi}`, channels, perClass };
}

/** The labelled dataset; a missing test part of CIFAR is reported and the training part read alone. */
async function labelled(spec: DataSpec, missing: MissingPart[]): Promise<LoadedDataset | null> {
  try {
    return await loadDataset(spec);
  } catch (err) {
    if (!(err instanceof DatasetNotFoundError)) throw err;
    const cifar = spec.name === 'cifar10' || spec.name === 'cifar100';
    const train = cifar
      ? await loadCifar(spec.name as CifarName, spec.dir ?? undefined, { trainOnly: true }).catch(() => null)
      : null;
    missing.push({ part: train ? 'test' : 'dataset', what: err.what, hint: err.hint });
    return train;
  }
}

function unlabeledWords(u: UnlabeledData | null, spec: DataSpec): string {
  if (u?.source)
    return `${u.record.from === 'folder' ? 'the images of' : `${u.record.from}'s training images in`} ${u.record.origin}, labels not used`;
  return `a held-out part of ${spec.name}'s training set, labels removed`;
}

function unlabeledMissing(spec: DataSpec, err: DatasetNotFoundError): MissingPart {
  const rule = spec.unlabeled ?? 'paper';
  if (typeof rule === 'object')
    return { part: 'unlabeled', what: `the D_u folder: ${err.message}`, hint: 'Fix dataset.unlabeled.dir.' };
  const other = CIFAR_LAYOUT[otherCifar(spec.name as CifarName)];
  const looked = err.looked.length ? ` (looked in: ${err.looked.join(', ')})` : ` (${err.what})`;
  return {
    part: 'unlabeled',
    what: `${other.title}, the paper's D_u for ${spec.name} (its training images, labels removed), not found${looked}`,
    hint:
      `Put ${other.archive} (or ${other.folder}/) in the data directory or dataset.unlabeledDir, ` +
      `or set dataset.unlabeled: heldout (D_u from ${spec.name}'s own training set) or dataset.unlabeled.dir: FOLDER (any images)`,
  };
}

/** Everything `lbt data check` reports; throws only on a malformed file (naming it) or an impossible split. */
export async function inspectData(spec: DataSpec, seed: number): Promise<Inspection> {
  const missing: MissingPart[] = [];
  const rule = ruleKind(spec.unlabeled ?? 'paper');
  const ds = await labelled(spec, missing);
  if (!ds) return { meta: null, rule, unlabeled: '-', sources: [], read: [], missing, data: null };
  const k = ds.meta.numClasses;
  const read: Inspection['read'] = [{ part: 'train', source: ds.train }];
  if (ds.test) read.push({ part: 'test', source: ds.test });
  const sources = read.map((r) => describe(r.part, r.source, k));
  let u: UnlabeledData | null = null;
  try {
    u = await loadUnlabeled(spec.unlabeled ?? 'paper', ds, spec);
    if (u.source) {
      sources.push({ ...describe('unlabeled', u.source, k), perClass: null, excluded: u.record.excluded });
      read.push({ part: 'unlabeled', source: u.source });
    }
  } catch (err) {
    if (!(err instanceof DatasetNotFoundError)) throw err;
    missing.push(unlabeledMissing(spec, err));
  }
  const complete = missing.length === 0;
  const data = complete ? splitData(ds, u, spec, { seed, purpose: 'search' }) : null;
  const unlabeled = complete ? unlabeledWords(u, spec) : missing.some((m) => m.part === 'unlabeled') ? 'missing' : '-';
  return { meta: data?.meta ?? ds.meta, rule, unlabeled, sources, read, missing, data };
}

/** Decodes every image of a source through the evaluation transform (a malformed one throws, naming its file). */
export function readEveryImage(s: ImageSource, meta: DatasetMeta, progress?: (done: number) => void): void {
  if (s.kind === 'array') return; // validated in full when it was read
  const tr = makeTransform(s, meta, { train: false });
  const [c, h, w] = meta.shape;
  const x = new Float32Array(c * h * w);
  const rng = new Rng(0);
  for (let i = 0; i < s.n; i++) {
    tr.write(i, rng, x, 0);
    if (i % 500 === 499) progress?.(i + 1);
  }
}
