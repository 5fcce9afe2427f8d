// The supernet's cell-shape keys reach the network: supernet.steps, .multiplier (the last nodes
// concatenated) and .stemMultiplier, for every space; the defaults keep the reference counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSearchConfig } from '../../src/config/load.js';
import { buildSupernet } from '../../src/search/models.js';
import { initialOps } from '../../src/search/state.js';
import * as t from '../../src/torch/index.js';

const cifar = { classes: 10, channels: 3, style: 'cifar' as const };
const supernet = (sets: string[]) => buildSupernet(loadSearchConfig({ sets }), cifar);
const countOf = (sets: string[]) => {
  const net = supernet(sets);
  const n = net.numParameters();
  net.dispose();
  return n;
};

test('defaults: 1,930,618 (reference); stemMultiplier and multiplier change exactly the layers they size', () => {
  assert.equal(countOf([]), 1_930_618);
  // stem 3→2 (x C=16): the stem conv (27C) and BN (2C), and the 1x1 convs reading the stem (cells 0, 0, 1: 3C²)
  assert.equal(countOf(['supernet.stemMultiplier=2']), 1_930_618 - (27 * 16 + 2 * 16 + 3 * 16 * 16));
  // multiplier 4→3: every cell's output has C_i fewer channels. Per unit: preprocess1 of cells 1-7
  // (Σ C_{i-1}·C_i = 13,056), preprocess0 of cells 2-7 (Σ C_{i-2}·C_i = 10,240), classifier (64·10)
  assert.equal(countOf(['supernet.multiplier=3']), 1_930_618 - (13_056 + 10_240 + 640));
  assert.equal(countOf(['supernet.multiplier=4']), 1_930_618, 'multiplier = steps is the default');
});

test('a multiplier below steps concatenates the last nodes: the genotype says so and the network runs', () => {
  for (const method of ['darts', 'pc-darts', 'p-darts']) {
    const net = supernet([
      `method=${method}`,
      'supernet.channels=4',
      'supernet.layers=3',
      'supernet.multiplier=2',
      'pdarts.layers=[3,3,3]',
    ]);
    const g = net.genotype();
    assert.deepEqual(
      [g.normalConcat, g.reduceConcat],
      [
        [4, 5],
        [4, 5],
      ],
      method,
    );
    const y = t.scope(() => net.forward(t.randn([2, 3, 8, 8])).shape);
    assert.deepEqual(y, [2, 10]);
    net.dispose();
  }
});

test('supernet.steps works in every space (the derivation and the P-DARTS op lists follow it)', () => {
  for (const method of ['darts', 'pc-darts', 'p-darts']) {
    const net = supernet([
      `method=${method}`,
      'supernet.channels=4',
      'supernet.layers=3',
      'supernet.steps=3',
      'pdarts.layers=[3,3,3]',
    ]);
    assert.deepEqual(net.arch.normal.shape, [9, 8], method);
    const g = net.genotype();
    assert.equal(g.normal.length, 6, `${method}: two genes for each of 3 nodes`);
    assert.deepEqual(g.normalConcat, [2, 3, 4]);
    net.dispose();
  }
  assert.equal(initialOps(3).normal.length, 9);
});

test('supernet.stem reaches every space: the ImageNet stem (three stride-2 convs) replaces the CIFAR one', () => {
  for (const method of ['darts', 'pc-darts', 'p-darts']) {
    const sets = [`method=${method}`, 'supernet.channels=4', 'supernet.layers=3', 'pdarts.layers=[3,3,3]'];
    const cifarNet = supernet(sets);
    const net = supernet([...sets, 'supernet.stem=imagenet']);
    assert.equal(cifarNet.stem0, null, method);
    assert.deepEqual([net.stem, net.config.stem], [null, 'imagenet'], method);
    // stem0: conv 3→6 (162), BN (12), conv 6→12 (648), BN (24); stem1: conv 12→12 (1,296), BN (24)
    assert.equal(net.stem0!.numParameters() + net.stem1!.numParameters(), 162 + 12 + 648 + 24 + 1296 + 24, method);
    const y = t.scope(() => net.forward(t.randn([2, 3, 32, 32])).shape);
    assert.deepEqual(y, [2, 10], method);
    cifarNet.dispose();
    net.dispose();
  }
});
