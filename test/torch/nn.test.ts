import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as t from '../../src/torch/index.js';

test('Conv2d and Linear: PyTorch shapes, names and U(±1/√fan_in) initialisation', () => {
  const c = new t.nn.Conv2d(4, 6, 3, { groups: 2 });
  assert.deepEqual(
    c.namedParameters().map(([n, p]) => [n, p.shape]),
    [
      ['weight', [6, 2, 3, 3]],
      ['bias', [6]],
    ],
  );
  const bound = 1 / Math.sqrt(2 * 9);
  const w = c.weight.toArray();
  assert.ok(w.every((v) => Math.abs(v) <= bound) && Math.max(...w.map(Math.abs)) > bound * 0.7);
  const l = new t.nn.Linear(100, 3);
  assert.ok(l.weight.toArray().every((v) => Math.abs(v) <= 0.1));
  assert.equal(l.numParameters(), 303);
  c.dispose();
  l.dispose();
});

test('BatchNorm2d: affine parameters, running buffers updated only in training', () => {
  const bn = new t.nn.BatchNorm2d(2);
  assert.equal(bn.numParameters(), 4);
  assert.deepEqual(
    bn.namedBuffers().map(([n]) => n),
    ['runningMean', 'runningVar', 'numBatchesTracked'],
  );
  t.scope(() => {
    const x = t.tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 1, 2]);
    bn.forward(x);
    // channel 0 holds 1,2,5,6 (mean 3.5); channel 1 holds 3,4,7,8 (mean 5.5)
    assert.deepEqual(
      bn.runningMean!.toArray().map((v) => Number(v.toFixed(6))),
      [0.35, 0.55],
    );
    bn.eval();
    bn.forward(x);
    assert.deepEqual(
      bn.runningMean!.toArray().map((v) => Number(v.toFixed(6))),
      [0.35, 0.55],
    );
  });
  const noAffine = new t.nn.BatchNorm2d(2, { affine: false });
  assert.equal(noAffine.numParameters(), 0);
  bn.dispose();
  noAffine.dispose();
});

class Net extends t.nn.Layer {
  declare body: t.nn.Sequential;
  constructor() {
    super();
    this.registerModule('body', new t.nn.Sequential(new t.nn.Conv2d(1, 2, 1), new t.nn.BatchNorm2d(2), new t.nn.ReLU()));
  }
  forward(x: t.Tensor) {
    return this.body.forward(x);
  }
}

test('Sequential naming, state dict load with shape checks, train/eval propagation', () => {
  const a = new Net();
  const b = new Net();
  assert.deepEqual(
    [...a.stateDict().keys()],
    [
      'body.0.weight',
      'body.0.bias',
      'body.1.weight',
      'body.1.bias',
      'body.1.runningMean',
      'body.1.runningVar',
      'body.1.numBatchesTracked',
    ],
  );
  b.loadStateDict(a.stateDict());
  assert.deepEqual(b.body.layers[0]!.parameters()[0]!.toArray(), a.body.layers[0]!.parameters()[0]!.toArray());
  const wrong = new Map(a.stateDict());
  t.scope(() => {
    wrong.set('body.0.bias', t.zeros([3]));
    assert.throws(() => b.loadStateDict(wrong), /body\.0\.bias has shape \[2\] here and \[3\] in the state/);
  });
  wrong.delete('body.0.bias');
  assert.throws(() => b.loadStateDict(wrong), /missing \[body\.0\.bias\]/);
  a.eval();
  assert.equal(a.body.layers[1]!.training, false);
  a.dispose();
  b.dispose();
});

test('withTensors substitutes parameters for one call and restores them even on error', () => {
  const n = new Net();
  const w = n.body.layers[0]!.parameters()[0]!;
  t.scope(() => {
    const x = t.ones([1, 1, 1, 1]);
    const zero = t.zeros([2, 1, 1, 1]);
    const zb = t.zeros([2]);
    n.eval();
    const y = n.withTensors(
      new Map([
        ['body.0.weight', zero],
        ['body.0.bias', zb],
      ]),
      () => n.forward(x),
    );
    assert.deepEqual(
      y.toArray().map((v) => Math.round(v * 1e4)),
      [0, 0],
    );
    assert.throws(
      () =>
        n.withTensors(new Map([['body.0.weight', zero]]), () => {
          throw new Error('mid-way');
        }),
      /mid-way/,
    );
    assert.equal(n.body.layers[0]!.parameters()[0], w, 'original parameter restored');
    assert.throws(() => n.withTensors(new Map([['nope', zero]]), () => 0), /no parameter or buffer named nope/);
  });
  n.dispose();
});
