// Loader throughput vs. what a training step consumes, on CIFAR-shaped synthetic data.
//   node dist/bench/data.js [--images 5000] [--batch 64] [--jpeg 0] [--png 0]
// Prints images/s of the augmenting loader (crop+flip+cutout, tensors made and disposed), the
// images/s of a small conv net's forward+backward on the same batches, with --jpeg N the images/s
// of the ImageNet folder pipeline (JPEG decode + RandomResizedCrop 224) on N files, and with --png N
// the images/s of a `folder` dataset of N 32x32 PNGs (decoded per batch) as a ratio to the in-memory loader.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import {
  DecodePool,
  loadFolderDataset,
  loadImageFolders,
  openStream,
  Rng,
  splitData,
  syntheticDataset,
} from '../src/data/index.js';
import * as t from '../src/torch/index.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const nImages = arg('images', 5000);
const B = arg('batch', 64);
const nJpeg = arg('jpeg', 0);
const nPng = arg('png', 0);

function timeIt(label: string, batches: number, fn: () => number): { ms: number; ips: number } {
  fn(); // warm-up
  let images = 0;
  const start = performance.now();
  for (let i = 0; i < batches; i++) images += fn();
  const ms = (performance.now() - start) / batches;
  const ips = (images / (performance.now() - start)) * 1000;
  process.stdout.write(`${label.padEnd(44)} ${ms.toFixed(2).padStart(8)} ms/batch ${ips.toFixed(0).padStart(9)} images/s\n`);
  return { ms, ips };
}

const ds = syntheticDataset({ n: nImages, seed: 1 });
const data = splitData(
  ds,
  null,
  { trainSize: Math.floor(nImages / 2), valSize: Math.floor(nImages / 4), unlabeledSize: 0 },
  { seed: 0, purpose: 'search' },
);
process.stdout.write(
  `synthetic CIFAR-shaped data: ${nImages} images 32x32x3, batch ${B}, libtorch threads ${t.getNumThreads()}\n`,
);

const plain = openStream(data, 'train', { batchSize: B, seed: 1, prefetch: false, dropLast: true, augment: false });
const loaderEval = timeIt('loader, no augmentation (eval transform)', 100, () => {
  const b = plain.nextSync();
  t.disposeAll(b);
  return b.index.length;
});
const aug = openStream(data, 'train', { batchSize: B, seed: 1, prefetch: false, dropLast: true, cutout: 16 });
const loader = timeIt('loader, crop + flip + cutout 16', 200, () => {
  const b = aug.nextSync();
  t.disposeAll(b);
  return b.index.length;
});

// A small conv net (3 convs, 16-32-64 channels, linear head), forward + backward on each batch.
const { nn } = t;
const net = new nn.Sequential(
  new nn.Conv2d(3, 16, 3, { padding: 1 }),
  new nn.ReLU(),
  new nn.Conv2d(16, 32, 3, { padding: 1, stride: 2 }),
  new nn.ReLU(),
  new nn.Conv2d(32, 64, 3, { padding: 1, stride: 2 }),
  new nn.ReLU(),
  new nn.AdaptiveAvgPool2d(1),
);
const head = new nn.Linear(64, 10);
const params = [...net.parameters(), ...head.parameters()];
const step = timeIt('small conv net forward + backward (consumer)', 30, () => {
  const b = aug.nextSync();
  t.scope(() => {
    const logits = head.forward(t.flatten(net.forward(b.x), 1));
    const loss = t.crossEntropy(logits, b.y!);
    loss.backward();
    for (const p of params) p.grad = null;
  });
  t.disposeAll(b);
  return b.index.length;
});
process.stdout.write(
  `loader share of a small-net step: ${((100 * loader.ms) / step.ms).toFixed(1)}% ` +
    `(loader ${loader.ips.toFixed(0)} vs step ${step.ips.toFixed(0)} images/s; eval loader ${loaderEval.ips.toFixed(0)})\n`,
);
net.dispose();
head.dispose();

if (nJpeg > 0) {
  const dir = mkdtempSync(join(tmpdir(), 'lbt-bench-'));
  try {
    const rng = new Rng(2);
    for (let c = 0; c < 2; c++) {
      mkdirSync(join(dir, `class${c}`));
      for (let i = 0; i < nJpeg / 2; i++) {
        const w = 500;
        const h = 375;
        const rgba = Buffer.alloc(w * h * 4);
        for (let p = 0; p < w * h; p++) rgba.set([(p % w) & 255, (p / w) & 255, rng.int(256), 255], 4 * p);
        writeFileSync(join(dir, `class${c}`, `${i}.jpg`), jpeg.encode({ data: rgba, width: w, height: h }, 90).data);
      }
    }
    const folders = loadImageFolders(dir, 224);
    const fdata = splitData(folders, null, { trainSize: 0.5, valSize: 0.1, unlabeledSize: 0 }, { seed: 0, purpose: 'search' });
    const fb = Math.min(B, fdata.train.indices.length);
    const fs = openStream(fdata, 'train', { batchSize: fb, seed: 1, prefetch: false, mode: 'infinite', pool: null });
    timeIt('folder JPEG 500x375 → RandomResizedCrop 224', 3, () => {
      const b = fs.nextSync();
      t.disposeAll(b);
      return b.index.length;
    });
    // The same through worker threads (all cores but one), prefetching the next batch.
    const pool = new DecodePool();
    const ps = openStream(fdata, 'train', { batchSize: fb, seed: 1, mode: 'infinite', pool });
    t.disposeAll(await ps.next());
    const start = performance.now();
    for (let i = 0; i < 3; i++) t.disposeAll(await ps.next());
    const ms = (performance.now() - start) / 3;
    const label = `  same, DecodePool(${pool.size}) workers`;
    process.stdout.write(
      `${label.padEnd(44)} ${ms.toFixed(2).padStart(8)} ms/batch ${((fb / ms) * 1000).toFixed(0).padStart(9)} images/s\n`,
    );
    ps.close();
    await pool.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (nPng > 0) {
  // The synthetic images as 32x32 PNG class folders: a `folder` dataset, cifar style, decoded per batch.
  const dir = mkdtempSync(join(tmpdir(), 'lbt-bench-png-'));
  try {
    const rows = 10;
    const pngs = Math.min(nPng, nImages);
    for (let i = 0; i < pngs; i++) {
      const cls = join(dir, `c${i % rows}`);
      mkdirSync(cls, { recursive: true });
      const png = new PNG({ width: 32, height: 32 });
      const src = ds.train.kind === 'array' ? ds.train.images.subarray(i * 3072, (i + 1) * 3072) : new Uint8Array(3072);
      for (let p = 0; p < 1024; p++) png.data.set([src[3 * p]!, src[3 * p + 1]!, src[3 * p + 2]!, 255], 4 * p);
      writeFileSync(join(cls, `${i}.png`), PNG.sync.write(png, { colorType: 2 }));
    }
    const fdata = splitData(loadFolderDataset(dir), null, { trainSize: 0.5 }, { seed: 0, purpose: 'train' });
    const fs = openStream(fdata, 'train', { batchSize: B, seed: 1, prefetch: false, mode: 'infinite', cutout: 16, pool: null });
    const png = timeIt(`folder of ${pngs} PNGs 32x32, crop + flip + cutout`, 20, () => {
      const b = fs.nextSync();
      t.disposeAll(b);
      return b.index.length;
    });
    const pool = new DecodePool();
    const ps = openStream(fdata, 'train', { batchSize: B, seed: 1, mode: 'infinite', cutout: 16, pool });
    t.disposeAll(await ps.next());
    const start = performance.now();
    for (let i = 0; i < 20; i++) t.disposeAll(await ps.next());
    const ips = ((20 * B) / (performance.now() - start)) * 1000;
    process.stdout.write(
      `in-memory / PNG folder loader: ${(loader.ips / png.ips).toFixed(1)}x on the main thread; ` +
        `${(loader.ips / ips).toFixed(1)}x with DecodePool(${pool.size}) (${ips.toFixed(0)} images/s)\n`,
    );
    ps.close();
    await pool.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.stdout.write(`live tensors at exit: ${t.liveTensors()}\n`);
