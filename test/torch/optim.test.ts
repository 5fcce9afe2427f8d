// Optimizers and schedules against hand-derived numbers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as t from '../../src/torch/index.js';

const f64 = { dtype: 'float64' as const };
const close = (a: number[], b: number[], tol = 1e-12) =>
  a.forEach((v, i) => assert.ok(Math.abs(v - (b[i] as number)) <= tol, `[${i}] ${v} vs ${b[i]}`));

/** Three steps on loss = c·p (constant gradient c), returning p after each step. */
function run(make: (p: t.Tensor) => t.optim.Optimizer, p0: number[], c: number[]): number[][] {
  const p = t.tensor(p0, [p0.length], f64).requiresGrad_();
  const opt = make(p);
  const cs = t.tensor(c, [c.length], f64);
  const out: number[][] = [];
  for (let i = 0; i < 3; i++) {
    t.scope(() => {
      opt.zeroGrad();
      p.mul(cs).sum().backward();
      opt.step();
    });
    out.push(p.toArray());
  }
  opt.dispose();
  p.dispose();
  cs.dispose();
  return out;
}

test('SGD with momentum 0.9 and weight decay 0.01: three steps by hand', () => {
  // g = c + wd·p; buf = g (first), μ·buf + g (later); p -= lr·buf. lr 0.1, c = [1, -2], p0 = [1, 2]
  // step 1: g = [1.01, -1.98], buf = g, p = [0.899, 2.198]
  // step 2: g = [1.00899, -1.97802], buf = [1.91799, -3.76002], p = [0.707201, 2.574002]
  // step 3: g = [1.00707201, -1.97425998], buf = [2.73326301, -5.35827798], p = [0.433874699, 3.109829798]
  const ps = run((p) => new t.optim.SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }), [1, 2], [1, -2]);
  close(ps[0] as number[], [0.899, 2.198]);
  close(ps[1] as number[], [0.707201, 2.574002]);
  close(ps[2] as number[], [0.433874699, 3.109829798]);
});

test('SGD nesterov: p -= lr·(g + μ·buf)', () => {
  // c = [1], p0 = [0], no decay: buf1 = 1, step 1.9; buf2 = 1.9, step 1 + 1.71 = 2.71; buf3 = 2.71, step 1 + 2.439 = 3.439
  const ps = run((p) => new t.optim.SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true }), [0], [1]);
  close(
    ps.map((v) => v[0] as number),
    [-0.19, -0.19 - 0.271, -0.19 - 0.271 - 0.3439],
  );
});

test('SGD exposes its momentum buffer and round-trips its state', () => {
  const p = t.tensor([1, 2], [2], f64).requiresGrad_();
  const opt = new t.optim.SGD([p], { lr: 0.1, momentum: 0.9 });
  assert.equal(opt.momentumBuffer(0), null);
  t.scope(() => {
    p.mul(t.tensor([3, 4], [2], f64))
      .sum()
      .backward();
    opt.step();
  });
  assert.deepEqual(opt.momentumBuffer(0)?.toArray(), [3, 4]);
  const other = new t.optim.SGD([p], { lr: 0.5, momentum: 0.9 });
  other.loadStateDict(opt.stateDict());
  assert.deepEqual(other.momentumBuffer(0)?.toArray(), [3, 4]);
  assert.equal(other.lr, 0.1);
  assert.equal(other.stepCount, 1);
  [opt, other].forEach((o) => o.dispose());
  p.dispose();
});

test('Adam: with a constant gradient each bias-corrected step is lr·sign(g)', () => {
  // m̂ = g and v̂ = g², so the step is lr·g/(|g| + eps)
  const ps = run((p) => new t.optim.Adam([p], { lr: 0.1, betas: [0.9, 0.999] }), [1, 2], [1, -2]);
  close(ps[2] as number[], [0.7, 2.3], 1e-7);
});

test('Adam with L2 weight decay (DARTS architect settings) matches a scalar reference', () => {
  const lr = 3e-4;
  const [b1, b2] = [0.5, 0.999];
  const wd = 1e-3;
  const eps = 1e-8;
  let p = 0.7;
  let m = 0;
  let v = 0;
  const ref: number[] = [];
  for (let k = 1; k <= 3; k++) {
    const g = 2 + wd * p;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    p -= ((lr / (1 - b1 ** k)) * m) / (Math.sqrt(v) / Math.sqrt(1 - b2 ** k) + eps);
    ref.push(p);
  }
  const ps = run((q) => new t.optim.Adam([q], { lr, betas: [b1, b2], weightDecay: wd }), [0.7], [2]);
  close(
    ps.map((x) => x[0] as number),
    ref,
    1e-15,
  );
});

test('global gradient-norm clipping (torch rule: coefficient 5/(norm+1e-6) when below 1)', () => {
  const a = t.tensor([3, 0], [2], f64).requiresGrad_();
  const b = t.tensor([4], [1], f64).requiresGrad_();
  t.scope(() =>
    a
      .mul(t.tensor([3, 0], [2], f64))
      .sum()
      .add(b.mul(4).sum())
      .backward(),
  ); // grads [3,0] and [4]: norm 5
  const n = t.optim.clipGradNorm([a, b], 1);
  assert.equal(n, 5);
  const coef = 1 / (5 + 1e-6);
  t.scope(() => {
    close(a.grad!.toArray(), [3 * coef, 0]);
    close(b.grad!.toArray(), [4 * coef]);
  });
  assert.equal(t.optim.clipGradNorm([a, b], 10), Math.sqrt(9 * coef * coef + 16 * coef * coef));
  a.dispose();
  b.dispose();
});

test('clipping on the device: the same gradients and norm as clipGradNorm, no host read, untouched below the limit', () => {
  const grads = () => [t.tensor([3, 0], [2], f64), t.tensor([4], [1], f64)];
  const params = () =>
    grads().map((g) => {
      const p = t.zerosLike(g).requiresGrad_();
      p.grad = g;
      return p;
    });
  const [a, b] = [params(), params()];
  const reads = t.hostReads();
  const n = t.scope(() => t.optim.clipGradNormOnDevice(a, 1)?.clone() ?? null);
  assert.equal(t.hostReads(), reads, 'no host read');
  t.optim.clipGradNorm(b, 1);
  assert.deepEqual(
    a.map((p) => p.grad?.toArray()),
    b.map((p) => p.grad?.toArray()),
  );
  assert.equal(n?.item(), 5);
  const before = a.map((p) => p.grad?.toArray());
  t.scope(() => t.optim.clipGradNormOnDevice(a, 10));
  assert.deepEqual(
    a.map((p) => p.grad?.toArray()),
    before,
    'multiplied by exactly 1',
  );
  const bare = t.zeros([1]);
  assert.equal(t.optim.clipGradNormOnDevice([bare], 1), null, 'no gradients: nothing to clip');
  t.disposeAll([a, b, n, bare]);
});

test('schedules: DARTS cosine values per epoch, step and warm-up', () => {
  // DARTS calls scheduler.step() before epoch e, so epoch e trains with cosine(e+1)
  const lr = (e: number) => t.optim.cosineLr(e + 1, 50, 0.025, 0.001);
  assert.ok(Math.abs(lr(0) - 0.0249763207) < 1e-10);
  assert.ok(Math.abs(lr(24) - 0.013) < 1e-12);
  assert.ok(Math.abs(lr(49) - 0.001) < 1e-15);
  assert.equal(t.optim.cosineLr(0, 600, 0.025), 0.025);
  assert.ok(Math.abs(t.optim.stepLr(3, 1, 0.97, 0.1) - 0.1 * 0.97 ** 3) < 1e-15);
  assert.equal(t.optim.warmupLr(0, 5, 0.5), 0.1);
  assert.equal(t.optim.warmupLr(7, 5, 0.5), 0.5);
});
