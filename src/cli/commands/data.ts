// `lbt data check`: reads a dataset the way a search does and prints everything it found: each part
// (images per class, image sizes, channels), D_u under the chosen rule, the splits of a search, and
// exactly what is missing. Exit 0 when the labelled data are complete and readable (a missing D_u is
// reported with what to do), 1 when a part is missing or a file is malformed, 2 on a bad flag.
import type { Command } from 'commander';
import { loadSearchConfig } from '../../config/load.js';
import {
  classCounts,
  type DataSpec,
  DatasetFormatError,
  type Inspection,
  inspectData,
  LOADABLE,
  type Part,
  readEveryImage,
  type UnlabeledRule,
} from '../../data/index.js';
import { UserError } from '../errors.js';
import { collect } from '../options.js';

const PARTS: Part[] = ['train', 'valid', 'unlabeled', 'test'];
/** Sizes of the distributions as published (training, test). */
const FULL: Record<string, [number, number]> = {
  cifar10: [50000, 10000],
  cifar100: [50000, 10000],
  'fashion-mnist': [60000, 10000],
  mnist: [60000, 10000],
};

interface CheckOptions {
  dataset?: string;
  dir?: string;
  unlabeled?: string;
  unlabeledDir?: string;
  imageSize?: string;
  style?: string;
  preset?: string;
  config?: string;
  set: string[];
  seed: string;
  json?: boolean;
}

const int = (flag: string, v: string, min: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UserError(`${flag} ${v}: expected an integer >= ${min}`);
  return n;
};

/** The dataset section to check: a preset's or config file's (with --set), then the flags on top. */
function specOf(o: CheckOptions): DataSpec {
  const fromConfig = o.preset || o.config || o.set.length;
  if (!fromConfig && !o.dataset) throw new UserError('--dataset (or --preset / --config) is required');
  const base: DataSpec = fromConfig
    ? loadSearchConfig({ ...(o.preset && { preset: o.preset }), ...(o.config && { file: o.config }), sets: o.set }).dataset
    : { name: 'cifar10' };
  const spec: DataSpec = { ...base };
  if (o.dataset) {
    if (!(LOADABLE as readonly string[]).includes(o.dataset))
      throw new UserError(`--dataset ${o.dataset}: expected one of ${LOADABLE.join(', ')}`);
    spec.name = o.dataset as DataSpec['name'];
  }
  if (o.dir) spec.dir = o.dir;
  if (o.unlabeledDir) spec.unlabeledDir = o.unlabeledDir;
  if (o.unlabeled)
    spec.unlabeled = (o.unlabeled === 'paper' || o.unlabeled === 'heldout' ? o.unlabeled : { dir: o.unlabeled }) as UnlabeledRule;
  if (o.imageSize) spec.imageSize = int('--image-size', o.imageSize, 1);
  if (o.style) {
    if (!['auto', 'cifar', 'imagenet'].includes(o.style))
      throw new UserError(`--style ${o.style}: expected auto, cifar or imagenet`);
    spec.style = o.style as DataSpec['style'];
  }
  return spec;
}

function splitParts(r: Inspection) {
  const data = r.data;
  if (!data) return {};
  const k = data.meta.numClasses;
  const parts: Record<string, { images: number; perClass: number[] | null; labels: string }> = {};
  for (const part of PARTS) {
    const sub = data[part];
    if (!sub) continue;
    const labels = sub.source.labels;
    parts[part] = {
      images: sub.indices.length,
      perClass: labels ? classCounts(labels, sub.indices, k) : null,
      labels: sub.labelled ? 'used' : labels ? 'hidden (agreement only)' : 'none',
    };
  }
  return parts;
}

function notesOf(r: Inspection, name: string): string[] {
  const notes: string[] = [];
  const full = FULL[name];
  const n = (p: string) => r.sources.find((s) => s.part === p)?.images ?? 0;
  if (full && r.sources.length && (n('train') !== full[0] || n('test') !== full[1]))
    notes.push(`${n('train')} training / ${n('test')} test images; the full distribution has ${full[0]} / ${full[1]}`);
  const u = r.sources.find((s) => s.part === 'unlabeled');
  if (u?.excluded)
    notes.push(`${u.excluded} images of the D_u folder are labelled images of the dataset and are left out of D_u`);
  const sp = r.data?.splits;
  if (sp?.testFrom === 'train' && sp.test)
    notes.push(
      `the test split is ${sp.test.length} training images held out (dataset.testFromTrain; a tenth of a folder dataset without test/ or val/)`,
    );
  if (r.data?.splits.normalization)
    notes.push(
      `mean and std computed from ${r.data.splits.normalization.images} training images (saved with a run in splits.json)`,
    );
  for (const m of r.missing)
    if (m.part === 'unlabeled') notes.push(`a search with dataset.unlabeled: ${r.rule} cannot start: ${m.what}. ${m.hint}.`);
  return notes;
}

const fmt = (v: readonly number[]) => `[${v.map((x) => x.toFixed(4)).join(', ')}]`;

function printText(r: Inspection, parts: ReturnType<typeof splitParts>, notes: string[], seed: number): void {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const m = r.meta;
  if (m)
    out(
      `${m.name}: ${m.numClasses} classes, input ${m.shape.join('x')} (CxHxW), ${m.style} style, mean ${fmt(m.mean)} std ${fmt(m.std)}`,
    );
  for (const s of r.sources)
    out(`  ${s.part.padEnd(10)} ${String(s.images).padStart(8)} images, ${s.size}, ${s.channels} channel(s)  ${s.origin}`);
  out(`D_u (dataset.unlabeled: ${r.rule}): ${r.unlabeled}`);
  const cols = Object.keys(parts);
  if (cols.length) {
    out(`splits of a search (seed ${seed}):`);
    for (const p of cols) out(`  ${p.padEnd(10)} ${String(parts[p]!.images).padStart(8)} images, labels ${parts[p]!.labels}`);
  }
  const table = cols.length
    ? cols.map((c) => ({ name: c, counts: parts[c]!.perClass }))
    : r.sources.map((s) => ({ name: s.part, counts: s.perClass }));
  if (m && table.length) {
    out(`per class:\n  ${'class'.padEnd(16)}${table.map((c) => c.name.padStart(10)).join('')}`);
    for (let c = 0; c < m.numClasses; c++) {
      const cells = table.map((t) => String(t.counts?.[c] ?? '-').padStart(10));
      out(`  ${(m.classNames[c] ?? String(c)).slice(0, 15).padEnd(16)}${cells.join('')}`);
    }
  }
  for (const x of r.missing.filter((x) => x.part !== 'unlabeled')) out(`missing: ${x.what}. ${x.hint}`);
  if (!r.sources.length) out('nothing of the dataset could be read');
  for (const n of notes) out(`note: ${n}`);
}

async function check(o: CheckOptions): Promise<void> {
  const seed = int('--seed', o.seed, 0);
  const spec = specOf(o);
  let r: Inspection;
  try {
    r = await inspectData(spec, seed);
    const progress = (part: string, total: number) => (done: number) =>
      process.stderr.write(`${part}: ${done} / ${total} images read\n`);
    const meta = r.meta;
    if (meta) for (const { part, source } of r.read) readEveryImage(source, meta, progress(part, source.n));
  } catch (err) {
    if (err instanceof DatasetFormatError) throw new UserError(`data check failed: ${err.message}`, 1);
    throw err;
  }
  const parts = splitParts(r);
  const notes = notesOf(r, spec.name);
  if (o.json) {
    const m = r.meta;
    const head = m && { dataset: m.name, classes: m.numClasses, shape: m.shape, mean: m.mean, std: m.std, style: m.style };
    const body = {
      ...head,
      unlabeled: { rule: r.rule, source: r.unlabeled },
      sources: r.sources,
      parts,
      missing: r.missing,
      notes,
    };
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  } else printText(r, parts, notes, seed);
  const labelled = r.missing.filter((x) => x.part !== 'unlabeled');
  if (labelled.length)
    throw new UserError(`data check failed: missing ${labelled.map((x) => `${x.what}. ${x.hint}`).join('; ')}`, 1);
  if (!o.json) process.stdout.write('ok\n');
}

export function registerData(program: Command): void {
  const data = program.command('data').description('datasets: check that one is installed and readable');
  data
    .command('check')
    .description('read a whole dataset as a search would; print each part, images per split and per class, and what is missing')
    .option('--dataset <name>', `one of ${LOADABLE.join(', ')} (required without --preset / --config)`)
    .option('--dir <dir>', 'dataset directory (CIFAR: or its .tar.gz); default $LBT_DATA or the built-in path')
    .option('--unlabeled <rule>', 'D_u: paper (default), heldout, or a folder of images')
    .option('--unlabeled-dir <dir>', "directory of the paper rule's other CIFAR (D_u); default: --dir")
    .option('--image-size <n>', 'input size of image folders (folder, imagenet)')
    .option('--style <style>', 'auto, cifar or imagenet (augmentation and stems)')
    .option('--preset <name>', "check a preset's dataset section (flags override it)")
    .option('--config <file>', "check a config file's dataset section")
    .option('--set <key=value>', 'override a config key, e.g. --set dataset.unlabeled=heldout (repeatable)', collect, [])
    .option('--seed <n>', 'split seed', '0')
    .option('--json', 'print the report as JSON')
    .action(check);
}
