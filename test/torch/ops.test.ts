// Forward values of the engine's ops on small hand-computed cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as t from '../../src/torch/index.js';

const close = (a: number[], b: number[], tol = 1e-6) => {
  assert.equal(a.length, b.length, `length ${a.length} vs ${b.length}`);
  a.forEach((v, i) => assert.ok(Math.abs(v - (b[i] as number)) <= tol, `[${i}] ${v} vs ${b[i]}`));
};

test('elementwise, scalar and reduction ops', () => {
  t.scope(() => {
    const a = t.tensor([1, 2, 3, 4], [2, 2]);
    const b = t.tensor([10, 20, 30, 40], [2, 2]);
    close(a.add(b).toArray(), [11, 22, 33, 44]);
    close(t.add(a, b, 2).toArray(), [21, 42, 63, 84]);
    close(a.sub(1).toArray(), [0, 1, 2, 3]);
    close(a.mul(b).toArray(), [10, 40, 90, 160]);
    close(b.div(a).toArray(), [10, 10, 10, 10]);
    close(t.rsub(a, 1).toArray(), [0, -1, -2, -3]);
    close(a.sum().toArray(), [10]);
    close(a.sum(0).toArray(), [4, 6]);
    close(a.mean(1, true).toArray(), [1.5, 3.5]);
    assert.deepEqual(a.mean(1, true).shape, [2, 1]);
    close(t.norm(a).toArray(), [Math.sqrt(30)], 1e-5);
    close(t.clamp(a, 2, 3).toArray(), [2, 2, 3, 3]);
    close(t.where(t.gt(a, 2), a, b).toArray(), [10, 20, 3, 4]);
    assert.deepEqual(t.argmax(t.tensor([1, 5, 2, 7, 0, 3], [2, 3]), 1).toArray(), [1, 0]);
    close(t.amax(a, 1).toArray(), [2, 4]);
    close(t.matmul(a, b).toArray(), [70, 100, 150, 220]);
  });
});

test('shape ops: reshape, permute, cat, narrow, split, slice, indexSelect, pad', () => {
  t.scope(() => {
    const a = t.arange(6, undefined, 1, { dtype: 'float32' }).reshape([2, 3]);
    close(a.transpose(0, 1).contiguous().toArray(), [0, 3, 1, 4, 2, 5]);
    close(t.cat([a, a], 0).toArray(), [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
    assert.deepEqual(t.cat([a, a], 1).shape, [2, 6]);
    close(a.narrow(1, 1, 2).contiguous().toArray(), [1, 2, 4, 5]);
    const parts = t.split(a, [1, 2], 1);
    assert.deepEqual(
      parts.map((p) => p.shape),
      [
        [2, 1],
        [2, 2],
      ],
    );
    close(parts[1]!.contiguous().toArray(), [1, 2, 4, 5]);
    assert.throws(() => t.split(a, [1, 1], 1), /split/);
    close(t.slice(a, 1, 0, null, 2).contiguous().toArray(), [0, 2, 3, 5]);
    close(t.indexSelect(a, 1, t.tensor([2, 0], [2], { dtype: 'int64' })).toArray(), [2, 0, 5, 3]);
    close(t.pad(t.ones([1, 1]), [1, 0, 0, 1]).toArray(), [0, 1, 0, 0]);
    assert.deepEqual(t.stack([a, a], 0).shape, [2, 2, 3]);
    assert.deepEqual(t.unsqueeze(a, 0).shape, [1, 2, 3]);
    assert.deepEqual(a.flatten().shape, [6]);
  });
});

test('conv2d with stride, padding, dilation and groups', () => {
  t.scope(() => {
    const x = t.arange(16, undefined, 1, { dtype: 'float32' }).reshape([1, 1, 4, 4]);
    const w = t.ones([1, 1, 2, 2]);
    // 2x2 box sums, stride 2: [0+1+4+5, 2+3+6+7, 8+9+12+13, 10+11+14+15]
    close(t.conv2d(x, w, null, { stride: 2 }).toArray(), [10, 18, 42, 50]);
    // dilation 2, 2x2 kernel over a 4x4 map: x[i,j]+x[i,j+2]+x[i+2,j]+x[i+2,j+2]
    close(t.conv2d(x, w, null, { dilation: 2 }).toArray(), [20, 24, 36, 40]);
    const x2 = t.cat([x, x.mul(2)], 1);
    const dw = t.ones([2, 1, 1, 1]);
    const y = t.conv2d(x2, dw, t.tensor([1, -1]), { groups: 2 });
    assert.deepEqual(y.shape, [1, 2, 4, 4]);
    close(y.narrow(1, 1, 1).flatten().narrow(0, 0, 3).toArray(), [-1, 1, 3]);
    assert.deepEqual(t.conv2d(x, t.ones([3, 1, 3, 3]), null, { padding: 1 }).shape, [1, 3, 4, 4]);
  });
});

test('strided 1x1 conv: every stride-th pixel; the oneDNN heap-corrupting shape is safe', () => {
  t.scope(() => {
    const x = t.arange(25, undefined, 1, { dtype: 'float32' }).reshape([1, 1, 5, 5]);
    close(t.conv2d(x, t.full([1, 1, 1, 1], 2), null, { stride: 2 }).toArray(), [0, 4, 8, 20, 24, 28, 40, 44, 48]);
    // Debian libtorch 1.13 (and its python3-torch) corrupts the heap in this backward without our workaround
    for (let i = 0; i < 3; i++) {
      const y = t.randn([8, 8, 56, 56]).contiguous(true).requiresGrad_();
      const w = t.randn([4, 8, 1, 1]).requiresGrad_();
      const out = t.conv2d(y.relu(), w, null, { stride: 2 });
      assert.deepEqual(out.shape, [8, 4, 28, 28]);
      out.sum().backward();
    }
  });
});

test('pooling: max pads with -inf, avg with count_include_pad on and off', () => {
  t.scope(() => {
    const x = t.tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    close(t.maxPool2d(t.neg(x), 3, { stride: 1, padding: 1 }).toArray(), [-1, -1, -1, -1]);
    // each 3x3 window covers all 4 values: mean 2.5 without padding, 10/9 with it.
    close(t.avgPool2d(x, 3, { stride: 1, padding: 1, countIncludePad: false }).toArray(), [2.5, 2.5, 2.5, 2.5]);
    close(t.avgPool2d(x, 3, { stride: 1, padding: 1, countIncludePad: true }).toArray(), [10 / 9, 10 / 9, 10 / 9, 10 / 9]);
    close(t.adaptiveAvgPool2d(x, 1).toArray(), [2.5]);
  });
});

test('batch norm: batch statistics in training update the running ones; eval uses them', () => {
  t.scope(() => {
    const x = t.tensor([1, 3, 5, 7], [4, 1, 1, 1]);
    const rm = t.zeros([1]);
    const rv = t.ones([1]);
    const y = t.batchNorm(x, { runningMean: rm, runningVar: rv, training: true, momentum: 0.1, eps: 0 });
    // mean 4, biased var 5 → (x-4)/√5; running: mean 0.4, var 0.9 + 0.1·(20/3)
    close(
      y.toArray(),
      [-3, -1, 1, 3].map((v) => v / Math.sqrt(5)),
      1e-6,
    );
    close(rm.toArray(), [0.4]);
    close(rv.toArray(), [0.9 + 0.1 * (20 / 3)], 1e-6);
    const e = t.batchNorm(x, { runningMean: rm, runningVar: rv, training: false, eps: 0 });
    close(
      e.toArray(),
      [1, 3, 5, 7].map((v) => (v - 0.4) / Math.sqrt(0.9 + 2 / 3)),
      1e-5,
    );
  });
});

test('softmax, cross-entropy (hard, label smoothing, soft targets)', () => {
  t.scope(() => {
    const logits = t.tensor([1, 2, 3, 1, 1, 1], [2, 3]);
    const lse0 = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const lse1 = 1 + Math.log(3);
    close(logits.softmax(1).narrow(0, 1, 1).toArray(), [1 / 3, 1 / 3, 1 / 3]);
    const y = t.tensor([2, 0], [2], { dtype: 'int64' });
    const hard = (lse0 - 3 + (lse1 - 1)) / 2;
    close(t.crossEntropy(logits, y).toArray(), [hard], 1e-6);
    // smoothing ε: (1-ε)·nll + ε·mean_k(-log p_k)
    const eps = 0.1;
    const smooth0 = (1 - eps) * (lse0 - 3) + eps * (lse0 - 2);
    const smooth1 = (1 - eps) * (lse1 - 1) + eps * (lse1 - 1);
    close(t.crossEntropy(logits, y, { labelSmoothing: eps }).toArray(), [(smooth0 + smooth1) / 2], 1e-6);
    const p = t.tensor([0, 0, 1, 1, 0, 0], [2, 3]);
    close(t.softCrossEntropy(logits, p).toArray(), [hard], 1e-6);
    close(t.crossEntropy(logits, y, { reduction: 'sum' }).toArray(), [2 * hard], 1e-5);
  });
});

test('dropout, bernoulli and seeding are reproducible', () => {
  t.scope(() => {
    t.manualSeed(7);
    const a = t.randn([5]).toArray();
    const m = t
      .bernoulli(t.zeros([1000]), 0.3)
      .sum()
      .item();
    t.manualSeed(7);
    assert.deepEqual(t.randn([5]).toArray(), a);
    assert.equal(
      t
        .bernoulli(t.zeros([1000]), 0.3)
        .sum()
        .item(),
      m,
    );
    assert.ok(m > 230 && m < 370, `bernoulli(0.3) gave ${m}/1000`);
    const d = t.dropout(t.ones([1000]), 0.5, true).toArray();
    assert.ok(
      d.every((v) => v === 0 || v === 2),
      'inverted dropout scales kept values by 1/(1-p)',
    );
    assert.deepEqual(t.dropout(t.ones([3]), 0.5, false).toArray(), [1, 1, 1]);
  });
});

test('RNG state round trip reproduces draws', () => {
  t.scope(() => {
    const s = t.getRngState();
    const a = t.rand([4]).toArray();
    t.setRngState(s);
    assert.deepEqual(t.rand([4]).toArray(), a);
  });
});

test('dtypes, channels-last and typed-array round trips', () => {
  t.scope(() => {
    const x = t.tensor(new Float64Array([1.5, -2]), [2]);
    assert.equal(x.dtype, 'float64');
    assert.deepEqual(x.toArray(), [1.5, -2]);
    assert.deepEqual(x.to({ dtype: 'int64' }).toArray(), [1, -2]);
    const img = t.randn([2, 3, 4, 4]);
    const cl = img.contiguous(true);
    assert.ok(t.isChannelsLast(cl) && !t.isChannelsLast(img));
    assert.deepEqual(cl.toArray(), img.toArray(), 'toArray is logical (NCHW) order whatever the layout');
    assert.equal(t.scalar(3).item(), 3);
    assert.deepEqual(t.tensor([1, 0, 1], [3], { dtype: 'bool' }).dtype, 'bool');
  });
});
