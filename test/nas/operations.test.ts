import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OPS, PDARTS_OPS, FactorizedReduce, Zero } from '../../src/nas/operations.js';
import { PRIMITIVES } from '../../src/nas/primitives.js';
import * as t from '../../src/torch/index.js';

describe('PRIMITIVES and OPS', () => {
  test('reference order and a complete table', () => {
    assert.deepEqual(
      [...PRIMITIVES],
      ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5'],
    );
    assert.deepEqual(Object.keys(OPS).sort(), [...PRIMITIVES].sort());
  });

  test('per-op parameter counts at C=16 (darts-family.md §1)', () => {
    const count = (p: (typeof PRIMITIVES)[number], stride: 1 | 2, affine: boolean) => {
      const op = OPS[p](16, stride, affine);
      const n = op.numParameters();
      op.dispose();
      return n;
    };
    const searchS1 = Object.fromEntries(PRIMITIVES.map((p) => [p, count(p, 1, false)]));
    assert.deepEqual(searchS1, {
      none: 0,
      max_pool_3x3: 0,
      avg_pool_3x3: 0,
      skip_connect: 0,
      sep_conv_3x3: 800,
      sep_conv_5x5: 1312,
      dil_conv_3x3: 400,
      dil_conv_5x5: 656,
    });
    assert.equal(count('skip_connect', 2, false), 256);
    assert.equal(count('sep_conv_3x3', 1, true), 864);
    assert.equal(count('sep_conv_5x5', 1, true), 1376);
    assert.equal(count('dil_conv_3x3', 1, true), 432);
    assert.equal(count('dil_conv_5x5', 1, true), 688);
    assert.equal(count('skip_connect', 2, true), 288);
    // stride does not change the parameters of the convolutions
    assert.equal(count('sep_conv_5x5', 2, false), 1312);
  });
});

describe('operation output shapes', () => {
  for (const [h, c] of [
    [32, 3],
    [28, 1],
  ] as const) {
    for (const stride of [1, 2] as const) {
      test(`every op keeps C and gives ${stride === 1 ? h : h / 2}x${stride === 1 ? h : h / 2} at stride ${stride} on ${h}x${h} (C=${c * 2})`, () => {
        const C = c * 2;
        const before = t.liveTensors();
        t.scope(() => {
          const x = t.randn([2, C, h, h]);
          for (const p of PRIMITIVES) {
            const op = OPS[p](C, stride, true);
            assert.deepEqual(op.forward(x).shape, [2, C, h / stride, h / stride], p);
            op.dispose();
          }
        });
        assert.equal(t.liveTensors(), before);
      });
    }
  }

  test('odd sizes at stride 2: DARTS Zero and the convs give ceil(H/2), P-DARTS Zero floor(H/2)', () => {
    t.scope(() => {
      const x = t.randn([1, 4, 7, 7]);
      assert.deepEqual(new Zero(2).forward(x).shape, [1, 4, 4, 4]);
      assert.deepEqual(new Zero(2, 'pdarts').forward(x).shape, [1, 4, 3, 3]);
      assert.deepEqual(PDARTS_OPS.none(4, 2, false).forward(x).shape, [1, 4, 3, 3]);
      for (const p of ['max_pool_3x3', 'avg_pool_3x3', 'sep_conv_3x3', 'dil_conv_5x5'] as const) {
        assert.deepEqual(OPS[p](4, 2, false).forward(x).shape, [1, 4, 4, 4], p);
      }
      // The reference FactorizedReduce fails on odd maps (4 vs 3); ours pads the shifted branch.
      const fr = new FactorizedReduce(4, 6, false);
      assert.deepEqual(fr.forward(x).shape, [1, 6, 4, 4]);
      fr.dispose();
    });
  });
});

describe('operation values', () => {
  test('Zero is exactly zero and DARTS Zero takes every second pixel', () => {
    t.scope(() => {
      const x = t.randn([2, 3, 5, 5]);
      const z = new Zero(2).forward(x);
      assert.deepEqual(z.shape, [2, 3, 3, 3]);
      assert.equal(t.abs(z).sum().item(), 0);
    });
  });

  test('avg pool does not count the padding; max pool pads with -inf', () => {
    t.scope(() => {
      const ones = t.ones([1, 1, 4, 4]);
      // count_include_pad=True would give 4/9 in the corners
      assert.deepEqual(OPS.avg_pool_3x3(1, 1, false).forward(ones).toArray(), new Array(16).fill(1));
      const neg = t.full([1, 1, 4, 4], -1);
      assert.deepEqual(OPS.max_pool_3x3(1, 2, false).forward(neg).toArray(), [-1, -1, -1, -1]);
    });
  });

  test('FactorizedReduce: the second branch reads x[:, :, 1:, 1:]', () => {
    t.scope(() => {
      const fr = new FactorizedReduce(1, 2, false);
      t.noGrad(() => {
        t.fillInPlace(fr.conv1.weight, 1);
        t.fillInPlace(fr.conv2.weight, 1);
      });
      fr.eval(); // running stats are mean 0, var 1: BN is the identity up to eps
      const x = t.tensor(
        Array.from({ length: 16 }, (_, i) => i),
        [1, 1, 4, 4],
      );
      const y = fr
        .forward(x)
        .toArray()
        .map((v) => Math.round(v * Math.sqrt(1 + 1e-5)));
      // branch 1: x[0,0], x[0,2], x[2,0], x[2,2]; branch 2: x[1,1], x[1,3], x[3,1], x[3,3]
      assert.deepEqual(y, [0, 2, 8, 10, 5, 7, 13, 15]);
      fr.dispose();
    });
  });
});
