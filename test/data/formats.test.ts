// Real file formats written small, read back exactly; every malformed input a named error.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  DatasetFormatError,
  DatasetNotFoundError,
  decodeImage,
  loadCifar,
  loadIdxDataset,
  loadImageFolders,
  parseCifar,
  parseIdx,
} from '../../src/data/index.js';
import {
  cifarRows,
  idxFile,
  randomImages,
  tarGz,
  tempDir,
  writeCifar10,
  writeCifar100,
  writeIdxSet,
  writeImage,
} from './helpers.js';

const tmp = tempDir('formats');
after(tmp.cleanup);
let k = 0;
const fresh = () => {
  const d = join(tmp.dir, `case${k++}`);
  mkdirSync(d, { recursive: true });
  return d;
};

describe('CIFAR binary', () => {
  test('CIFAR-10 rows of 3073 bytes read back exactly (planar → NHWC), train then test', async () => {
    const dir = fresh();
    const all = writeCifar10(dir, 3, 1);
    const ds = await loadCifar('cifar10', dir);
    assert.equal(ds.train.n, 15);
    assert.equal(ds.test?.n, 3);
    assert.deepEqual(Array.from(ds.train.labels!), all.labels.slice(0, 15));
    assert.deepEqual(ds.train.kind === 'array' && ds.train.images, all.images.subarray(0, 15 * 3072));
    assert.deepEqual(ds.test?.kind === 'array' && ds.test.images, all.images.subarray(15 * 3072));
    assert.deepEqual(ds.meta.mean, [0.49139968, 0.48215827, 0.44653124]);
    assert.equal(ds.meta.classNames[9], 'truck');
  });

  test('one hand-made row: label byte, then R plane, G plane, B plane', () => {
    const row = new Uint8Array(3073);
    row[0] = 7;
    row[1] = 10; // R of pixel (0,0)
    row[1 + 1024] = 20; // G of pixel (0,0)
    row[1 + 2048 + 33] = 30; // B of pixel (1,1)
    const { images, labels } = parseCifar('cifar10', 'row.bin', row);
    assert.equal(labels[0], 7);
    assert.deepEqual(Array.from(images.subarray(0, 3)), [10, 20, 0]);
    assert.equal(images[33 * 3 + 2], 30);
  });

  test('CIFAR-100 rows of 3074 bytes keep the fine label', async () => {
    const dir = fresh();
    const all = writeCifar100(dir, 4, 2, 2);
    const ds = await loadCifar('cifar100', dir);
    assert.deepEqual(Array.from(ds.train.labels!), all.labels.slice(0, 4));
    assert.deepEqual(ds.test?.kind === 'array' && ds.test.images, all.images.subarray(4 * 3072));
    assert.equal(ds.meta.numClasses, 100);
  });

  test('straight from the distribution .tar.gz', async () => {
    const dir = fresh();
    const all = writeCifar10(dir, 2, 3);
    await tarGz(dir, join(dir, 'cifar-10-binary.tar.gz'), ['cifar-10-batches-bin']);
    const only = fresh();
    await tarGz(dir, join(only, 'cifar-10-binary.tar.gz'), ['cifar-10-batches-bin']);
    const ds = await loadCifar('cifar10', only);
    assert.match(ds.train.origin, /cifar-10-binary\.tar\.gz/);
    assert.deepEqual(ds.train.kind === 'array' && ds.train.images, all.images.subarray(0, 10 * 3072));
    assert.deepEqual(Array.from(ds.test!.labels!), all.labels.slice(10));
  });

  test('truncated file: DatasetFormatError naming the file and the row size', async () => {
    const dir = fresh();
    writeCifar10(dir, 2, 4);
    const f = join(dir, 'cifar-10-batches-bin', 'data_batch_3.bin');
    writeFileSync(f, new Uint8Array(2 * 3073 - 5));
    await assert.rejects(loadCifar('cifar10', dir), (e: unknown) => {
      assert.ok(e instanceof DatasetFormatError);
      assert.equal(e.file, f);
      assert.match(e.message, /6141 bytes is not a positive multiple of the 3073-byte CIFAR-10 row/);
      return true;
    });
  });

  test('a CIFAR-100 file read as CIFAR-10 (wrong row size) is rejected', () => {
    const { images, labels } = randomImages(3, 10, 5);
    const rows = cifarRows(images, labels, [0, 0, 0]);
    assert.throws(() => parseCifar('cifar10', 'x.bin', rows), /9222 bytes is not a positive multiple of the 3073-byte/);
  });

  test('label out of range names the row', () => {
    const { images } = randomImages(2, 10, 6);
    assert.throws(
      () => parseCifar('cifar10', 'x.bin', cifarRows(images, [3, 10])),
      /x\.bin: row 1 \(byte 3073\): label 10 outside \[0, 10\)/,
    );
    assert.throws(() => parseCifar('cifar100', 'y.bin', cifarRows(images, [3, 5], [20, 0])), /coarse label 20 outside \[0, 20\)/);
  });

  test('missing directory, missing file, corrupt archive', async () => {
    await assert.rejects(loadCifar('cifar10', join(tmp.dir, 'nowhere')), (e: unknown) => {
      assert.ok(e instanceof DatasetNotFoundError);
      assert.match(e.message, /cifar-10-binary\.tar\.gz/);
      assert.match(e.message, /LBT_DATA/);
      return true;
    });
    const empty = fresh();
    await assert.rejects(loadCifar('cifar100', empty), /CIFAR-100 \(train\.bin or cifar-100-binary\.tar\.gz\) not found/);
    const partial = fresh();
    writeCifar10(partial, 1, 7);
    const { rmSync } = await import('node:fs');
    rmSync(join(partial, 'cifar-10-batches-bin', 'test_batch.bin'));
    await assert.rejects(loadCifar('cifar10', partial), /file test_batch\.bin not found/);
    const bad = fresh();
    writeFileSync(join(bad, 'cifar-10-binary.tar.gz'), gzipSync(Buffer.from('not a tar archive at all')));
    await assert.rejects(loadCifar('cifar10', bad), DatasetFormatError);
  });
});

describe('IDX (Fashion-MNIST / MNIST)', () => {
  for (const gz of [true, false]) {
    test(`${gz ? 'gzipped' : 'raw'} files read back exactly`, () => {
      const dir = fresh();
      const tr = randomImages(5, 10, 8, 28 * 28);
      const te = randomImages(2, 10, 9, 28 * 28);
      writeIdxSet(dir, 'train', tr.images, tr.labels, 28, 28, gz);
      writeIdxSet(dir, 't10k', te.images, te.labels, 28, 28, gz);
      const ds = loadIdxDataset('fashion-mnist', dir);
      assert.equal(ds.train.n, 5);
      assert.deepEqual(ds.train.kind === 'array' && ds.train.images, tr.images);
      assert.deepEqual(Array.from(ds.test!.labels!), te.labels);
      assert.deepEqual(ds.meta.shape, [1, 28, 28]);
      assert.deepEqual([ds.meta.mean, ds.meta.std], [[0.286], [0.353]]);
    });
  }

  test('wrong magic, wrong dimensions, short header, corrupt gzip', () => {
    const data = new Uint8Array(2 * 2 * 3);
    assert.throws(() => parseIdx('a', idxFile([3, 2, 2], data, 0x0801), 3), /a: IDX magic 0x00000801, expected 0x00000803/);
    assert.throws(
      () => parseIdx('b', idxFile([4, 2, 2], data), 3),
      /b: dimensions \[4,2,2\] need 16 data bytes, the file has 12/,
    );
    assert.throws(() => parseIdx('c', new Uint8Array([0, 0, 8, 3, 0]), 3), /too short for a rank-3 IDX header/);
    assert.throws(() => parseIdx('d.gz', Uint8Array.from([0x1f, 0x8b, 1, 2, 3]), 1), /d\.gz: gzip data is corrupt/);
  });

  test('label out of range, label/image count mismatch, missing files: nothing half-loaded', () => {
    const dir = fresh();
    const tr = randomImages(3, 10, 10, 16);
    writeIdxSet(dir, 'train', tr.images, [1, 2, 12], 4, 4, false);
    writeIdxSet(dir, 't10k', tr.images, [1, 2, 3], 4, 4, false);
    assert.throws(() => loadIdxDataset('mnist', dir), /train-labels-idx1-ubyte: label 2 \(byte 10\) is 12, outside \[0, 10\)/);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxFile([2], Uint8Array.from([1, 2])));
    assert.throws(() => loadIdxDataset('mnist', dir), /2 labels for the 3 images/);
    const empty = fresh();
    assert.throws(
      () => loadIdxDataset('fashion-mnist', empty),
      (e: unknown) => {
        assert.ok(e instanceof DatasetNotFoundError);
        assert.match(e.message, /train-images-idx3-ubyte\[\.gz\]/);
        assert.match(e.message, /apt-get install dataset-fashion-mnist/);
        return true;
      },
    );
  });
});

describe('image folders', () => {
  test('class folders of PNG and JPEG: classes sorted, labels by folder, pixels decoded', () => {
    const dir = fresh();
    for (const c of ['b_dog', 'a_cat']) mkdirSync(join(dir, 'train', c), { recursive: true });
    mkdirSync(join(dir, 'val', 'a_cat'), { recursive: true });
    writeImage(join(dir, 'train', 'a_cat', '1.png'), 5, 3, [10, 200, 30], 'png');
    writeImage(join(dir, 'train', 'a_cat', '2.jpg'), 16, 16, [120, 60, 240], 'jpeg');
    writeImage(join(dir, 'train', 'b_dog', '1.PNG'), 4, 4, [1, 2, 3], 'png');
    writeFileSync(join(dir, 'train', 'b_dog', 'notes.txt'), 'ignored');
    writeImage(join(dir, 'val', 'a_cat', 'v.png'), 4, 4, [9, 9, 9], 'png');
    const ds = loadImageFolders(dir, 32);
    assert.deepEqual(ds.meta.classNames, ['a_cat', 'b_dog']);
    assert.deepEqual(ds.meta.shape, [3, 32, 32]);
    assert.equal(ds.train.kind, 'folder');
    assert.deepEqual(Array.from(ds.train.labels!), [0, 0, 1]);
    assert.equal(ds.test?.n, 1);
    const png = decodeImage(join(dir, 'train', 'a_cat', '1.png'));
    assert.deepEqual([png.width, png.height, png.rgb.length], [5, 3, 45]);
    assert.deepEqual(Array.from(png.rgb.subarray(42)), [10, 200, 30]);
    const jpg = decodeImage(join(dir, 'train', 'a_cat', '2.jpg'));
    assert.deepEqual([jpg.width, jpg.height], [16, 16]);
    for (const [i, v] of [120, 60, 240].entries())
      assert.ok(Math.abs(jpg.rgb[3 * 100 + i]! - v) <= 3, `channel ${i}: ${jpg.rgb[300 + i]}`);
  });

  test('unreadable image, empty class, no classes, missing directory', () => {
    const dir = fresh();
    mkdirSync(join(dir, 'x'));
    writeFileSync(join(dir, 'x', 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0x00, 1, 2, 3]));
    writeFileSync(join(dir, 'x', 'text.png'), 'hello');
    assert.throws(() => decodeImage(join(dir, 'x', 'broken.jpg')), /broken\.jpg: cannot decode the JPEG image/);
    assert.throws(() => decodeImage(join(dir, 'x', 'text.png')), /text\.png: not a JPEG or PNG image/);
    assert.throws(
      () => decodeImage(join(dir, 'x', 'gone.png')),
      /gone\.png: cannot read the image file: no such file or directory \(ENOENT\)/,
    );
    mkdirSync(join(dir, 'y'));
    assert.throws(() => loadImageFolders(dir), /y: class folder holds no \.jpg\/\.jpeg\/\.png images/);
    assert.throws(() => loadImageFolders(fresh()), /no class subfolders/);
    assert.throws(() => loadImageFolders(join(tmp.dir, 'absent')), DatasetNotFoundError);
  });
});
