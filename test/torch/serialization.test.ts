import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as t from '../../src/torch/index.js';

test('safetensors round trip is exact for every dtype, with metadata', () => {
  t.scope(() => {
    const src = new Map<string, t.Tensor>([
      ['a.weight', t.randn([3, 2, 2])],
      ['b', t.tensor([1.25, -3.5], [2], { dtype: 'float64' })],
      ['steps', t.tensor([7, -9007199254740991], [2], { dtype: 'int64' })],
      ['mask', t.tensor([0, 255], [2], { dtype: 'uint8' })],
      ['empty', t.zeros([0, 4])],
    ]);
    const bytes = t.encodeSafetensors(src, { format: 'lbt-test' });
    const back = t.decodeSafetensors(bytes, 'x.safetensors');
    // a Node Buffer (what readFileSync returns) decodes the same
    const fromBuffer = t.decodeSafetensors(Buffer.from(bytes), 'x.safetensors');
    assert.deepEqual(fromBuffer.tensors.get('b')!.toArray(), [1.25, -3.5]);
    assert.deepEqual(back.metadata, { format: 'lbt-test' });
    for (const [k, v] of src) {
      const w = back.tensors.get(k)!;
      assert.equal(w.dtype, v.dtype, k);
      assert.deepEqual(w.shape, v.shape, k);
      assert.deepEqual(w.toArray(), v.toArray(), k);
    }
  });
});

test('truncated or corrupt safetensors are refused with the file named, nothing left allocated', () => {
  const before = t.liveTensors();
  const bytes = t.scope(() =>
    t.encodeSafetensors(
      new Map([
        ['w', t.ones([64])],
        ['v', t.ones([64])],
      ]),
    ),
  );
  assert.throws(
    () => t.decodeSafetensors(bytes.subarray(0, 5), 'ckpt.safetensors'),
    /ckpt\.safetensors: .*shorter than the 8-byte header/,
  );
  assert.throws(() => t.decodeSafetensors(bytes.subarray(0, 40), 'ckpt.safetensors'), /ckpt\.safetensors: .*truncated/);
  assert.throws(
    () => t.decodeSafetensors(bytes.subarray(0, bytes.length - 10), 'ckpt.safetensors'),
    /ckpt\.safetensors: .*v: data_offsets \[256, 512\] do not fit/,
  );
  const bad = bytes.slice();
  bad[9] = 0x7b; // break the JSON
  bad[10] = 0x7b;
  assert.throws(() => t.decodeSafetensors(bad, 'ckpt.safetensors'), /ckpt\.safetensors: .*header is not JSON/);
  assert.equal(t.liveTensors(), before);
});
