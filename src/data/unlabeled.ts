// D_u, the unlabeled data of a search (dataset.unlabeled): where it comes from.
//   paper    the paper's rule: for CIFAR-10 (CIFAR-100) the other CIFAR's training images, labels
//            removed (§4.1); for every other dataset a held-out part of its own training set (§4.2).
//   heldout  a part of the dataset's own training set, disjoint from D_tr, D_val and a held-out test split.
//   {dir}    any folder of JPEG/PNG images at any depth (class folders allowed, labels ignored), each
//            resized to the dataset's input and converted to its channels; images that are labelled
//            images of the dataset itself (the same files) are left out.
import { resolve } from 'node:path';
import { type CifarName, loadCifar } from './cifar.js';
import { realPaths, scanImages } from './folder.js';
import { type ImageSource, type LoadedDataset, withoutLabels } from './source.js';
import type { UnlabeledSource } from './splits.js';

/** The config's dataset.unlabeled: a rule, or a folder of images. */
export type UnlabeledRule = 'paper' | 'heldout' | { dir: string };

/** D_u's source: null = carved from the dataset's training set. */
export interface UnlabeledData {
  source: ImageSource | null;
  record: UnlabeledSource;
}

const isCifar = (name: string): name is CifarName => name === 'cifar10' || name === 'cifar100';

/** The other CIFAR: the paper's D_u of a CIFAR search. */
export const otherCifar = (name: CifarName): CifarName => (name === 'cifar10' ? 'cifar100' : 'cifar10');

/** The rule's kind as recorded in splits.json. */
export const ruleKind = (rule: UnlabeledRule): UnlabeledSource['rule'] => (typeof rule === 'object' ? 'folder' : rule);

/** Whether the rule reads D_u from outside the dataset (another CIFAR or a folder), or carves it from the training set. */
export function unlabeledIsExternal(rule: UnlabeledRule, dataset: string): boolean {
  return typeof rule === 'object' || (rule === 'paper' && isCifar(dataset));
}

/** Where D_u comes from under `rule`, read (a CIFAR) or scanned (a folder); the training set itself when it is carved from it. */
export async function loadUnlabeled(
  rule: UnlabeledRule,
  ds: LoadedDataset,
  spec: { dir?: string | null; unlabeledDir?: string | null },
): Promise<UnlabeledData> {
  const name = ds.meta.name;
  const kind = ruleKind(rule);
  if (typeof rule === 'object') {
    // the same files as the labelled images (D_u's folder is, or holds, the dataset's): left out
    const labelled =
      ds.train.kind === 'folder'
        ? new Set([...realPaths(ds.train), ...realPaths(ds.test?.kind === 'folder' ? ds.test : null)])
        : new Set<string>();
    const { source, excluded } = scanImages(resolve(rule.dir), labelled);
    return { source, record: { rule: kind, from: 'folder', origin: source.origin, images: source.n, excluded } };
  }
  if (rule === 'paper' && isCifar(name)) {
    const other = otherCifar(name);
    const loaded = await loadCifar(other, spec.unlabeledDir ?? spec.dir ?? undefined, { trainOnly: true });
    const source = withoutLabels(loaded.train as Extract<ImageSource, { kind: 'array' }>);
    return { source, record: { rule: kind, from: other, origin: source.origin, images: source.n, excluded: 0 } };
  }
  return { source: null, record: { rule: kind, from: 'train', origin: ds.train.origin, images: ds.train.n, excluded: 0 } };
}
