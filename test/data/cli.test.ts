// `lbt data check` on tiny real-format files, and on the installed Fashion-MNIST (read once).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FASHION_MNIST_DIR, loadData } from '../../src/data/index.js';
import { tarGz, tempDir, writeCifar10, writeCifar100, writeClassFolders, writeImage, writePixels } from './helpers.js';

const tmp = tempDir('cli');
after(tmp.cleanup);
const lbt = (...args: string[]) =>
  spawnSync(process.execPath, ['dist/src/cli/main.js', 'data', 'check', ...args], { encoding: 'utf8' });

test('data check on CIFAR-10 (+ CIFAR-100 as D_u, from its .tar.gz) prints splits and per-class counts', async () => {
  const c10 = writeCifar10(tmp.dir, 4, 11); // 20 train, 4 test
  writeCifar100(join(tmp.dir, 'src100'), 6, 2, 12);
  await tarGz(join(tmp.dir, 'src100'), join(tmp.dir, 'cifar-100-binary.tar.gz'), ['cifar-100-binary']);
  const r = lbt('--dataset', 'cifar10', '--dir', tmp.dir, '--json');
  assert.equal(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.deepEqual(Object.fromEntries(Object.entries(rep.parts).map(([k, v]) => [k, (v as { images: number }).images])), {
    train: 10,
    valid: 10,
    unlabeled: 6,
    test: 4,
  });
  const perClass = (p: string) => rep.parts[p].perClass as number[];
  const all = perClass('train').map((v, i) => v + perClass('valid')[i]!);
  assert.deepEqual(
    all,
    Array.from({ length: 10 }, (_, c) => c10.labels.slice(0, 20).filter((l) => l === c).length),
  );
  assert.equal(rep.parts.unlabeled.perClass, null);
  assert.match(rep.notes[0], /20 training \/ 4 test images; the full distribution has 50000 \/ 10000/);
  const text = lbt('--dataset', 'cifar10', '--dir', tmp.dir);
  assert.match(text.stdout, /train\s+10 images, labels used/);
  assert.match(text.stdout, /airplane/);
});

test('data check fails with a clear message and exit code 1 on bad data, 2 on a bad flag', () => {
  writeFileSync(join(tmp.dir, 'cifar-10-batches-bin', 'data_batch_2.bin'), new Uint8Array(100));
  const r = lbt('--dataset', 'cifar10', '--dir', tmp.dir);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /lbt: data check failed: .*data_batch_2\.bin: 100 bytes is not a positive multiple of the 3073-byte CIFAR-10 row/,
  );
  const missing = lbt('--dataset', 'cifar100', '--dir', join(tmp.dir, 'nope'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cifar-100-binary\.tar\.gz/);
  assert.equal(lbt('--dataset', 'svhn').status, 2);
});

test("CIFAR-10 alone: exit 0, every part counted, and what the paper's D_u needs; heldout gives the splits", () => {
  const dir = join(tmp.dir, 'only10');
  const c10 = writeCifar10(dir, 8, 13); // 40 train, 8 test
  const r = lbt('--dataset', 'cifar10', '--dir', dir, '--json');
  assert.equal(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.deepEqual(
    rep.sources.map((s: { part: string; images: number; size: string; channels: string }) => [
      s.part,
      s.images,
      s.size,
      s.channels,
    ]),
    [
      ['train', 40, '32x32', '3'],
      ['test', 8, '32x32', '3'],
    ],
  );
  assert.deepEqual(
    rep.sources[0].perClass,
    Array.from({ length: 10 }, (_, c) => c10.labels.slice(0, 40).filter((l) => l === c).length),
  );
  assert.deepEqual(rep.parts, {}, 'no search splits without D_u');
  assert.deepEqual(
    rep.missing.map((m: { part: string }) => m.part),
    ['unlabeled'],
  );
  assert.ok(rep.notes.some((n: string) => /CIFAR-100, the paper's D_u for cifar10.*dataset\.unlabeled: heldout/.test(n)));
  const text = lbt('--dataset', 'cifar10', '--dir', dir);
  assert.equal(text.status, 0);
  assert.match(text.stdout, /train\s+40 images, 32x32, 3 channel/);
  assert.match(text.stdout, /note: a search with dataset.unlabeled: paper cannot start: CIFAR-100/);
  // the same data under a preset with --set, as `lbt search` would take it
  const h = lbt(
    '--preset',
    'lbt-rn18-darts2nd-cifar10',
    '--set',
    `dataset.dir=${dir}`,
    '--set',
    'dataset.unlabeled=heldout',
    '--json',
  );
  assert.equal(h.status, 0, h.stderr);
  const parts = JSON.parse(h.stdout).parts;
  assert.deepEqual([parts.train.images, parts.valid.images, parts.unlabeled.images, parts.test.images], [13, 13, 13, 8]);
  assert.equal(parts.unlabeled.labels, 'hidden (agreement only)');
});

test('a folder dataset with a D_u folder: sizes, channels, style and computed stats; a malformed folder names its file', () => {
  const dir = join(tmp.dir, 'pngs');
  writeClassFolders(dir, 2, 10, 32, 32);
  const u = join(tmp.dir, 'u');
  mkdirSync(u);
  for (let i = 0; i < 6; i++) writeImage(join(u, `${i}.jpg`), 60, 45, [10, 20, 30], 'jpeg');
  const r = lbt('--dataset', 'folder', '--dir', dir, '--unlabeled', u, '--json');
  assert.equal(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.deepEqual([rep.shape, rep.style, rep.unlabeled.rule], [[3, 32, 32], 'cifar', 'folder']);
  assert.deepEqual(
    rep.sources.map((s: { part: string; images: number; size: string }) => [s.part, s.images, s.size]),
    [
      ['train', 20, '32x32'],
      ['unlabeled', 6, '60x45'],
    ],
  );
  assert.deepEqual(
    [rep.parts.train.images, rep.parts.valid.images, rep.parts.unlabeled.images, rep.parts.test.images],
    [9, 9, 6, 2],
  );
  assert.ok(rep.notes.some((n: string) => /mean and std computed from 18 training images/.test(n)));
  assert.ok(rep.notes.some((n: string) => /test split is 2 training images held out/.test(n)));
  writePixels(join(dir, 'c1', 'grey.png'), 32, 32, new Uint8Array(1024), 1);
  const bad = lbt('--dataset', 'folder', '--dir', dir);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /lbt: data check failed: .*c1\/grey\.png: greyscale image in a folder of colour images/);
  const none = lbt('--dataset', 'folder', '--dir', join(tmp.dir, 'nothing'));
  assert.equal(none.status, 1);
  assert.match(none.stderr, /missing folder dataset .*nothing/);
  writeFileSync(join(u, 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
  const badU = lbt('--dataset', 'cifar10', '--dir', join(tmp.dir, 'only10'), '--unlabeled', u);
  assert.equal(badU.status, 1);
  assert.match(badU.stderr, /u\/broken\.jpg: truncated JPEG: no frame header/);
});

test('the installed Fashion-MNIST (Debian dataset-fashion-mnist) loads with the paper-style splits', {
  skip: !existsSync(FASHION_MNIST_DIR),
}, async () => {
  const d = await loadData(
    { name: 'fashion-mnist', trainSize: 1000, valSize: 1000, unlabeledSize: 500, testSize: 200 },
    { seed: 0, purpose: 'search' },
  );
  assert.equal(d.train.source.n, 60000);
  assert.equal(d.test?.source.n, 10000);
  assert.deepEqual(
    [d.train.indices.length, d.valid.indices.length, d.unlabeled.indices.length, d.test?.indices.length],
    [1000, 1000, 500, 200],
  );
  assert.deepEqual(d.meta.shape, [1, 28, 28]);
  // The first training label of Fashion-MNIST is 9 (ankle boot); the first test label too.
  assert.equal(d.train.source.labels![0], 9);
  assert.equal(d.test!.source.labels![0], 9);
});
