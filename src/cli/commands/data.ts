// `lbt data check`: reads a dataset the way a search does and prints what it found.
import type { Command } from 'commander';
import {
  classCounts,
  DataConfigError,
  DatasetFormatError,
  DatasetNotFoundError,
  LOADABLE,
  loadData,
  openStream,
  type Part,
  type SplitData,
} from '../../data/index.js';
import { UserError } from '../errors.js';

const DATASETS = LOADABLE;
const PARTS: Part[] = ['train', 'valid', 'unlabeled', 'test'];
/** Sizes of the distributions as published (training, test). */
const FULL: Record<string, [number, number]> = {
  cifar10: [50000, 10000],
  cifar100: [50000, 10000],
  'fashion-mnist': [60000, 10000],
  mnist: [60000, 10000],
};

interface CheckOptions {
  dataset: string;
  dir?: string;
  unlabeledDir?: string;
  seed: string;
  json?: boolean;
}

/** Runs every image of every part through its transform (decoding lazily-read images too). */
async function readAll(data: SplitData, progress: (msg: string) => void): Promise<void> {
  for (const part of PARTS) {
    const sub = data[part];
    if (!sub) continue;
    const s = openStream(data, part, { batchSize: 256, seed: data.splits.seed, mode: 'epoch', prefetch: false });
    for (let step = 0; step < s.stepsPerEpoch; step++) {
      const b = await s.next();
      b.x.dispose();
      b.y?.dispose();
      if (step % 50 === 49) progress(`${part}: ${(step + 1) * 256} / ${s.length} images read`);
    }
  }
}

function report(data: SplitData) {
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
  return { dataset: data.meta.name, classes: k, shape: data.meta.shape, mean: data.meta.mean, std: data.meta.std, parts };
}

export function registerData(program: Command): void {
  const data = program.command('data').description('datasets: check that one is installed and readable');
  data
    .command('check')
    .description('read a whole dataset as a search would; print images per split and per class')
    .requiredOption('--dataset <name>', `one of ${DATASETS.join(', ')}`)
    .option('--dir <dir>', 'dataset directory (CIFAR: or its .tar.gz); default $LBT_DATA or the built-in path')
    .option('--unlabeled-dir <dir>', 'directory of the other CIFAR (D_u); default: --dir')
    .option('--seed <n>', 'split seed', '0')
    .option('--json', 'print the report as JSON')
    .action(async (o: CheckOptions) => {
      if (!(DATASETS as readonly string[]).includes(o.dataset)) {
        throw new UserError(`--dataset ${o.dataset}: expected one of ${DATASETS.join(', ')}`);
      }
      const seed = Number(o.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new UserError(`--seed ${o.seed}: expected a non-negative integer`);
      let loaded: SplitData;
      try {
        const name = o.dataset as (typeof DATASETS)[number];
        loaded = await loadData({ name, dir: o.dir ?? null, unlabeledDir: o.unlabeledDir ?? null }, { seed, purpose: 'search' });
        await readAll(loaded, (m) => process.stderr.write(`${m}\n`));
      } catch (err) {
        if (err instanceof DatasetFormatError || err instanceof DatasetNotFoundError || err instanceof DataConfigError) {
          throw new UserError(`data check failed: ${err.message}`, 1);
        }
        throw err;
      }
      const r = report(loaded);
      const notes: string[] = [];
      const full = FULL[o.dataset];
      const nTrain = loaded.train.source.n;
      const nTest = loaded.test?.source.n ?? 0;
      if (full && (nTrain !== full[0] || nTest !== full[1])) {
        notes.push(`${nTrain} training / ${nTest} test images; the full distribution has ${full[0]} / ${full[1]}`);
      }
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ ...r, notes }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${r.dataset}: ${r.classes} classes, images ${r.shape.join('x')} (CxHxW)\n`);
      const cols = Object.keys(r.parts);
      for (const p of cols)
        process.stdout.write(
          `  ${p.padEnd(10)} ${String(r.parts[p]!.images).padStart(8)} images, labels ${r.parts[p]!.labels}\n`,
        );
      process.stdout.write(`per class:\n  ${'class'.padEnd(16)}${cols.map((c) => c.padStart(10)).join('')}\n`);
      for (let c = 0; c < r.classes; c++) {
        const cells = cols.map((p) => String(r.parts[p]!.perClass?.[c] ?? '-').padStart(10));
        process.stdout.write(`  ${(loaded.meta.classNames[c] ?? String(c)).slice(0, 15).padEnd(16)}${cells.join('')}\n`);
      }
      for (const n of notes) process.stdout.write(`note: ${n}\n`);
      process.stdout.write('ok\n');
    });
}
