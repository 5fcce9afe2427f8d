// Image-folder batches: decoded lazily, identical on the main thread and in the worker pool.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  DatasetFormatError,
  DecodePool,
  loadImageFolders,
  openStream,
  sharedDecodePool,
  splitData,
  syntheticDataset,
} from '../../src/data/index.js';
import * as t from '../../src/torch/index.js';
import { tempDir, writeImage } from './helpers.js';

const tmp = tempDir('folders');
const pool = new DecodePool(2);
after(async () => {
  await pool.close();
  tmp.cleanup();
});
for (const [c, colour] of [
  ['a', [250, 0, 0]],
  ['b', [0, 0, 250]],
] as const) {
  mkdirSync(join(tmp.dir, 'train', c), { recursive: true });
  mkdirSync(join(tmp.dir, 'val', c), { recursive: true });
  for (let i = 0; i < 8; i++)
    writeImage(join(tmp.dir, 'train', c, `${i}.png`), 20 + i, 12 + i, [...colour], i % 2 ? 'png' : 'jpeg');
  writeImage(join(tmp.dir, 'val', c, 'v.png'), 10, 10, [...colour], 'png');
}
const sizes = { trainSize: 0.5, valSize: 0.25, unlabeledSize: 0.25 };
const data = splitData(loadImageFolders(tmp.dir, 16), null, sizes, { seed: 0, purpose: 'search' });

const collect = async (withPool: boolean, part: 'train' | 'test', n: number) => {
  const s = openStream(data, part, { batchSize: 3, seed: 4, pool: withPool ? pool : null });
  const out = [];
  for (let i = 0; i < n; i++) {
    const b = await s.next();
    out.push({ index: Array.from(b.index), x: b.x.toArray(), y: b.y?.toArray() });
    t.disposeAll(b);
  }
  s.close();
  return out;
};

test('per-class sampling of the folders, and eval batches of the val folder', async () => {
  assert.deepEqual(
    [data.train.indices.length, data.valid.indices.length, data.unlabeled.indices.length, data.test?.indices.length],
    [8, 4, 4, 2],
  );
  const [b] = await collect(false, 'test', 1);
  assert.deepEqual(b!.y, [0, 1]);
  // Solid red / blue images stay solid after resize: channel 0 of image 0 is (250/255 − 0.485)/0.229 everywhere.
  const red = (250 / 255 - 0.485) / 0.229;
  assert.ok(Math.abs(b!.x[0]! - red) < 1e-5 && Math.abs(b!.x[255]! - red) < 1e-5);
});

test('worker pool and main thread give identical batches (random resized crops, flips)', async () => {
  const before = t.liveTensors();
  assert.deepEqual(await collect(true, 'train', 5), await collect(false, 'train', 5));
  assert.equal(t.liveTensors(), before);
});

test('an unreadable image fails the batch with DatasetFormatError naming it, from a worker too', async () => {
  const src = data.train.source;
  const bad = src.kind === 'folder' ? src.files[data.train.indices[0]!]! : '';
  writeFileSync(bad, 'garbage');
  for (const p of [pool, null]) {
    const s = openStream(data, 'train', { batchSize: 16, seed: 4, pool: p, mode: 'infinite' });
    await assert.rejects(
      s.next(),
      (e: unknown) => e instanceof DatasetFormatError && e.file === bad && /not a JPEG or PNG/.test(e.message),
    );
  }
});

test("streams over image folders decode in the process's shared pool unless told otherwise; in-memory ones never", () => {
  const o = { batchSize: 3, seed: 4 };
  const shared = sharedDecodePool();
  assert.ok(shared.size >= 1);
  assert.equal(openStream(data, 'train', o).pool, shared, 'the default for a folder');
  assert.equal(openStream(data, 'test', { ...o, prefetch: false }).pool, shared, 'evaluation too');
  assert.equal(openStream(data, 'train', { ...o, pool }).pool, pool);
  assert.equal(openStream(data, 'train', { ...o, pool: null }).pool, null);
  const mem = splitData(syntheticDataset({ n: 40, seed: 1 }), null, {}, { seed: 0, purpose: 'train' });
  assert.equal(openStream(mem, 'train', o).pool, null);
  assert.equal(openStream(mem, 'train', { ...o, pool }).pool, null, 'in-memory images are not sent to workers');
});
