// Batch streams: order, epochs, resume, prefetch, tensors (layout, dtype, ownership).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Batch,
  type BatchStream,
  DataConfigError,
  hiddenLabels,
  makeTransform,
  normalisationTable,
  openStream,
  type StreamState,
  splitData,
  syntheticDataset,
} from '../../src/data/index.js';
import * as t from '../../src/torch/index.js';

const ds = syntheticDataset({ n: 60, nTest: 7, height: 8, width: 8, seed: 1 });
const data = splitData(ds, null, { trainSize: 10, valSize: 20, unlabeledSize: 20 }, { seed: 3, purpose: 'search' });

function take(s: BatchStream, k: number): { index: number[]; x: number[]; y: number[] | null; epoch: number }[] {
  const out = [];
  for (let i = 0; i < k; i++) {
    const b = s.nextSync();
    out.push({ index: Array.from(b.index), x: b.x.toArray(), y: b.y ? b.y.toArray() : null, epoch: b.epoch });
    t.disposeAll([b.x, b.y]);
  }
  return out;
}

test('epoch mode: ceil(n/B) batches, last one short, each pass a permutation of the subset', () => {
  const s = openStream(data, 'train', { batchSize: 4, seed: 1, prefetch: false });
  assert.equal(s.stepsPerEpoch, 3);
  const bs = take(s, 6);
  assert.deepEqual(
    bs.map((b) => b.index.length),
    [4, 4, 2, 4, 4, 2],
  );
  assert.deepEqual(
    bs.map((b) => b.epoch),
    [0, 0, 0, 1, 1, 1],
  );
  const sorted = Array.from(data.train.indices).sort((a, b) => a - b);
  assert.deepEqual(
    bs
      .slice(0, 3)
      .flatMap((b) => b.index)
      .sort((a, b) => a - b),
    sorted,
  );
  assert.deepEqual(
    bs
      .slice(3)
      .flatMap((b) => b.index)
      .sort((a, b) => a - b),
    sorted,
  );
  assert.notDeepEqual(bs[0]!.index, bs[3]!.index); // reshuffled
});

test('dropLast drops the short batch; infinite mode crosses passes with full batches', () => {
  const d = openStream(data, 'train', { batchSize: 4, seed: 1, dropLast: true, prefetch: false });
  assert.equal(d.stepsPerEpoch, 2);
  assert.deepEqual(
    take(d, 4).map((b) => [b.index.length, b.epoch]),
    [
      [4, 0],
      [4, 0],
      [4, 1],
      [4, 1],
    ],
  );
  const inf = openStream(data, 'valid', { batchSize: 8, seed: 1, prefetch: false });
  assert.equal(inf.mode, 'infinite');
  const bs = take(inf, 5); // 40 images = two passes over 20
  const first = bs
    .flatMap((b) => b.index)
    .slice(0, 20)
    .sort((a, b) => a - b);
  assert.deepEqual(
    first,
    Array.from(data.valid.indices).sort((a, b) => a - b),
  );
  assert.deepEqual(
    bs.map((b) => b.index.length),
    [8, 8, 8, 8, 8],
  );
});

test('state → JSON → restore gives the identical following batches (indices and pixels)', () => {
  const a = openStream(data, 'train', { batchSize: 3, seed: 7, prefetch: false });
  take(a, 5);
  const saved = JSON.parse(JSON.stringify(a.state())) as StreamState;
  assert.deepEqual([saved.epoch, saved.position], [1, 3]); // 4 batches per pass of 10
  const expected = take(a, 6);
  const b = openStream(data, 'train', { batchSize: 3, seed: 7, prefetch: false });
  b.restore(saved);
  assert.deepEqual(take(b, 6), expected);
  assert.throws(() => openStream(data, 'train', { batchSize: 3, seed: 8 }).restore(saved), DataConfigError);
  assert.throws(() => openStream(data, 'train', { batchSize: 4, seed: 7 }).restore(saved), /batchSize\/mode/);
  assert.throws(() => b.restore({ ...saved, permSeed: saved.permSeed + 1 }), /permSeed/);
});

test('prefetching in the event loop does not change what is seen', async () => {
  const plain = take(openStream(data, 'unlabeled', { batchSize: 6, seed: 2, prefetch: false }), 5);
  const s = openStream(data, 'unlabeled', { batchSize: 6, seed: 2 });
  const seen = [];
  for (let i = 0; i < 5; i++) {
    const b = await s.next();
    seen.push({ index: Array.from(b.index), x: b.x.toArray(), y: null, epoch: b.epoch });
    assert.equal(b.y, null);
    t.disposeAll([b.x]);
    await new Promise((r) => setImmediate(r)); // let the prefetch run
  }
  s.close();
  assert.deepEqual(seen, plain);
});

test('batch tensors: float32 [N,C,H,W] channels-last, int64 labels, test set unaugmented and in order', () => {
  const s = openStream(data, 'test', { batchSize: 4, seed: 0, prefetch: false });
  const b = s.nextSync();
  assert.deepEqual([b.x.shape, b.x.dtype, t.isChannelsLast(b.x)], [[4, 3, 8, 8], 'float32', true]);
  assert.deepEqual([b.y!.shape, b.y!.dtype], [[4], 'int64']);
  assert.deepEqual(Array.from(b.index), [0, 1, 2, 3]);
  assert.deepEqual(b.y!.toArray(), Array.from(ds.test!.labels!.subarray(0, 4)));
  // Element [n, c, h, w] is the normalised source pixel (h, w, c) of image n.
  const lut = normalisationTable(ds.meta.mean, ds.meta.std);
  const src = ds.test!.kind === 'array' ? ds.test!.images : new Uint8Array();
  const x = b.x.toArray(); // logical NCHW order
  for (const [n, c, h, w] of [
    [0, 0, 0, 0],
    [1, 2, 3, 5],
    [3, 1, 7, 7],
  ] as const) {
    assert.equal(x[((n * 3 + c) * 8 + h) * 8 + w], lut[c * 256 + src[((n * 8 + h) * 8 + w) * 3 + c]!]);
  }
  t.disposeAll([b.x, b.y]);
});

test('creating and disposing batches leaves liveTensors() unchanged; batches escape scopes', () => {
  const before = t.liveTensors();
  const s = openStream(data, 'train', { batchSize: 4, seed: 1, cutout: 4 });
  let b!: Batch;
  t.scope(() => {
    b = s.nextSync(); // made inside a scope that does not return it: still the caller's
    return null;
  });
  assert.equal(b.x.disposed, false);
  assert.equal(t.liveTensors(), before + 2);
  t.disposeAll([b.x, b.y]);
  for (let i = 0; i < 5; i++) t.disposeAll(s.nextSync());
  s.close();
  assert.equal(t.liveTensors(), before);
});

test('hidden labels of a same-dataset D_u are there for agreement; a transform refuses a wrong shape', () => {
  const idx = data.unlabeled.indices.subarray(0, 3);
  assert.deepEqual(
    hiddenLabels(data, idx),
    Int32Array.from(idx, (i) => ds.train.labels![i]!),
  );
  const gray = syntheticDataset({ n: 2, channels: 1 });
  assert.throws(() => makeTransform(gray.train, ds.meta, { train: true }), /holds 1x32x32 images, synthetic expects 3x8x8/);
  assert.throws(() => openStream(data, 'train', { batchSize: 0, seed: 0 }), /batchSize: 0 is not a positive integer/);
});
