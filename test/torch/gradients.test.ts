// Every differentiable op's backward against central differences in float64.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as t from '../../src/torch/index.js';

const f64 = { dtype: 'float64' as const };
const r = (shape: number[]) => t.randn(shape, f64);
const pos = (shape: number[]) => t.rand(shape, f64).add(0.5);

type Case = [name: string, f: (...xs: t.Tensor[]) => t.Tensor, inputs: () => t.Tensor[]];

const cases: Case[] = [
  ['add/sub with alpha', (a, b) => t.sub(t.add(a, b, 2), a.mul(b), 0.5), () => [r([3, 2]), r([3, 2])]],
  ['mul/div', (a, b) => a.mul(b).div(b.add(3)), () => [r([4]), pos([4])]],
  ['scalar ops', (a) => t.rsub(a.mul(3).add(1).div(2), 4).pow(3), () => [r([5])]],
  ['exp/log/sqrt/abs/square', (a) => a.exp().add(a.log()).add(a.sqrt()).add(a.abs()).add(a.square()), () => [pos([5])]],
  ['relu/sigmoid/tanh', (a) => t.relu(a).add(t.sigmoid(a)).add(t.tanh(a)), () => [r([6]).add(0.05)]],
  ['maximum/minimum', (a, b) => t.maximum(a, b).add(t.minimum(a, b.mul(2))), () => [r([5]), r([5]).add(0.3)]],
  ['clamp/where', (a) => t.where(t.gt(a, 0), t.clamp(a, -0.5, 0.5), a.mul(2)), () => [r([8]).mul(2).add(0.01)]],
  ['sum/mean over dims', (a) => t.sum(a, [0, 2], true).add(t.mean(a, 1).sum()), () => [r([2, 3, 4])]],
  [
    'norm/amax',
    (a) =>
      t
        .norm(a)
        .add(t.amax(a, 1).sum())
        .add(t.norm(a, 2, 1).sum()),
    () => [r([3, 4])],
  ],
  ['matmul/linear', (x, w, b) => t.linear(t.matmul(x, w.transpose(0, 1)), w, b), () => [r([2, 3]), r([3, 3]), r([3])]],
  [
    'reshape/permute/transpose/flatten',
    (a) =>
      a
        .reshape([3, 8])
        .permute([1, 0])
        .transpose(0, 1)
        .flatten()
        .mul(t.arange(24, undefined, 1, f64)),
    () => [r([2, 3, 4])],
  ],
  [
    'cat/stack/narrow/slice',
    (a, b) => t.cat([t.narrow(a, 1, 1, 2), t.slice(b, 1, 0, null, 2)], 1).add(t.stack([a, b]).sum(0)),
    () => [r([2, 4]), r([2, 4])],
  ],
  [
    'split',
    (a) => {
      const [p, q] = t.split(a, [1, 3], 1);
      return p!.mul(q!.narrow(1, 0, 1)).add(q!.sum(1, true));
    },
    () => [r([2, 4])],
  ],
  [
    'indexSelect/gather',
    (a) =>
      t
        .indexSelect(a, 1, t.tensor([2, 0, 2], [3], { dtype: 'int64' }))
        .add(t.gather(a, 1, t.tensor([1, 1, 0, 2, 0, 1], [2, 3], { dtype: 'int64' }))),
    () => [r([2, 3])],
  ],
  [
    'pad/expand/unsqueeze/squeeze',
    (a) => t.squeeze(t.unsqueeze(t.pad(a, [1, 2]), 0), 0).add(t.expand(a.sum(1, true), [2, 6])),
    () => [r([2, 3])],
  ],
  [
    'conv2d (stride, padding, bias)',
    (x, w, b) => t.conv2d(x, w, b, { stride: 2, padding: 1 }),
    () => [r([2, 2, 5, 5]), r([3, 2, 3, 3]), r([3])],
  ],
  [
    'conv2d 1x1 stride 2 (odd size)',
    (x, w, b) => t.conv2d(x, w, b, { stride: 2 }),
    () => [r([2, 3, 5, 5]), r([2, 3, 1, 1]), r([2])],
  ],
  [
    'conv2d (dilation, depthwise)',
    (x, w) => t.conv2d(x, w, null, { padding: 2, dilation: 2, groups: 2 }),
    () => [r([1, 2, 5, 5]), r([2, 1, 3, 3])],
  ],
  [
    'batch norm (train, affine)',
    (x, w, b) => t.batchNorm(x, { weight: w, bias: b, training: true }),
    () => [r([3, 2, 2, 2]), r([2]), r([2])],
  ],
  ['batch norm (train, no affine)', (x) => t.batchNorm(x, { training: true }), () => [r([4, 2, 2, 2])]],
  [
    'batch norm (eval, running stats)',
    (x, w) =>
      t.batchNorm(x, {
        weight: w,
        runningMean: t.tensor([0.1, -0.2], [2], f64),
        runningVar: t.tensor([1.5, 0.5], [2], f64),
        training: false,
      }),
    () => [r([2, 2, 2, 2]), r([2])],
  ],
  ['max pool 3x3 pad 1', (x) => t.maxPool2d(x, 3, { stride: 2, padding: 1 }), () => [r([1, 2, 5, 5])]],
  [
    'avg pool count_include_pad=false',
    (x) => t.avgPool2d(x, 3, { stride: 1, padding: 1, countIncludePad: false }),
    () => [r([1, 2, 4, 4])],
  ],
  ['adaptive avg pool', (x) => t.adaptiveAvgPool2d(x, 1), () => [r([2, 3, 3, 3])]],
  ['softmax/logSoftmax', (a) => a.softmax(1).add(a.logSoftmax(0)), () => [r([3, 4])]],
  [
    'cross-entropy hard + smoothing',
    (a) => t.crossEntropy(a, t.tensor([2, 0, 1], [3], { dtype: 'int64' }), { labelSmoothing: 0.1 }),
    () => [r([3, 4])],
  ],
  ['soft cross-entropy (both arguments)', (a, b) => t.softCrossEntropy(a, b.softmax(1)), () => [r([3, 4]), r([3, 4])]],
];

for (const [name, f, inputs] of cases) {
  test(`gradcheck: ${name}`, () => {
    const before = t.liveTensors();
    t.scope(() => {
      t.manualSeed(11);
      const res = t.gradcheck(f, inputs(), { eps: 1e-6, atol: 1e-6, rtol: 1e-5 });
      assert.ok(res.ok, `${name}: max abs err ${res.maxAbsErr} at ${JSON.stringify(res.worst)}`);
      assert.ok(res.maxAbsErr < 1e-6, `${name}: ${res.maxAbsErr}`);
    });
    assert.equal(t.liveTensors(), before);
  });
}

test('dropout backward uses the same mask as forward', () => {
  t.scope(() => {
    const x = t.ones([200], f64).requiresGrad_();
    const y = t.dropout(x, 0.4, true);
    const [g] = t.grad(y.sum(), [x]);
    assert.deepEqual(g?.toArray(), y.toArray(), 'd(sum dropout(x))/dx equals the scaled mask, which equals dropout(1)');
  });
});

test('grad with createGraph gives an exact Hessian-vector product (checked by finite differences)', () => {
  t.scope(() => {
    t.manualSeed(3);
    // small net: loss(w) = CE(linear(tanh(conv(x; w1)) ; w2))
    const x = r([2, 1, 4, 4]);
    const y = t.tensor([1, 0], [2], { dtype: 'int64' });
    const loss = (w1: t.Tensor, w2: t.Tensor) =>
      t.crossEntropy(t.linear(t.tanh(t.conv2d(x, w1, null, { padding: 1 })).flatten(1), w2), y);
    const w1 = r([2, 1, 3, 3]).mul(0.5).requiresGrad_();
    const w2 = r([2, 32]).mul(0.3).requiresGrad_();
    const v1 = r([2, 1, 3, 3]);
    const v2 = r([2, 32]);
    const gs = t.grad(loss(w1, w2), [w1, w2], { createGraph: true });
    const gv = gs[0]!.mul(v1).sum().add(gs[1]!.mul(v2).sum());
    const hv = t.grad(gv, [w1, w2]);
    // central difference of the gradient along v
    const eps = 1e-5;
    const gradAt = (s: number) => {
      const a = w1.detach().add(v1, s).requiresGrad_();
      const b = w2.detach().add(v2, s).requiresGrad_();
      return t.grad(loss(a, b), [a, b]);
    };
    const gp = gradAt(eps);
    const gm = gradAt(-eps);
    for (let i = 0; i < 2; i++) {
      const fd = gp[i]!.sub(gm[i]!).div(2 * eps);
      const err = t.amax(fd.sub(hv[i]!).abs().flatten(), 0).item();
      const scale = hv[i]!.abs().mean().item();
      assert.ok(err < 1e-7 + 1e-6 * scale, `HVP block ${i}: max err ${err} (scale ${scale})`);
    }
  });
});
