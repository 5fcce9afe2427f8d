// Native errors become JS errors naming the problem, and the process survives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { native } from '../../src/torch/native.js';
import * as t from '../../src/torch/index.js';

test('conv2d with the wrong channel count names both shapes', () => {
  t.scope(() => {
    assert.throws(() => t.conv2d(t.zeros([1, 3, 8, 8]), t.zeros([4, 2, 3, 3])), /input has 3 channels but weight \[4,2,3,3\]/);
    // below the TypeScript checks, libtorch's own error surfaces as an Error too
    assert.throws(
      () => native.conv2d(t.zeros([1, 3, 8, 8]).h, t.zeros([4, 2, 3, 3]).h, null, [1, 1], [0, 0], [1, 1], 1),
      /conv2d: .*channels/,
    );
  });
});

test('mismatched shapes in elementwise ops and matmul', () => {
  t.scope(() => {
    assert.throws(
      () => t.add(t.zeros([2, 3]), t.zeros([4, 3])),
      /add: The size of tensor a \(2\) must match the size of tensor b \(4\)/,
    );
    assert.throws(() => t.matmul(t.zeros([2, 3]), t.zeros([2, 3])), /matmul: .*(shapes|size)/);
    assert.throws(() => t.reshape(t.zeros([6]), [4, 2]), /reshape: shape '\[4, 2\]' is invalid for input of size 6/);
    assert.throws(() => t.crossEntropy(t.zeros([2, 3]), t.tensor([0, 1, 2], [3], { dtype: 'int64' })), /target must be \[2\]/);
    assert.throws(
      () => t.crossEntropy(t.zeros([2, 3]), t.tensor([0, 5], [2], { dtype: 'int64' })),
      /crossEntropy: .*out of bounds/,
    );
  });
});

test('reading or using a disposed tensor throws instead of aborting', () => {
  const x = t.ones([3]);
  x.dispose();
  assert.throws(() => x.toArray(), /already disposed/);
  assert.throws(() => x.add(1), /already disposed/);
  assert.doesNotThrow(() => x.dispose(), 'dispose twice is a no-op');
  const y = t.ones([3]);
  const h = y.h;
  y.dispose();
  assert.throws(() => native.item(h), /item: argument 0 is a disposed tensor/);
  assert.throws(() => native.add(h, h, 1), /disposed tensor/);
});

test('bad arguments to the binding are TypeErrors, not crashes', () => {
  assert.throws(() => native.zeros([2, 1.5], 'float32', 'cpu'), /not an integer/);
  assert.throws(() => native.zeros([2], 'complex64', 'cpu'), /unknown dtype 'complex64' \(float32, /);
  assert.throws(() => native.relu({} as never), /must be a tensor handle/);
  assert.throws(() => native.cat([1] as never, 0), /element 0 is not a tensor handle/);
  assert.throws(() => native.fromBuffer(new Float32Array(3), [2, 2], 'float32'), /holds 12 bytes but shape and dtype need 16/);
  assert.throws(() => native.zeros([2], 'float32', 'tpu'), /zeros: .*device/i);
  assert.throws(() => t.tensor([1, 2, 3], [2, 2]), /3 values do not fill shape \[2,2\]/);
  assert.throws(() => t.ones([1]).item.call(t.ones([2])), /item: .*(one element|1 element|a Tensor with 2 elements)/);
});

test('backward through a non-scalar without a gradient, and grad of an unused input', () => {
  t.scope(() => {
    const x = t.ones([3]).requiresGrad_();
    assert.throws(() => x.mul(2).backward(), /backward: grad can be implicitly created only for scalar outputs/);
    const z = t.ones([2]).requiresGrad_();
    assert.throws(() => t.grad(x.sum(), [z]), /differentiated Tensors appears to not have been used in the graph/);
    assert.deepEqual(t.grad(x.sum(), [z], { allowUnused: true }), [null]);
  });
});

test('scope(fn) rejects async functions and frees what they made', () => {
  const before = t.liveTensors();
  assert.throws(() => t.scope((async () => t.ones([1])) as never), /must be synchronous/);
  assert.equal(t.liveTensors(), before);
});
