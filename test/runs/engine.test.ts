// The engine switches of a run (config keys with the paper's defaults, applied to libtorch) and
// what keeps tensors on the run's device: batch memory format, optimizer state restored onto the
// parameters' device and dtype, autocast forwards that hand float32 logits to the losses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineSection, SearchConfig, TrainConfig } from '../../src/config/schema.js';
import { applyEngine, autocastOf, batchToDevice as toDevice } from '../../src/runs/device.js';
import { autocastNet } from '../../src/search/models.js';
import { buildEvalNetwork, forwardLogits } from '../../src/retrain/network.js';
import { GENOTYPES } from '../../src/nas/genotype.js';
import * as t from '../../src/torch/index.js';

test("engine defaults are the paper's behaviour: fp32 (no TF32, no autocast), cuDNN autotuning, channels-last", () => {
  const want = { tf32Matmul: false, tf32Cudnn: false, cudnnBenchmark: true, channelsLast: true, autocast: 'off' };
  assert.deepEqual(SearchConfig.parse({}).engine, want);
  assert.deepEqual(TrainConfig.parse({}).engine, want);
  assert.equal(SearchConfig.parse({ engine: { autocast: 'bf16' } }).engine.autocast, 'bf16');
  const bad = SearchConfig.safeParse({ engine: { autocast: 'fp16' } });
  assert.ok(!bad.success && bad.error.issues[0]?.path.join('.') === 'engine.autocast');
  assert.ok(!SearchConfig.safeParse({ engine: { tf32: true } }).success, 'unknown keys are refused');
});

test('applyEngine sets the switches; deterministic turns cuDNN autotuning off and cuDNN deterministic on', () => {
  const saved = t.getEngineFlags();
  try {
    applyEngine(EngineSection.parse({ tf32Matmul: true, tf32Cudnn: true }), false);
    assert.deepEqual(t.getEngineFlags(), {
      tf32Matmul: true,
      tf32Cudnn: true,
      cudnnBenchmark: true,
      cudnnDeterministic: false,
      deterministic: false,
    });
    applyEngine(EngineSection.parse({}), true);
    assert.deepEqual(t.getEngineFlags(), {
      tf32Matmul: false,
      tf32Cudnn: false,
      cudnnBenchmark: false,
      cudnnDeterministic: true,
      deterministic: true,
    });
    assert.equal(process.env.CUBLAS_WORKSPACE_CONFIG, ':4096:8');
  } finally {
    t.setEngineFlags(saved);
  }
});

test('toDevice: batches keep channels-last, or become NCHW when channelsLast is off; the inputs are freed', () => {
  const live = t.liveTensors();
  const batch = () => ({
    x: t.keep(t.scope(() => t.randn([2, 4, 4, 3]).permute([0, 3, 1, 2]))),
    y: t.keep(t.tensor([1, 0], [2], { dtype: 'int64' })),
    index: Int32Array.from([0, 1]),
    epoch: 0,
    position: 0,
  });
  const a = toDevice(batch(), 'cpu', true);
  assert.equal(t.isChannelsLast(a.x), true);
  const b0 = batch();
  const b = toDevice(b0, 'cpu', false);
  assert.equal(t.isChannelsLast(b.x), false);
  assert.deepEqual(b.x.shape, [2, 3, 4, 4]);
  assert.equal(b0.x.disposed, true);
  assert.equal(b.x.device, 'cpu');
  t.disposeAll([a.x, a.y, b.x, b.y]);
  assert.equal(t.liveTensors(), live);
});

test('optimizer state is restored onto its parameters device and dtype, as copies', () => {
  t.scope(() => {
    const p = t.keep(t.ones([3], { dtype: 'float64' }).requiresGrad_(true));
    const sgd = new t.optim.SGD([p], { lr: 0.1, momentum: 0.9 });
    const adam = new t.optim.Adam([p], { lr: 0.1 });
    const m = t.keep(t.full([3], 0.5)); // float32, as a checkpoint written by a float32 run
    sgd.loadStateDict({ kind: 'sgd', step: 1, lr: 0.1, tensors: new Map([['momentum.0', m]]) });
    adam.loadStateDict({
      kind: 'adam',
      step: 1,
      lr: 0.1,
      tensors: new Map([
        ['m.0', m],
        ['v.0', m],
      ]),
    });
    m.dispose();
    for (const s of [sgd.stateDict(), adam.stateDict()])
      for (const [k, v] of s.tensors) {
        assert.equal(v.dtype, 'float64', k);
        assert.equal(v.device, p.device, k);
        assert.deepEqual(v.toArray(), [0.5, 0.5, 0.5], k);
      }
    sgd.dispose();
    adam.dispose();
    p.dispose();
  });
});

test('autocastNet: the forward runs in bfloat16, the logits come back float32, gradients reach float32 weights', () => {
  const live = t.liveTensors();
  t.scope(() => {
    t.manualSeed(1);
    const w = t.keep(t.randn([5, 4]).requiresGrad_(true));
    const net = { weights: [w], buffers: [], forward: (x: t.Tensor) => t.linear(x, w, null) };
    assert.equal(autocastOf(EngineSection.parse({}), 'cpu'), null);
    assert.equal(autocastNet(net, null), net, 'off: the same net');
    const ac = autocastNet(net, autocastOf(EngineSection.parse({ autocast: 'bf16' }), 'cpu'));
    const x = t.randn([3, 4]);
    const y = ac.forward(x);
    assert.equal(y.dtype, 'float32');
    const exact = net.forward(x);
    const err = t.amax(y.sub(exact).abs(), [0, 1]).item();
    assert.ok(err > 0 && err < 0.05, `bf16 forward differs from fp32 by ${err}`);
    const [g] = t.grad(y.sum(), [w]);
    assert.equal(g?.dtype, 'float32');
    assert.equal(t.isAutocast('cpu'), false);
    w.dispose();
  });
  assert.equal(t.liveTensors(), live);
});

test('retrain under autocast: the evaluation network forwards in bfloat16, the losses see float32 logits', () => {
  const live = t.liveTensors();
  t.scope(() => {
    t.manualSeed(2);
    const meta = {
      name: 'fashion-mnist',
      numClasses: 4,
      classNames: [],
      shape: [1, 8, 8],
      mean: [0],
      std: [1],
      style: 'cifar',
    } as const;
    const net = buildEvalNetwork({ layers: 3, channels: 8, auxiliary: true }, GENOTYPES.DARTS_V2, meta);
    net.eval();
    const x = t.randn([2, 1, 8, 8]);
    const exact = forwardLogits(net, x).logits;
    const { logits } = forwardLogits(net, x, 'cpu');
    assert.equal(logits.dtype, 'float32');
    const err = t.amax(logits.sub(exact).abs(), [0, 1]).item();
    assert.ok(err > 0 && err < 0.5, `bf16 forward differs from fp32 by ${err}`);
    assert.equal(t.isAutocast('cpu'), false);
    net.dispose();
  });
  assert.equal(t.liveTensors(), live);
});
