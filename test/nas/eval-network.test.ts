import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { auxiliaryHeadCIFAR } from '../../src/nas/aux-heads.js';
import { dropPath, dropPathSchedule } from '../../src/nas/eval-cell.js';
import { countParametersNoAux, NetworkCIFAR, NetworkImageNet } from '../../src/nas/eval-network.js';
import { GENOTYPES, type GenotypeName } from '../../src/nas/genotype.js';
import * as t from '../../src/torch/index.js';

// darts-family.md §4: [CIFAR-10 no-aux, total, CIFAR-100 no-aux, total, ImageNet no-aux, total]
const TABLE: [GenotypeName, number[]][] = [
  ['DARTS_V1', [3_169_414, 3_645_840, 3_221_344, 3_766_980, 4_510_432, 5_771_208]],
  ['DARTS_V2', [3_349_342, 3_825_768, 3_401_272, 3_946_908, 4_718_752, 5_979_528]],
  ['PC_DARTS_cifar', [3_634_678, 4_111_104, 3_686_608, 4_232_244, 5_270_560, 6_531_336]],
  ['PC_DARTS_image', [3_721_510, 4_197_936, 3_773_440, 4_319_076, 5_342_464, 6_603_240]],
  ['PDARTS', [3_433_798, 3_910_224, 3_485_728, 4_031_364, 4_944_352, 6_206_664]],
];

describe('evaluation network parameters, to the unit', () => {
  for (const [name, expected] of TABLE) {
    test(`${name}: CIFAR-10/100 (C36 L20) and ImageNet (C48 L14), without and with the aux head`, () => {
      const genotype = GENOTYPES[name];
      const counts: number[] = [];
      for (const numClasses of [10, 100]) {
        const net = new NetworkCIFAR({ genotype, C: 36, layers: 20, numClasses, auxiliary: true });
        counts.push(countParametersNoAux(net), net.numParameters());
        net.dispose();
      }
      // P-DARTS's model.py has BN(768) in the ImageNet aux head; DARTS/PC-DARTS's do not
      const im = new NetworkImageNet({
        genotype,
        C: 48,
        layers: 14,
        numClasses: 1000,
        auxiliary: true,
        auxBn768: name === 'PDARTS',
      });
      counts.push(countParametersNoAux(im), im.numParameters());
      im.dispose();
      assert.deepEqual(counts, expected);
    });
  }

  test('the DARTS_V2 aux head (C_aux = 576 after cell 13, 10 classes) has 476,426 parameters', () => {
    const net = new NetworkCIFAR({ genotype: GENOTYPES.DARTS_V2, C: 36, layers: 20, numClasses: 10, auxiliary: true });
    assert.equal(net.auxAt, 13);
    assert.equal(net.auxiliaryHead?.numParameters(), 476_426);
    net.dispose();
    const head = auxiliaryHeadCIFAR(576, 10);
    assert.equal(head.numParameters(), 476_426);
    head.dispose();
    const noAux = new NetworkCIFAR({ genotype: GENOTYPES.DARTS_V2, C: 36, layers: 20, numClasses: 10, auxiliary: false });
    assert.equal(noAux.numParameters(), 3_349_342);
    noAux.dispose();
  });
});

describe('evaluation network forward (tiny: N=2, C=8)', () => {
  for (const [channels, size] of [
    [3, 32],
    [1, 28],
  ] as const) {
    test(`NetworkCIFAR and NetworkImageNet on ${channels}x${size}x${size}: logits, aux logits only in training, no leaks`, () => {
      const nets = [
        new NetworkCIFAR({
          genotype: GENOTYPES.PC_DARTS_cifar,
          C: 8,
          layers: 8,
          numClasses: 10,
          auxiliary: true,
          inChannels: channels,
        }),
        new NetworkImageNet({
          genotype: GENOTYPES.PDARTS,
          C: 8,
          layers: 5,
          numClasses: 10,
          auxiliary: true,
          inChannels: channels,
          auxBn768: true,
        }),
      ];
      for (const net of nets) {
        net.dropPathProb = 0.2;
        const before = t.liveTensors();
        t.scope(() => {
          const x = t.randn([2, channels, size, size]);
          const out = net.forward(x);
          assert.deepEqual(out.logits.shape, [2, 10]);
          assert.deepEqual(out.logitsAux?.shape, [2, 10]);
          t.add(t.crossEntropy(out.logits, t.tensor([0, 1], [2], { dtype: 'int64' })), 0).backward();
          net.eval();
          assert.equal(net.forward(x).logitsAux, null);
          net.train();
        });
        assert.equal(t.liveTensors(), before);
        net.dispose();
      }
    });
  }

  test('drop path: whole samples are zeroed or scaled by 1/keep; schedule p = prob·epoch/epochs', () => {
    t.scope(() => {
      const x = t.ones([400, 2, 2, 2]);
      const y = dropPath(x, 0.25).toArray();
      const values = new Set(y.map((v) => Math.round(v * 1e4) / 1e4));
      assert.deepEqual([...values].sort(), [0, 1.3333]);
      for (let i = 0; i < 400; i++) assert.equal(new Set(y.slice(i * 8, i * 8 + 8)).size, 1, `sample ${i}`);
      const kept = y.filter((v) => v > 0).length / y.length;
      assert.ok(kept > 0.65 && kept < 0.85, `kept ${kept}`);
      assert.equal(dropPath(x, 0), x);
    });
    assert.equal(dropPathSchedule(0.2, 0, 600), 0);
    assert.equal(dropPathSchedule(0.3, 300, 600), 0.15);
  });

  test('drop path skips Identity ops: DARTS_V1 normal cell with only skips on input 0 is not dropped there', () => {
    const net = new NetworkCIFAR({ genotype: GENOTYPES.DARTS_V2, C: 4, layers: 3, numClasses: 10, auxiliary: false });
    const cell = net.cells.at(0);
    // genes 5 and 6 are skip_connect (Identity) in a normal cell; the rest are not
    assert.deepEqual(
      cell.ops.items.map((op) => op instanceof t.nn.Identity),
      [false, false, false, false, false, true, true, false],
    );
    net.dispose();
  });
});
