// `lbt data check` on tiny real-format files, and on the installed Fashion-MNIST (read once).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FASHION_MNIST_DIR, loadData } from '../../src/data/index.js';
import { tarGz, tempDir, writeCifar10, writeCifar100 } from './helpers.js';

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
