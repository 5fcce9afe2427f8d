// Datasets of one's own (`folder`): class folders of any image size, the CIFAR or ImageNet style by
// size, mean and std from the training images, and one clear error per malformed folder.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  CIFAR_LAYOUT,
  channelStats,
  DatasetFormatError,
  DecodePool,
  type DatasetMeta,
  loadCifar,
  loadFolderDataset,
  makeTransform,
  openStream,
  probeImage,
  resizeImage,
  Rng,
  splitData,
} from '../../src/data/index.js';
import * as t from '../../src/torch/index.js';
import { tempDir, writeCifar10, writeClassFolders, writeImage, writePixels } from './helpers.js';

const tmp = tempDir('own');
after(tmp.cleanup);
let n = 0;
const fresh = () => {
  const d = join(tmp.dir, `d${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
};

describe('resizeImage (PIL bilinear, antialiased when shrinking)', () => {
  test('hand-derived taps: 4 → 2 weighs 3/7, 3/7, 1/7; 2 → 4 is plain bilinear; the same size is the same pixels', () => {
    // out 0: centre 1, support 2, inputs 0..2 with triangle weights 0.75, 0.75, 0.25 → (0·3 + 70·3 + 140)/7 = 50
    // out 1: centre 3, inputs 1..3 with weights 0.25, 0.75, 0.75 → (70 + 140·3 + 210·3)/7 = 160
    assert.deepEqual(Array.from(resizeImage(Uint8Array.from([0, 70, 140, 210]), 4, 1, 1, 2, 1)), [50, 160]);
    // out i of 4 from 2: centre (i + 0.5)/2; i = 1 → 0.75·a + 0.25·b, i = 0 → a (edge)
    assert.deepEqual(Array.from(resizeImage(Uint8Array.from([0, 200]), 2, 1, 1, 4, 1)), [0, 50, 150, 200]);
    const rgb = Uint8Array.from({ length: 2 * 3 * 3 }, (_, i) => i * 7);
    assert.equal(resizeImage(rgb, 3, 2, 3, 3, 2), rgb);
    // channels are resampled independently, rows like columns
    const col = resizeImage(Uint8Array.from([0, 10, 70, 80, 140, 150, 210, 220]), 1, 4, 2, 1, 2);
    assert.deepEqual(Array.from(col), [50, 60, 160, 170]);
  });
});

describe('folder datasets', () => {
  test('32x32 PNG folders: the images’ own size, cifar style, classes by folder, a tenth held out as test', () => {
    const dir = fresh();
    writeClassFolders(dir, 3, 10, 32, 32);
    const ds = loadFolderDataset(dir);
    assert.deepEqual(
      [ds.meta.name, ds.meta.shape, ds.meta.style, ds.meta.classNames],
      ['folder', [3, 32, 32], 'cifar', ['c0', 'c1', 'c2']],
    );
    assert.equal(ds.statsToCompute, true);
    const data = splitData(ds, null, {}, { seed: 0, purpose: 'train' });
    assert.equal(data.splits.testFrom, 'train');
    assert.deepEqual([data.train.indices.length, data.valid.indices.length, data.test?.indices.length], [13, 14, 3]);
    // 48x40 → input 40x48 (H x W); sizes that differ: 32 px when small, 224 (imagenet style) when large
    const odd = fresh();
    writeClassFolders(odd, 2, 2, 48, 40);
    assert.deepEqual(loadFolderDataset(odd).meta.shape, [3, 40, 48]);
    assert.deepEqual(loadFolderDataset(odd, { style: 'imagenet' }).meta.shape, [3, 40, 40], 'imagenet style: a square crop');
    writeImage(join(odd, 'c0', 'big.png'), 300, 200, [1, 2, 3], 'png');
    assert.deepEqual([loadFolderDataset(odd).meta.shape, loadFolderDataset(odd).meta.style], [[3, 224, 224], 'imagenet']);
    assert.deepEqual(loadFolderDataset(odd, { style: 'cifar' }).meta.shape, [3, 32, 32]);
    // large images of one size: ImageNet style at their shorter side, at most 224
    const big = fresh();
    writeClassFolders(big, 2, 1, 120, 96);
    assert.deepEqual([loadFolderDataset(big).meta.shape, loadFolderDataset(big).meta.style], [[3, 96, 96], 'imagenet']);
    assert.deepEqual(loadFolderDataset(odd, { imageSize: 24 }).meta.style, 'cifar');
    assert.equal(loadFolderDataset(odd, { imageSize: 24, style: 'imagenet' }).meta.style, 'imagenet');
  });

  test('a train/ and test/ (or val/) layout gives the test split; greyscale folders have one channel', () => {
    const dir = fresh();
    writeClassFolders(join(dir, 'train'), 2, 6, 16, 16, 1);
    writeClassFolders(join(dir, 'val'), 2, 2, 16, 16, 1);
    const ds = loadFolderDataset(dir);
    assert.deepEqual([ds.meta.shape, ds.train.n, ds.test?.n], [[1, 16, 16], 12, 4]);
    const data = splitData(ds, null, {}, { seed: 1, purpose: 'train' });
    assert.equal(data.splits.testFrom, 'test');
    assert.equal(data.test?.indices.length, 4);
  });

  test('mean and std over the training images (less the held-out test split), saved and reused as saved', () => {
    const dir = fresh();
    for (const [c, rgb] of [
      ['a', [255, 0, 51]],
      ['b', [0, 0, 153]],
    ] as const) {
      mkdirSync(join(dir, 'train', c), { recursive: true });
      mkdirSync(join(dir, 'test', c), { recursive: true });
      for (let i = 0; i < 4; i++) writeImage(join(dir, 'train', c, `${i}.png`), 8, 8, [...rgb], 'png');
      writeImage(join(dir, 'test', c, 't.png'), 8, 8, [9, 9, 9], 'png');
    }
    const ds = loadFolderDataset(dir);
    // R: half 1, half 0 → mean 0.5, std 0.5; G: all 0 → std 1 (a constant channel is not scaled); B: 0.2 / 0.6
    const stats = channelStats(ds.train, [0, 1, 2, 3, 4, 5, 6, 7], ds.meta);
    assert.deepEqual(stats.images, 8);
    for (const [k, v] of [0.5, 0, 0.4].entries()) assert.ok(Math.abs(stats.mean[k]! - v) < 1e-6, `mean ${k}`);
    for (const [k, v] of [0.5, 1, 0.2].entries()) assert.ok(Math.abs(stats.std[k]! - v) < 1e-6, `std ${k}`);
    const data = splitData(ds, null, {}, { seed: 0, purpose: 'train' });
    assert.deepEqual(data.meta.mean, data.splits.normalization?.mean);
    assert.ok(Math.abs(data.meta.std[2]! - 0.2) < 1e-6);
    // a resumed run normalises with the numbers it saved, whatever the folder holds now
    const saved = { ...data.splits, normalization: { mean: [0.1, 0.2, 0.3], std: [1, 2, 3], images: 8 } };
    const again = splitData(ds, null, {}, { seed: 0, purpose: 'train', saved: JSON.parse(JSON.stringify(saved)) });
    assert.deepEqual(
      [again.meta.mean, again.meta.std],
      [
        [0.1, 0.2, 0.3],
        [1, 2, 3],
      ],
    );
  });

  test('CIFAR images as PNG class folders give exactly the CIFAR batches (crop pad 4, flip, cutout)', async () => {
    const dir = fresh();
    const all = writeCifar10(dir, 4, 21);
    const cifar = await loadCifar('cifar10', dir);
    const folder = join(dir, 'png');
    for (let i = 0; i < 20; i++) {
      mkdirSync(join(folder, `c${all.labels[i]}`), { recursive: true });
      writePixels(
        join(folder, `c${all.labels[i]}`, `${String(i).padStart(2, '0')}.png`),
        32,
        32,
        all.images.subarray(i * 3072, (i + 1) * 3072),
        3,
      );
    }
    const ds = loadFolderDataset(folder);
    const meta: DatasetMeta = { ...cifar.meta, name: 'folder' };
    const src = ds.train.kind === 'folder' ? ds.train : assert.fail('a folder source');
    for (const o of [{ train: true, cutout: 16 }, { train: false }]) {
      const a = makeTransform(src, meta, o);
      const b = makeTransform(cifar.train, cifar.meta, o);
      for (let i = 0; i < src.n; i++) {
        const j = Number(src.files[i]!.slice(-6, -4)); // the CIFAR row the file was written from
        const [x, y] = [new Float32Array(3072), new Float32Array(3072)];
        a.write(i, new Rng(100 + i), x, 0);
        b.write(j, new Rng(100 + i), y, 0);
        assert.deepEqual(x, y, `image ${i} (row ${j}), train ${o.train}`);
      }
    }
    assert.deepEqual(CIFAR_LAYOUT.cifar10.mean, cifar.meta.mean);
  });

  test('a decode pool gives the same cifar-style batches as the main thread', async () => {
    const dir = fresh();
    writeClassFolders(dir, 2, 6, 20, 12);
    const data = splitData(loadFolderDataset(dir), null, {}, { seed: 0, purpose: 'train' });
    const pool = new DecodePool(2);
    try {
      const grab = async (withPool: boolean) => {
        const s = openStream(data, 'train', { batchSize: 4, seed: 3, pool: withPool ? pool : null });
        const b = await s.next();
        const x = b.x.toArray();
        t.disposeAll(b);
        return x;
      };
      assert.deepEqual(await grab(true), await grab(false));
    } finally {
      await pool.close();
    }
  });
});

describe('malformed folders: one DatasetFormatError naming the file', () => {
  const loadErr = (dir: string, re: RegExp) =>
    assert.throws(
      () => loadFolderDataset(dir),
      (e: unknown) => e instanceof DatasetFormatError && re.test(e.message),
    );

  test('an empty class folder', () => {
    const dir = fresh();
    writeClassFolders(dir, 2, 2, 8, 8);
    mkdirSync(join(dir, 'c2'));
    loadErr(dir, /c2: class folder holds no \.jpg\/\.jpeg\/\.png images/);
  });

  test('an unreadable image: not an image, a truncated header, a FIFO', () => {
    const dir = fresh();
    writeClassFolders(dir, 2, 2, 8, 8);
    writeFileSync(join(dir, 'c1', 'notes.png'), 'hello');
    loadErr(dir, /c1\/notes\.png: not a JPEG or PNG image/);
    writeFileSync(join(dir, 'c1', 'notes.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]));
    loadErr(dir, /c1\/notes\.png: PNG without an IHDR header/);
    writeFileSync(join(dir, 'c1', 'notes.png'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0]));
    loadErr(dir, /c1\/notes\.png: truncated JPEG: no frame header/);
    writeFileSync(join(dir, 'c1', 'notes.png'), '');
    execFileSync('rm', [join(dir, 'c1', 'notes.png')]);
    execFileSync('mkfifo', [join(dir, 'c1', 'pipe.jpg')]);
    loadErr(dir, /c1\/pipe\.jpg: not a regular file/);
    assert.throws(() => probeImage(join(dir, 'c1', 'pipe.jpg')), /pipe\.jpg: not a regular file/);
  });

  test('mixed channels: a greyscale image among colour ones, and a test folder of another kind', () => {
    const dir = fresh();
    writeClassFolders(join(dir, 'train'), 2, 3, 8, 8);
    writePixels(join(dir, 'train', 'c1', 'grey.png'), 8, 8, new Uint8Array(64), 1);
    loadErr(dir, /c1\/grey\.png: greyscale image in a folder of colour images \(.*c0\/img000\.png\)/);
    execFileSync('rm', [join(dir, 'train', 'c1', 'grey.png')]);
    writeClassFolders(join(dir, 'test'), 2, 1, 8, 8, 1);
    loadErr(dir, /test\/c0\/img000\.png: 1-channel test images, the training images have 3/);
  });
});

test('the header probe reads size and channels of PNG and JPEG without decoding', () => {
  const dir = fresh();
  writeImage(join(dir, 'a.jpg'), 48, 40, [1, 2, 3], 'jpeg');
  writePixels(join(dir, 'b.png'), 5, 7, new Uint8Array(35), 1);
  assert.deepEqual(probeImage(join(dir, 'a.jpg')), { width: 48, height: 40, channels: 3 });
  assert.deepEqual(probeImage(join(dir, 'b.png')), { width: 5, height: 7, channels: 1 });
  // a 10 KB APP1 segment (EXIF) before the frame header: the probe reads on
  const jpg = readFileSync(join(dir, 'a.jpg'));
  const app1 = Buffer.alloc(4 + 10000);
  app1.set([0xff, 0xe1, (10002 >> 8) & 0xff, 10002 & 0xff]);
  writeFileSync(join(dir, 'exif.jpg'), Buffer.concat([jpg.subarray(0, 2), app1, jpg.subarray(2)]));
  assert.deepEqual(probeImage(join(dir, 'exif.jpg')), { width: 48, height: 40, channels: 3 });
});
