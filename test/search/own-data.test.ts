// Bring your own data, end to end at smoke scale through `lbt search`: CIFAR-10 alone with D_u held
// out of its training set, and a folder of 32x32 PNGs in class folders with an unlabeled folder of
// JPEGs of another size as D_u (search, then the retrain of the found cell). The stems follow the
// data's style unless supernet.stem names one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadSearchConfig } from '../../src/config/load.js';
import { SearchConfig } from '../../src/config/schema.js';
import type { DatasetMeta } from '../../src/data/source.js';
import { GENOTYPES } from '../../src/nas/genotype.js';
import { NetworkCIFAR, NetworkImageNet } from '../../src/nas/eval-network.js';
import { buildEvalNetwork } from '../../src/retrain/network.js';
import { loadCheckpoint } from '../../src/runs/checkpoint.js';
import { readSplits } from '../../src/runs/run-dir.js';
import { loadSearchData } from '../../src/search/lifecycle.js';
import { buildSupernet } from '../../src/search/models.js';
import * as t from '../../src/torch/index.js';
import { tempDir, writeCifar10, writeClassFolders, writeImage } from '../data/helpers.js';

const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
const env = { ...process.env, LBT_NUM_THREADS: '1' };
const tmp = tempDir('own-data');
after(tmp.cleanup);
const json = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;
const search = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, 'search', '--scale', 'smoke', '--quiet', '--no-report', ...args], { env, encoding: 'utf8' });

function tensorNames(file: string): string[] {
  const ck = loadCheckpoint(file);
  const names = [...ck.tensors.keys()];
  t.disposeAll(ck.tensors);
  for (const s of Object.values(ck.optimizers)) t.disposeAll(s.tensors);
  return names;
}

test('CIFAR-10 alone: the LBT(RN18, DARTS-2nd) preset at smoke scale runs with dataset.unlabeled=heldout', () => {
  const data = join(tmp.dir, 'cifar10');
  writeCifar10(data, 16, 3);
  const out = join(tmp.dir, 'runs', 'c10');
  const args = ['--preset', 'lbt-rn18-darts2nd-cifar10', '--set', `dataset.dir=${data}`, '--out', out];
  const paper = search(...args);
  assert.equal(paper.status, 2);
  assert.match(paper.stderr, /CIFAR-100 .*not found/);
  const r = search(...args, '--set', 'dataset.unlabeled=heldout', '--force');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(json<{ status: string }>(join(out, 'run.json')).status, 'completed');
  assert.equal(json<{ status: string }>(join(out, 'retrain', 'run.json')).status, 'completed');
  const s = readSplits(out);
  assert.equal(s.unlabeledSource?.rule, 'heldout');
  const labelled = new Set([...s.train, ...s.valid]);
  assert.ok(s.unlabeled.length === 16 && s.unlabeled.every((i) => !labelled.has(i)), 'D_u is disjoint from D_tr and D_val');
});

test('32x32 PNG class folders with a folder of 48x40 JPEGs as D_u: search and retrain at smoke scale, CIFAR stems', async () => {
  const pngs = join(tmp.dir, 'pngs');
  writeClassFolders(pngs, 4, 50, 32, 32); // 200 images: 20 held out as the test split
  const jpegs = join(tmp.dir, 'jpegs', 'any', 'depth');
  mkdirSync(jpegs, { recursive: true });
  for (let i = 0; i < 24; i++) writeImage(join(jpegs, `${i}.jpg`), 48, 40, [(9 * i) % 256, 120, 40], 'jpeg');
  const out = join(tmp.dir, 'runs', 'pngs');
  const sets = ['dataset.name=folder', `dataset.dir=${pngs}`, `dataset.unlabeled.dir=${join(tmp.dir, 'jpegs')}`];
  const r = search(...sets.flatMap((s) => ['--set', s]), '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(json<{ status: string }>(join(out, 'retrain', 'run.json')).status, 'completed');
  const s = readSplits(out);
  assert.deepEqual(s.unlabeledSource, {
    rule: 'folder',
    from: 'folder',
    origin: join(tmp.dir, 'jpegs'),
    images: 24,
    excluded: 0,
  });
  assert.deepEqual([s.testFrom, s.test?.length, s.normalization?.images], ['train', 16, 180]);
  // the retrain normalises with the search's numbers, and a resumed run reads them from splits.json
  assert.deepEqual(readSplits(join(out, 'retrain')).normalization, s.normalization);
  const cfg = json<SearchConfig>(join(out, 'config.json'));
  const again = await loadSearchData(SearchConfig.parse(cfg), s);
  assert.deepEqual([again.meta.mean, again.meta.std, again.meta.style], [s.normalization?.mean, s.normalization?.std, 'cifar']);
  const names = tensorNames(join(out, 'checkpoint.safetensors'));
  assert.ok(names.some((n) => /teacher\/stem\.0\.weight$/.test(n)) && !names.some((n) => n.includes('stem0')), 'the CIFAR stem');
});

test('the stems follow the data: ImageNet-style data get the strided stems, supernet.stem overrides', () => {
  const meta = (style: 'cifar' | 'imagenet'): DatasetMeta => ({
    name: 'folder',
    numClasses: 3,
    classNames: ['a', 'b', 'c'],
    shape: [3, 96, 96],
    mean: [0.5, 0.5, 0.5],
    std: [0.2, 0.2, 0.2],
    style,
  });
  const before = t.liveTensors();
  for (const method of ['darts', 'pc-darts', 'p-darts'] as const)
    for (const [stem, style, want] of [
      ['auto', 'imagenet', 'imagenet'],
      ['auto', 'cifar', 'cifar'],
      ['cifar', 'imagenet', 'cifar'],
    ] as const) {
      const cfg = loadSearchConfig({
        sets: [`method=${method}`, `supernet.stem=${stem}`, 'supernet.channels=4', 'supernet.layers=3'],
      });
      const net = buildSupernet(cfg, { classes: 3, channels: 3, style });
      assert.equal(net.config.stem, want, `${method}, stem ${stem}, ${style} data`);
      net.dispose();
    }
  const cell = { layers: 3, channels: 8, auxiliary: false };
  const big = buildEvalNetwork(cell, GENOTYPES.DARTS_V2!, meta('imagenet'));
  const small = buildEvalNetwork(cell, GENOTYPES.DARTS_V2!, meta('cifar'));
  assert.ok(big instanceof NetworkImageNet && small instanceof NetworkCIFAR);
  big.dispose();
  small.dispose();
  assert.equal(t.liveTensors(), before);
});
