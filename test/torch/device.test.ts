// Devices and engine switches: what holds on every build (CPU-only or CUDA, with or without a GPU).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { native } from '../../src/torch/native.js';
import * as t from '../../src/torch/index.js';

const gpus = t.cudaDevices().length;

test('each engine flag round-trips: set returns the previous value, get reads the new one', () => {
  const start = t.getEngineFlags();
  assert.deepEqual(Object.keys(start).sort(), [...t.ENGINE_FLAGS].sort());
  for (const f of t.ENGINE_FLAGS) {
    const prev = t.setEngineFlags({ [f]: !start[f] });
    assert.deepEqual(prev, { [f]: start[f] }, f);
    assert.equal(t.getEngineFlags()[f], !start[f], f);
    t.setEngineFlags(prev);
    assert.equal(t.getEngineFlags()[f], start[f], f);
  }
  assert.deepEqual(t.getEngineFlags(), start);
  assert.throws(() => native.setFlag('tf32', true), /setFlag: argument 0 is an unknown engine flag 'tf32' \(tf32Matmul, /);
});

test('setDeterministic is the deterministic flag', () => {
  const prev = t.getEngineFlags().deterministic;
  t.setDeterministic(true);
  assert.equal(t.getEngineFlags().deterministic, true);
  t.setDeterministic(prev);
  assert.equal(t.getEngineFlags().deterministic, prev);
});

test('host reads: item, data and toArray count one each; ops and moves count none', () => {
  t.scope(() => {
    const x = t.tensor([1, 2, 3]);
    const before = t.hostReads();
    const y = x.mul(2).sum();
    y.to({ dtype: 'float64' });
    assert.equal(t.hostReads(), before);
    assert.equal(y.item(), 12);
    x.data();
    x.toArray();
    assert.equal(t.hostReads(), before + 3);
  });
});

test('bfloat16 tensors: created from numbers, read back as float32 values, refused by safetensors', () => {
  const live = t.liveTensors();
  t.scope(() => {
    const b = t.tensor([1.5, -2.25, 1 / 3], [3], { dtype: 'bfloat16' });
    assert.equal(b.dtype, 'bfloat16');
    // 1/3 rounds to the nearest bfloat16 (8 significant bits): 0.333984375
    assert.deepEqual(b.toArray(), [1.5, -2.25, 0.333984375]);
    assert.throws(() => t.encodeSafetensors(new Map([['b', b]])), /b: .*bfloat16 tensors are not saved/);
  });
  assert.equal(t.liveTensors(), live);
});

test('CPU autocast to bfloat16: conv and matmul run in bfloat16 inside, float32 outside, state restored', () => {
  const live = t.liveTensors();
  t.scope(() => {
    t.manualSeed(3);
    const x = t.randn([2, 3, 6, 6]);
    const w = t.randn([4, 3, 3, 3]).requiresGrad_(true);
    const ref = t.conv2d(x, w, null, { padding: 1 });
    assert.equal(t.isAutocast('cpu'), false);
    const [y, dtypeInside] = t.withAutocast('cpu', () => {
      const out = t.conv2d(x, w, null, { padding: 1 });
      return [out, t.matmul(t.ones([2, 2]), t.ones([2, 2])).dtype] as const;
    });
    assert.equal(t.isAutocast('cpu'), false);
    assert.equal(y.dtype, 'bfloat16');
    assert.equal(dtypeInside, 'bfloat16');
    assert.equal(t.conv2d(x, w, null, { padding: 1 }).dtype, 'float32');
    // bfloat16 keeps 8 significant bits: relative error of a 27-term dot product well under 2^-5.
    // Found with scripts/check-libtorch.sh: Debian 13's libtorch 2.6 CPU bf16 conv2d under autocast
    // is off by about half the output scale here (9.5 of 18.1), 1.13 by under 1%; so the conv's
    // accuracy is pinned on 1.x and the matmul's on every version (bf16 autocast is for GPUs, off by default).
    const rel = (a: t.Tensor, b: t.Tensor) =>
      t.amax(a.to({ dtype: 'float32' }).sub(b).abs(), [0, 1]).item() / t.amax(b.abs(), [0, 1]).item();
    const flat = (z: t.Tensor) => z.reshape([z.size(0), -1]);
    if (t.buildInfo().version.startsWith('1.')) assert.ok(rel(flat(y), flat(ref)) < 2 ** -5, 'bf16 conv vs fp32');
    const a = t.randn([8, 27]);
    const b = t.randn([27, 5]);
    const mm = t.withAutocast('cpu', () => t.matmul(a, b));
    const r = rel(mm, t.matmul(a, b));
    assert.ok(r > 0 && r < 2 ** -5, `bf16 matmul vs fp32: ${r}`);
    // the weight's gradient comes back in the weight's dtype
    const [g] = t.grad(y.to({ dtype: 'float32' }).sum(), [w]);
    assert.equal(g?.dtype, 'float32');
    // an exception inside leaves autocast off
    assert.throws(
      () =>
        t.withAutocast('cpu', () => {
          throw new Error('inside');
        }),
      /inside/,
    );
    assert.equal(t.isAutocast('cpu'), false);
  });
  assert.equal(t.liveTensors(), live);
});

test('CUDA calls on a machine without a usable GPU say so (CPU builds, or CUDA builds without a device)', {
  skip: gpus > 0,
}, () => {
  assert.deepEqual(t.cudaDevices(), []);
  assert.deepEqual(t.getCudaRngStates(), []);
  t.setCudaRngStates([]);
  assert.throws(() => t.setCudaRngStates([new Uint8Array(16)]), /1 CUDA RNG state\(s\) for 0 CUDA device\(s\)/);
  assert.throws(() => t.cudaMemory(0), /cudaMemory: argument 0 names a CUDA device, but libtorch sees none/);
  assert.throws(() => native.getCudaRngState(0), /getCudaRngState: argument 0 names a CUDA device, but libtorch sees none/);
  t.cudaSynchronize(); // a no-op
  const info = t.buildInfo();
  assert.equal(info.cudaAvailable, false);
  assert.equal(info.cudaDeviceCount, 0);
});

test('on a GPU: devices have properties, CUDA RNG state round-trips, memory statistics move', { skip: gpus === 0 }, () => {
  const [d] = t.cudaDevices();
  assert.ok(d && d.index === 0 && d.name.length > 0);
  if (t.buildInfo().cudaHeaders) assert.ok((d.totalMemory ?? 0) > 2 ** 30 && /^\d+\.\d+$/.test(d.capability ?? ''));
  t.scope(() => {
    const states = t.getCudaRngStates();
    const a = t.rand([5], { device: 'cuda' }).toArray();
    t.setCudaRngStates(states);
    assert.deepEqual(t.rand([5], { device: 'cuda' }).toArray(), a);
    if (!t.buildInfo().cudaHeaders) return;
    t.cudaMemory(0, { resetPeak: true });
    const before = t.cudaMemory(0).allocated;
    const big = t.zeros([1 << 20], { device: 'cuda' });
    assert.ok(t.cudaMemory(0).peakAllocated >= before + 4 * (1 << 20));
    big.dispose();
  });
});
