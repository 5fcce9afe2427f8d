// D_u from any source (dataset.unlabeled): the paper's rule, a held-out part of the training set, or
// a folder of images of any size. D_u never overlaps D_tr, D_val or the test split when they come
// from the same source, and splits.json records where it came from.
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  checkSplits,
  DataConfigError,
  type DataSpec,
  DatasetNotFoundError,
  loadData,
  openStream,
  SplitIndices,
} from '../../src/data/index.js';
import * as t from '../../src/torch/index.js';
import { randomImages, tempDir, writeCifar10, writeClassFolders, writeIdxSet, writeImage } from './helpers.js';

const tmp = tempDir('unlabeled');
after(tmp.cleanup);
const cifarDir = join(tmp.dir, 'c10');
writeCifar10(cifarDir, 16, 5); // 80 train, 16 test, no CIFAR-100
/** 30 JPEGs of 48x40 pixels (another size than any dataset here), half in a subfolder. */
const jpegs = join(tmp.dir, 'jpegs');
mkdirSync(join(jpegs, 'deeper'), { recursive: true });
for (let i = 0; i < 30; i++) writeImage(join(i % 2 ? join(jpegs, 'deeper') : jpegs, `u${i}.jpg`), 48, 40, [200, 40, 90], 'jpeg');

const search = (spec: DataSpec, seed = 0) => loadData(spec, { seed, purpose: 'search' });
const disjoint = (a: readonly number[], b: readonly number[]) => a.every((i) => !new Set(b).has(i));

test("CIFAR-10 alone: the paper's D_u needs CIFAR-100; heldout carves D_u from CIFAR-10, disjoint from every labelled split", async () => {
  await assert.rejects(
    search({ name: 'cifar10', dir: cifarDir }),
    (e: unknown) => e instanceof DatasetNotFoundError && /CIFAR-100/.test(e.message),
  );
  for (const seed of [0, 1, 2]) {
    const d = await search({ name: 'cifar10', dir: cifarDir, unlabeled: 'heldout', testFromTrain: 8 }, seed);
    const s = d.splits;
    assert.deepEqual([s.train.length, s.valid.length, s.unlabeled.length, s.test?.length], [24, 24, 24, 8]);
    assert.equal(d.unlabeled.source.n, 80, 'D_u indexes the CIFAR-10 training set');
    assert.ok(disjoint(s.unlabeled, [...s.train, ...s.valid, ...s.test!]), `seed ${seed}: D_u overlaps a labelled split`);
    assert.equal(s.testFrom, 'train');
    assert.deepEqual(s.unlabeledSource, {
      rule: 'heldout',
      from: 'train',
      origin: d.train.source.origin,
      images: 80,
      excluded: 0,
    });
  }
});

test('a folder of JPEGs of another size as D_u of CIFAR-10: all its images, resized to 32x32, no labels', async () => {
  const d = await search({ name: 'cifar10', dir: cifarDir, unlabeled: { dir: jpegs } });
  assert.deepEqual([d.splits.train.length, d.splits.valid.length, d.splits.unlabeled.length], [40, 40, 30]);
  assert.deepEqual(d.splits.unlabeledSource, { rule: 'folder', from: 'folder', origin: jpegs, images: 30, excluded: 0 });
  const s = openStream(d, 'unlabeled', { batchSize: 5, seed: 0, augment: false });
  const b = await s.next();
  assert.deepEqual(b.x.shape, [5, 3, 32, 32]);
  assert.equal(b.y, null);
  // a solid (200, 40, 90) JPEG stays within JPEG error of its colour, normalised with CIFAR-10's numbers
  const red = (200 / 255 - 0.49139968) / 0.24703233;
  assert.ok(Math.abs(b.x.toArray()[0]! - red) < 0.05);
  t.disposeAll(b);
  s.close();
});

test('a greyscale dataset takes a colour D_u folder as luma (ITU-R 601)', async () => {
  const dir = join(tmp.dir, 'mnist');
  mkdirSync(dir);
  for (const [prefix, n] of [
    ['train', 30],
    ['t10k', 6],
  ] as const) {
    const r = randomImages(n, 10, 3, 784);
    writeIdxSet(dir, prefix, r.images, r.labels, 28, 28, false);
  }
  const pngs = join(tmp.dir, 'colour');
  mkdirSync(pngs);
  for (let i = 0; i < 4; i++) writeImage(join(pngs, `${i}.png`), 20, 20, [100, 200, 50], 'png');
  const d = await search({ name: 'mnist', dir, unlabeled: { dir: pngs } });
  const s = openStream(d, 'unlabeled', { batchSize: 4, seed: 0, augment: false });
  const b = await s.next();
  assert.deepEqual(b.x.shape, [4, 1, 28, 28]);
  const luma = Math.round((299 * 100 + 587 * 200 + 114 * 50) / 1000); // 153
  const want = (luma / 255 - 0.1307) / 0.3081;
  assert.ok(b.x.toArray().every((v) => Math.abs(v - want) < 1e-5));
  t.disposeAll(b);
  s.close();
});

test("a D_u folder that holds the dataset's own folders leaves every labelled image out of D_u", async () => {
  const root = join(tmp.dir, 'own');
  writeClassFolders(join(root, 'train'), 3, 8, 16, 16);
  writeClassFolders(join(root, 'test'), 3, 2, 16, 16);
  writeClassFolders(join(root, 'extra'), 2, 5, 24, 24, 3, 9);
  const d = await search({ name: 'folder', dir: root, unlabeled: { dir: root } });
  assert.deepEqual(d.splits.unlabeledSource, { rule: 'folder', from: 'folder', origin: root, images: 10, excluded: 30 });
  const files = (src: typeof d.train.source) => (src.kind === 'folder' ? src.files.map((f) => realpathSync(f)) : []);
  const labelled = new Set([...files(d.train.source), ...files(d.test!.source)]);
  assert.ok(files(d.unlabeled.source).every((f) => !labelled.has(f) && f.includes('/extra/')));
  // D_u = the training folder itself: nothing is left, and the error says so
  await assert.rejects(
    search({ name: 'folder', dir: root, unlabeled: { dir: join(root, 'train') } }),
    /all 24 images are labelled images/,
  );
});

test('ImageNet keeps its per-class fractions for D_tr and D_val and samples D_u from a folder', async () => {
  const root = join(tmp.dir, 'imagenet');
  writeClassFolders(join(root, 'train'), 2, 20, 12, 12);
  const d = await search({ name: 'imagenet', dir: root, imageSize: 16, unlabeled: { dir: jpegs }, unlabeledSize: 0.5 });
  assert.deepEqual([d.splits.train.length, d.splits.valid.length, d.splits.unlabeled.length], [4, 2, 15]);
  assert.equal(d.unlabeled.source.origin, jpegs);
  const heldout = await search({ name: 'imagenet', dir: root, imageSize: 16, unlabeled: 'heldout' });
  const s = heldout.splits;
  assert.deepEqual([s.train.length, s.valid.length, s.unlabeled.length], [4, 2, 4]);
  assert.ok(disjoint(s.unlabeled, [...s.train, ...s.valid]));
});

test('splits.json: old files load; a changed rule or a changed D_u folder is refused on resume; tampered overlap is refused', async () => {
  const d = await search({ name: 'cifar10', dir: cifarDir, unlabeled: { dir: jpegs }, unlabeledSize: 10 });
  const saved = JSON.parse(JSON.stringify(d.splits));
  const resumed = await loadData(
    { name: 'cifar10', dir: cifarDir, unlabeled: { dir: jpegs } },
    { seed: 0, purpose: 'search', saved },
  );
  assert.deepEqual(resumed.splits.unlabeled, d.splits.unlabeled);
  // written before dataset.unlabeled existed: no unlabeledSource, no normalization
  const { unlabeledSource: _u, ...old } = saved;
  assert.doesNotThrow(() => SplitIndices.parse(old));
  await assert.rejects(
    loadData({ name: 'cifar10', dir: cifarDir, unlabeled: 'heldout' }, { seed: 0, purpose: 'search', saved }),
    (e: unknown) => e instanceof DataConfigError && /took D_u by the folder rule, the config says heldout/.test(e.message),
  );
  const changed = { ...saved, unlabeledSource: { ...saved.unlabeledSource, images: 31 } };
  await assert.rejects(
    loadData({ name: 'cifar10', dir: cifarDir, unlabeled: { dir: jpegs } }, { seed: 0, purpose: 'search', saved: changed }),
    /held 31 images when the run started and holds 30 now/,
  );
  const h = (await search({ name: 'cifar10', dir: cifarDir, unlabeled: 'heldout' })).splits;
  assert.throws(
    () =>
      checkSplits(
        { ...h, unlabeled: [...h.unlabeled.slice(1), h.train[0]!].sort((a, b) => a - b) },
        { train: 80, unlabeled: 80, test: 16 },
      ),
    /splits\.unlabeled: index \d+ is also labelled/,
  );
});
