// Splits: deterministic, disjoint, sized as asked, saved and restored, checked when loaded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkSplits,
  DataConfigError,
  makeClassSplits,
  makeSplits,
  SplitIndices,
  splitData,
  syntheticDataset,
} from '../../src/data/index.js';

const sizes = { train: 40, valid: 40, unlabeled: 30, test: 10 };
const cifarLike = (seed: number) =>
  makeSplits('cifar10', seed, sizes, { train: 100, other: { name: 'cifar100', n: 50 }, test: 20 });

test('same seed, same splits; another seed, other splits', () => {
  assert.deepEqual(cifarLike(3), cifarLike(3));
  assert.notDeepEqual(cifarLike(3).train, cifarLike(4).train);
});

test('train and valid are disjoint parts of one permutation, sorted, of the requested sizes', () => {
  const s = cifarLike(1);
  assert.deepEqual([s.train.length, s.valid.length, s.unlabeled.length, s.test?.length], [40, 40, 30, 10]);
  assert.equal(new Set([...s.train, ...s.valid]).size, 80);
  for (const part of [s.train, s.valid, s.unlabeled])
    assert.deepEqual(
      part,
      [...part].sort((a, b) => a - b),
    );
  assert.ok(s.unlabeled.every((i) => i < 50));
  assert.equal(s.unlabeledFrom, 'cifar100');
  // Paper default: 50K → 25K + 25K covers the whole training set.
  const full = makeSplits(
    'cifar10',
    0,
    { train: 5, valid: 5, unlabeled: 0, test: 0 },
    { train: 10, other: { name: 'c', n: 3 }, test: 4 },
  );
  assert.deepEqual(
    [...full.train, ...full.valid].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
});

test('same-dataset D_u (Fashion-MNIST): train, valid and unlabeled pairwise disjoint', () => {
  const s = makeSplits(
    'fashion-mnist',
    9,
    { train: 30, valid: 30, unlabeled: 30, test: 5 },
    { train: 100, other: null, test: 10 },
  );
  assert.equal(new Set([...s.train, ...s.valid, ...s.unlabeled]).size, 90);
  assert.equal(s.unlabeledFrom, 'train');
});

test('too large a split is a DataConfigError naming the field', () => {
  assert.throws(
    () =>
      makeSplits('fashion-mnist', 0, { train: 50, valid: 50, unlabeled: 1, test: 0 }, { train: 100, other: null, test: null }),
    (e: unknown) =>
      e instanceof DataConfigError &&
      /trainSize \+ validSize \+ unlabeledSize: 101 images requested, the fashion-mnist training set holds 100/.test(e.message),
  );
  assert.throws(
    () => makeSplits('cifar10', 0, { ...sizes, unlabeled: 51 }, { train: 100, other: { name: 'cifar100', n: 50 }, test: 20 }),
    /unlabeledSize: 51/,
  );
});

test('splits survive JSON and are checked against the data when reused', () => {
  const s = cifarLike(2);
  const back = SplitIndices.parse(JSON.parse(JSON.stringify(s)));
  assert.deepEqual(back, s);
  checkSplits(back, { train: 100, unlabeled: 50, test: 20 });
  assert.throws(
    () => checkSplits({ ...s, valid: [...s.valid, s.train[0]!] }, { train: 100, unlabeled: 50, test: 20 }),
    /splits\.valid: index \d+ is also in train/,
  );
  assert.throws(() => checkSplits(s, { train: 60, unlabeled: 50, test: 20 }), /outside a set of 60 images/);
  assert.throws(() => checkSplits({ ...s, unlabeled: [1, 1] }, { train: 100, unlabeled: 50, test: 20 }), /index 1 appears twice/);
  assert.throws(() => SplitIndices.parse({ ...s, format: 'other' }));
});

test('splitData with saved splits reproduces the subsets', () => {
  const ds = syntheticDataset({ n: 90, nTest: 10 });
  const a = splitData(ds, null, { trainSize: 20, valSize: 20, unlabeledSize: 20 }, { seed: 5, purpose: 'search' });
  const b = splitData(ds, null, {}, { seed: 99, purpose: 'search', saved: JSON.parse(JSON.stringify(a.splits)) });
  assert.deepEqual(b.train.indices, a.train.indices);
  assert.deepEqual(b.unlabeled.indices, a.unlabeled.indices);
  assert.equal(a.unlabeled.labelled, false);
  assert.equal(a.test?.indices.length, 10);
});

test('per-class sampling (ImageNet §4.2): round(f·count) per class, disjoint, deterministic', () => {
  const labels = Int32Array.from({ length: 300 }, (_, i) => (i < 200 ? 0 : 1)); // 200 of class 0, 100 of class 1
  const f = { train: 0.1, valid: 0.025, unlabeled: 0.1 };
  const s = makeClassSplits('imagenet', 1, labels, 2, f, null);
  const count = (idx: number[], c: number) => idx.filter((i) => labels[i] === c).length;
  assert.deepEqual([count(s.train, 0), count(s.valid, 0), count(s.unlabeled, 0)], [20, 5, 20]);
  assert.deepEqual([count(s.train, 1), count(s.valid, 1), count(s.unlabeled, 1)], [10, 3, 10]);
  assert.equal(new Set([...s.train, ...s.valid, ...s.unlabeled]).size, 68);
  assert.deepEqual(makeClassSplits('imagenet', 1, labels, 2, f, null), s);
  assert.throws(() => makeClassSplits('imagenet', 1, labels, 2, { train: 0.6, valid: 0.3, unlabeled: 0.2 }, null), /> 1/);
});

test('a held-out test split (§4.4): carved from train, one sample for every seed, outside every training split', () => {
  const held = (seed: number, other = true) =>
    makeSplits(
      'cifar10',
      seed,
      other ? { train: 40, valid: 40, unlabeled: 30, test: 15 } : { train: 30, valid: 30, unlabeled: 25, test: 15 },
      { train: 100, other: other ? { name: 'cifar100', n: 50 } : null, test: 20, heldOut: 15 },
    );
  const a = held(1);
  const b = held(2);
  assert.equal(a.testFrom, 'train');
  assert.equal(a.test?.length, 15);
  assert.deepEqual(a.test, b.test, 'the held-out images do not depend on the run seed');
  assert.notDeepEqual(a.train, b.train);
  for (const s of [a, b, held(3, false)]) {
    const used = new Set([...s.train, ...s.valid, ...(s.unlabeledFrom === 'train' ? s.unlabeled : [])]);
    assert.ok(s.test!.every((i) => i < 100 && !used.has(i)));
  }
  // a smaller test split is a subset of the held-out images
  const small = makeSplits(
    'cifar10',
    1,
    { train: 40, valid: 40, unlabeled: 30, test: 5 },
    { train: 100, other: { name: 'cifar100', n: 50 }, test: 20, heldOut: 15 },
  );
  assert.ok(small.test!.every((i) => a.test!.includes(i)));
  // the held-out images leave less to split, and the error says so
  assert.throws(
    () => makeSplits('cifar10', 0, { ...sizes, train: 50 }, { train: 100, other: { name: 'c', n: 50 }, test: 20, heldOut: 15 }),
    /trainSize \+ validSize: 90 images requested, the cifar10 training set less the 15 held out as the test split holds 85/,
  );
  assert.throws(
    () => checkSplits({ ...a, train: [...a.train, a.test![0]!].sort((x, y) => x - y) }, { train: 100, unlabeled: 50, test: 20 }),
    /splits\.test: index \d+ is held out as a test image and also in a training split/,
  );
  // old splits files (no testFrom) still read, as test-set indices
  const { testFrom: _t, ...old } = cifarLike(2);
  assert.equal(SplitIndices.parse(old).testFrom, 'test');
  // the data set's test subset indexes the training images
  const ds = syntheticDataset({ n: 60, nTest: 10, height: 4, width: 4, channels: 1, numClasses: 3, seed: 1 });
  const data = splitData(ds, null, { testFromTrain: 12 }, { seed: 0, purpose: 'search' });
  assert.equal(data.test?.source, ds.train);
  assert.deepEqual([data.splits.train.length, data.splits.valid.length, data.test?.indices.length], [16, 16, 12]);
});
