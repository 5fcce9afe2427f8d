import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resnet18, resnet50 } from '../../src/students/resnet.js';
import * as t from '../../src/torch/index.js';

function count(net: t.nn.Module): number {
  const n = net.numParameters();
  net.dispose();
  return n;
}

describe('CIFAR ResNets (kuangliu layout)', () => {
  test('ResNet-18: 11,173,962 (10 classes), 11,220,132 (100), 11,169,858 (2)', () => {
    assert.equal(count(resnet18()), 11_173_962);
    assert.equal(count(resnet18({ numClasses: 100 })), 11_220_132);
    assert.equal(count(resnet18({ numClasses: 2 })), 11_169_858);
  });

  test('ResNet-50: 23,520,842 (10 classes), 23,705,252 (100)', () => {
    assert.equal(count(resnet50()), 23_520_842);
    assert.equal(count(resnet50({ numClasses: 100 })), 23_705_252);
  });

  test('reduced sizes: width 1/8 and one block per stage', () => {
    // conv 3·8·9 + bn 16; blocks: 8→8 (2·(576+16)), 8→16 s2 (1152+32+2304+32 + sc 128+32),
    // 16→32 (4608+64+9216+64 + 512+64), 32→64 (18432+128+36864+128 + 2048+128); linear 650
    const n = count(resnet18({ width: 1 / 8, blocks: [1, 1, 1, 1] }));
    assert.equal(n, 216 + 16 + 1184 + 3680 + 14528 + 57728 + 650);
    assert.equal(count(resnet18({ inChannels: 1 })), 11_173_962 - 2 * 64 * 9);
  });

  for (const [channels, size] of [
    [3, 32],
    [1, 28],
  ] as const) {
    test(`forward and backward on ${channels}x${size}x${size} keep the live-tensor count`, () => {
      for (const make of [resnet18, resnet50]) {
        const net = make({ width: 1 / 16, inChannels: channels, numClasses: 7 });
        const before = t.liveTensors();
        t.scope(() => {
          const logits = net.forward(t.randn([2, channels, size, size]));
          assert.deepEqual(logits.shape, [2, 7]);
          t.crossEntropy(logits, t.tensor([0, 6], [2], { dtype: 'int64' })).backward();
        });
        assert.equal(t.liveTensors(), before);
        assert.ok(net.linear.weight.grad !== null);
        net.dispose();
      }
    });
  }
});
