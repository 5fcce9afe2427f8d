// The LBT hypergradient against brute-force central differences of O_v(A), in float64.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as t from '../../src/torch/index.js';
import {
  DEFAULT_HYPERGRAD,
  type HypergradConfig,
  hypergradient,
  mixedHessianVector,
  mixedHessianVectorExact,
  numericHypergradient,
} from '../../src/lbt/index.js';
import { makeToy } from './toy.js';

function relErr(a: number[], b: number[]): number {
  let num = 0;
  let den = 0;
  a.forEach((v, i) => {
    num += (v - (b[i] as number)) ** 2;
    den += (b[i] as number) ** 2;
  });
  return Math.sqrt(num / den);
}

const cases: [string, Partial<HypergradConfig>, boolean][] = [
  ['DARTS-2nd (no student)', {}, false],
  ['LBT full', {}, true],
  ['LBT first order', { firstOrder: true }, true],
  ['LBT paper form (no u_A)', { paperForm: true }, true],
  ['LBT student only (ablation 1)', { studentOnly: true }, true],
  ['LBT pseudo-labels only (ablation 2)', { pseudoOnly: true }, true],
  ['LBT λ=0.5, γ=2', { lambda: 0.5, gamma: 2 }, true],
];

for (const [name, over, withStudent] of cases) {
  test(`hypergradient = central differences of O_v(A): ${name}`, () => {
    const toy = makeToy();
    const before = t.liveTensors();
    t.withDefaultDtype('float64', () => {
      const cfg = { ...DEFAULT_HYPERGRAD, ...over, fdScale: 1e-4 };
      const inp = {
        teacher: toy.teacher,
        teacherOpt: toy.teacherOpt,
        student: withStudent ? toy.student : null,
        studentOpt: withStudent ? toy.studentOpt : null,
        batches: toy.batches,
        cfg,
      };
      const { grads, stats } = hypergradient(inp);
      const analytic = grads.flatMap((g) => g.toArray());
      t.disposeAll([grads, stats]);
      const numeric = numericHypergradient(inp, { step: 1e-5 }).flat();
      const err = relErr(analytic, numeric);
      assert.ok(err < 1e-6, `${name}: relative error ${err}`);
      assert.ok(Math.hypot(...numeric) > 1e-4, 'the gradient is not trivially zero');
    });
    assert.equal(t.liveTensors(), before, 'no tensor leaked');
    toy.dispose();
  });
}

test('finite-difference mixed Hessian-vector product (Eq. 8) equals the exact double-backward one to 1e-6', () => {
  const toy = makeToy(3);
  t.scope(() => {
    const v = toy.teacher.weights.map((w) => t.randnLike(w));
    const fd = mixedHessianVector(toy.teacher, toy.batches.train, toy.teacher.arch, v, 1e-4).flatMap((g) => g.toArray());
    const exact = mixedHessianVectorExact(toy.teacher, toy.batches.train, toy.teacher.arch, v).flatMap((g) => g.toArray());
    assert.ok(relErr(fd, exact) < 1e-6, `relative error ${relErr(fd, exact)}`);
  });
  toy.dispose();
});

test('the combined finite-difference pair equals the paper’s two pairs, and the exact HVP mode agrees', () => {
  const toy = makeToy(4);
  const run = (cfg: Partial<HypergradConfig>) => {
    const { grads, stats } = hypergradient({
      teacher: toy.teacher,
      teacherOpt: toy.teacherOpt,
      student: toy.student,
      studentOpt: toy.studentOpt,
      batches: toy.batches,
      cfg: { ...DEFAULT_HYPERGRAD, fdScale: 1e-4, ...cfg },
    });
    const out = grads.flatMap((g) => g.toArray());
    t.disposeAll([grads, stats]);
    return out;
  };
  const combined = run({});
  assert.ok(relErr(run({ separatePairs: true }), combined) < 1e-6);
  assert.ok(relErr(run({ hvp: 'exact' }), combined) < 1e-6);
  toy.dispose();
});
