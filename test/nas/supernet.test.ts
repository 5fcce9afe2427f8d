import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MixedOp } from '../../src/nas/mixed-op.js';
import { channelShuffle, createPcDartsSupernet } from '../../src/nas/pc-darts.js';
import { createPdartsSupernet } from '../../src/nas/p-darts.js';
import { PRIMITIVES } from '../../src/nas/primitives.js';
import { createDartsSupernet, normalizeBetas, type SearchNetwork } from '../../src/nas/supernet.js';
import * as t from '../../src/torch/index.js';

function countAndDispose(net: t.nn.Module): number {
  const n = net.numParameters();
  net.dispose();
  return n;
}

describe('DARTS supernet parameters (darts-family.md §2)', () => {
  test('C=16, 8 cells, 10 classes: 1,930,618 with the reference per-cell breakdown', () => {
    const net = createDartsSupernet();
    assert.equal(net.numParameters(), 1_930_618);
    assert.equal(net.stem?.numParameters(), 1_392);
    assert.deepEqual(
      net.cells.items.map((c) => c.numParameters()),
      [45_888, 46_144, 144_000, 137_856, 139_904, 484_608, 460_032, 468_224],
    );
    assert.equal(net.classifier.numParameters(), 2_570);
    assert.deepEqual(
      net.cells.items.map((c) => c.reduction),
      [false, false, true, false, false, true, false, false],
    );
    const cell0 = net.cells.at(0);
    assert.equal(cell0.preprocess0.numParameters(), 768);
    assert.equal(cell0.preprocess1.numParameters(), 768);
    assert.equal(cell0.ops.at(0).numParameters(), 3_168);
    assert.equal(net.cells.at(2).ops.at(0).numParameters(), 10_432);
    assert.equal(net.cells.at(2).ops.at(4).numParameters(), 9_408);
    net.dispose();
  });

  test('alphas are 14x8 per cell type, not module parameters, 224 values in all', () => {
    const net = createDartsSupernet({ C: 4, layers: 3 });
    assert.equal(net.archParameters().length, 2);
    assert.deepEqual(net.arch.normal.shape, [14, 8]);
    assert.deepEqual(net.arch.reduce.shape, [14, 8]);
    assert.equal(
      net.archParameters().reduce((s, a) => s + a.numel, 0),
      224,
    );
    const params = new Set(net.parameters());
    for (const a of net.archParameters()) {
      assert.ok(!params.has(a));
      assert.ok(a.requiresGrad);
      // init 1e-3 · randn: far below 1e-2 in magnitude
      assert.ok(t.scope(() => t.amax(t.abs(a), [0, 1]).item()) < 1e-2);
    }
    net.dispose();
  });

  test('other sizes: 5 cells 1,275,834; 100 classes adds 90·257', () => {
    assert.equal(countAndDispose(createDartsSupernet({ layers: 5 })), 1_275_834);
    assert.equal(countAndDispose(createDartsSupernet({ numClasses: 100 })), 1_930_618 + 90 * 257);
  });
});

describe('PC-DARTS and P-DARTS supernet parameters (§5, §6)', () => {
  test('PC-DARTS: 299,578 (10 classes), 322,708 (100), ImageNet K=2: 956,512 (1000)', () => {
    assert.equal(countAndDispose(createPcDartsSupernet()), 299_578);
    assert.equal(countAndDispose(createPcDartsSupernet({ numClasses: 100 })), 322_708);
    assert.equal(countAndDispose(createPcDartsSupernet({ stem: 'imagenet' })), 956_512);
  });

  test('PC-DARTS has 252 architecture values (alphas and betas)', () => {
    const net = createPcDartsSupernet({ C: 8, layers: 3 });
    assert.equal(
      net.archParameters().reduce((s, a) => s + a.numel, 0),
      252,
    );
    net.dispose();
  });

  test('P-DARTS stage 1 (5 cells, 8 ops) equals the DARTS 5-cell supernet: 1,275,834', () => {
    assert.equal(countAndDispose(createPdartsSupernet()), 1_275_834);
  });

  test('P-DARTS op subsets: alphas 14 x #ops and the reduction cells at (1,3), (3,7), (5,11)', () => {
    const ops = Array.from({ length: 14 }, () => ['none', 'skip_connect', 'sep_conv_3x3'] as const);
    const net = createPdartsSupernet({ C: 4, layers: 11, opsNormal: ops, opsReduce: ops });
    assert.deepEqual(net.arch.normal.shape, [14, 3]);
    assert.deepEqual(
      net.cells.items.flatMap((c, i) => (c.reduction ? [i] : [])),
      [3, 7],
    );
    assert.deepEqual((net.cells.at(0).ops.at(0) as MixedOp).primitives, ['none', 'skip_connect', 'sep_conv_3x3']);
    net.dispose();
    for (const [layers, red] of [
      [5, [1, 3]],
      [17, [5, 11]],
    ] as const) {
      const n = createPdartsSupernet({ C: 4, layers });
      assert.deepEqual(
        n.cells.items.flatMap((c, i) => (c.reduction ? [i] : [])),
        red,
      );
      n.dispose();
    }
  });
});

describe('PC-DARTS pieces', () => {
  test('channelShuffle: output channel c·g + gi is input channel gi·(C/g) + c', () => {
    t.scope(() => {
      const x = t.tensor([0, 1, 2, 3, 4, 5, 6, 7], [1, 8, 1, 1]);
      assert.deepEqual(channelShuffle(x, 4).toArray(), [0, 2, 4, 6, 1, 3, 5, 7]);
      assert.deepEqual(channelShuffle(x, 2).toArray(), [0, 4, 1, 5, 2, 6, 3, 7]);
    });
  });

  test('normalizeBetas: a softmax over each node’s incoming edges', () => {
    t.scope(() => {
      const b = normalizeBetas(t.zeros([14]), 4).toArray();
      const expect = [0.5, 0.5, ...new Array(3).fill(1 / 3), ...new Array(4).fill(1 / 4), ...new Array(5).fill(1 / 5)];
      b.forEach((v, i) => assert.ok(Math.abs(v - (expect[i] as number)) < 1e-6, `edge ${i}`));
    });
  });
});

function forwardBackward(net: SearchNetwork, channels: number, size: number): number[] {
  return t.scope(() => {
    const x = t.randn([2, channels, size, size]);
    const logits = net.forward(x);
    assert.deepEqual(logits.shape, [2, 10]);
    t.crossEntropy(logits, t.tensor([1, 7], [2], { dtype: 'int64' })).backward();
    return net.archParameters().map((a) => {
      const g = a.grad;
      return g === null ? 0 : t.abs(g).sum().item();
    });
  });
}

describe('supernet forward and backward (tiny: N=2, C=8, 5 cells)', () => {
  const spaces = {
    darts: (inChannels: number) => createDartsSupernet({ C: 8, layers: 5, inChannels }),
    'pc-darts': (inChannels: number) => createPcDartsSupernet({ C: 8, layers: 5, inChannels }),
    'pc-darts imagenet': (inChannels: number) =>
      createPcDartsSupernet({ C: 8, layers: 5, inChannels, stem: 'imagenet', numClasses: 10 }),
    'p-darts': (inChannels: number) => createPdartsSupernet({ C: 8, layers: 5, inChannels, skipDropRate: 0.3 }),
  };
  for (const [name, make] of Object.entries(spaces)) {
    for (const [channels, size] of [
      [3, 32],
      [1, 28],
    ] as const) {
      test(`${name} on ${channels}x${size}x${size}: live tensors unchanged, gradients reach every arch tensor`, () => {
        const net = make(channels);
        const before = t.liveTensors();
        const grads = forwardBackward(net, channels, size);
        assert.equal(t.liveTensors(), before);
        assert.equal(grads.length, name.startsWith('pc') ? 4 : 2);
        for (const g of grads) assert.ok(g > 0 && Number.isFinite(g), `gradient norm ${g}`);
        net.dispose();
      });
    }
  }

  test('forward is functional in the architecture: other alphas give other logits, same alphas the same', () => {
    const net = createDartsSupernet({ C: 4, layers: 3 });
    net.eval(); // running statistics: the output depends on x and the weights only
    t.scope(() => {
      const x = t.randn([2, 3, 16, 16]);
      const a = net.forward(x).toArray();
      const b = net.forward(x, { normal: net.arch.normal, reduce: net.arch.reduce }).toArray();
      assert.deepEqual(a, b);
      const other = { normal: t.mul(t.randn([14, 8]), 3), reduce: net.arch.reduce };
      const c = net.forward(x, other).toArray();
      assert.ok(c.some((v, i) => Math.abs(v - (a[i] as number)) > 1e-6));
      // gradients flow into substituted alphas too
      const leaf = t.randn([14, 8]).requiresGrad_(true);
      const [g] = t.grad(net.forward(x, { normal: leaf, reduce: net.arch.reduce }).sum(), [leaf]);
      assert.ok(
        t
          .abs(g as t.Tensor)
          .sum()
          .item() > 0,
      );
    });
    net.dispose();
  });

  test('wrong architecture shapes and missing betas fail with the field named', () => {
    const net = createPcDartsSupernet({ C: 8, layers: 3 });
    t.scope(() => {
      const x = t.randn([1, 3, 8, 8]);
      assert.throws(
        () => net.forward(x, { normal: t.zeros([14, 7]), reduce: net.arch.reduce }),
        /arch\.normal must be \[14, 8\]/,
      );
      assert.throws(() => net.forward(x, { normal: net.arch.normal, reduce: net.arch.reduce }), /betasNormal/);
    });
    net.dispose();
  });

  test('P-DARTS skip dropout is off at rate 0 and zeroes about p of the skip output at rate p', () => {
    const op = new MixedOp(4, 1, { primitives: ['skip_connect'], skipDropout: true });
    t.scope(() => {
      const x = t.ones([1, 4, 50, 50]);
      const w = t.ones([1]);
      assert.equal(op.forward(x, w).sum().item(), 10_000);
      op.setSkipDropRate(0.5);
      const zeros = t.eq(op.forward(x, w), 0).to({ dtype: 'float32' }).mean().item();
      assert.ok(zeros > 0.45 && zeros < 0.55, `fraction dropped ${zeros}`);
      op.eval();
      assert.equal(op.forward(x, w).sum().item(), 10_000);
    });
    assert.equal(PRIMITIVES.indexOf('skip_connect'), 3);
  });
});
