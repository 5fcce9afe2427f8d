// Tensor lifetimes: scopes, keep, dispose, handles never reused, the GC backstop, and no leaks over
// long training loops.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import * as t from '../../src/torch/index.js';
import { native } from '../../src/torch/native.js';

test('scope frees intermediates, returns results to the parent scope, keep escapes', () => {
  const before = t.liveTensors();
  let kept: t.Tensor | undefined;
  const out = t.scope(() => {
    const inner = t.scope(() => {
      const a = t.ones([2]);
      const b = a.add(1);
      kept = t.keep(b.mul(3));
      return { b, list: [a.mul(2)] };
    });
    assert.equal(inner.b.disposed, false);
    t.ones([5]); // freed at the end of this scope
    return inner.b.add(inner.list[0] as t.Tensor);
  });
  assert.deepEqual(out.toArray(), [4, 4]);
  assert.equal(t.liveTensors(), before + 2, 'only the returned tensor and the kept one live');
  out.dispose();
  kept?.dispose();
  assert.equal(t.liveTensors(), before);
});

test('a throwing scope frees everything it made', () => {
  const before = t.liveTensors();
  assert.throws(() =>
    t.scope(() => {
      t.ones([3]).add(1);
      throw new Error('boom');
    }),
  );
  assert.equal(t.liveTensors(), before);
});

test('a long loop of explicit disposes inside one scope, and tensors kept or disposed early, free once each', () => {
  const before = t.liveTensors();
  const survivor = t.scope(() => {
    for (let i = 0; i < 5000; i++) t.ones([1]).add(i).dispose(); // the scope's list is compacted as it goes
    const early = t.ones([2]);
    early.dispose();
    const kept = t.keep(t.ones([3]));
    t.scope(() => kept.add(1)); // a result nobody takes: freed by the outer scope
    return kept;
  });
  assert.equal(t.liveTensors(), before + 1);
  assert.equal(survivor.disposed, false);
  survivor.dispose();
  assert.equal(t.liveTensors(), before);
});

test('a native handle is never reused: after dispose its id stays invalid though its slot holds a new tensor', () => {
  const x = t.ones([2]);
  const stale = x.h;
  x.dispose();
  const others = Array.from({ length: 8 }, () => t.zeros([2])); // reuse the freed slot
  assert.throws(() => native.item(stale), /item: argument 0 is a disposed tensor/);
  assert.equal(native.isAlive(stale), false);
  native.dispose(stale); // a stale dispose (the backstop's, say) frees nothing
  assert.deepEqual(
    others.map((o) => o.disposed || o.toArray()[0]),
    Array(8).fill(0),
  );
  for (const o of others) o.dispose();
  for (const bad of [0, 1, -1, 1.5, 2 ** 53, Number.NaN])
    assert.throws(() => native.relu(bad as never), /must be a tensor handle/);
});

test('backstop: tensors no scope owns are freed when collected without dispose (child process with --expose-gc)', () => {
  const script = `
    import * as t from ${JSON.stringify(new URL('../../src/torch/index.js', import.meta.url).href)};
    const before = t.liveTensors();
    (() => { for (let i = 0; i < 500; i++) t.ones([64]); })();                 // outside any scope
    (() => { for (let i = 0; i < 500; i++) t.scope(() => t.ones([64])); })();  // returned from the outermost scope
    const mid = t.liveTensors() - before;
    for (let k = 0; k < 20 && t.liveTensors() > before; k++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
    console.log(JSON.stringify({ mid, after: t.liveTensors() - before }));`;
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, LBT_NUM_THREADS: '1' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim()), { mid: 1000, after: 0 });
});

function smallNet() {
  const conv = new t.nn.Conv2d(3, 8, 3, { padding: 1, bias: false });
  const bn = new t.nn.BatchNorm2d(8);
  const fc = new t.nn.Linear(8, 10);
  const params = [...conv.parameters(), ...bn.parameters(), ...fc.parameters()];
  const forward = (x: t.Tensor) => fc.forward(t.adaptiveAvgPool2d(bn.forward(conv.forward(x)).relu(), 1).flatten(1));
  return { params, forward, dispose: () => [conv, bn, fc].forEach((m) => m.dispose()) };
}

test('200 training steps of a small conv net leave the live-tensor count where it started', () => {
  t.manualSeed(0);
  const net = smallNet();
  const opt = new t.optim.SGD(net.params, { lr: 0.05, momentum: 0.9, weightDecay: 3e-4 });
  const x = t.randn([8, 3, 8, 8]).contiguous(true);
  const y = t.randint(0, 10, [8]);
  const step = () =>
    t.scope(() => {
      opt.zeroGrad();
      const loss = t.crossEntropy(net.forward(x), y);
      loss.backward();
      t.optim.clipGradNorm(net.params, 5);
      opt.step();
      return loss.item();
    });
  const first = step(); // creates the momentum buffers
  const before = t.liveTensors();
  let last = first;
  for (let i = 0; i < 200; i++) last = step();
  assert.equal(t.liveTensors(), before);
  assert.ok(last < first, `loss fell from ${first} to ${last}`);
  opt.dispose();
  net.dispose();
  x.dispose();
  y.dispose();
});

test('RSS stays within 10% over 1,000 steps', () => {
  const net = smallNet();
  const opt = new t.optim.SGD(net.params, { lr: 0.01, momentum: 0.9 });
  const step = () =>
    t.scope(() => {
      const x = t.randn([16, 3, 16, 16]);
      const y = t.randint(0, 10, [16]);
      opt.zeroGrad();
      t.crossEntropy(net.forward(x), y).backward();
      opt.step();
    });
  for (let i = 0; i < 100; i++) step(); // warm-up: allocator pools, oneDNN kernels
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < 1000; i++) step();
  const rss1 = process.memoryUsage().rss;
  assert.ok(rss1 < rss0 * 1.1, `RSS grew from ${(rss0 / 2 ** 20).toFixed(1)} to ${(rss1 / 2 ** 20).toFixed(1)} MiB`);
  opt.dispose();
  net.dispose();
});
