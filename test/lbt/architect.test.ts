// Architect steps leave weights and buffers bit-identical and free every tensor; Algorithm 1's weight steps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as t from '../../src/torch/index.js';
import { Architect, NonFiniteError, StepMeter, studentStep, teacherStep } from '../../src/lbt/index.js';
import { makeToy } from './toy.js';

const snapshot = (ts: readonly t.Tensor[]) => ts.map((x) => x.toArray());

for (const [name, cfg, withStudent] of [
  ['DARTS-1st', { firstOrder: true }, false],
  ['DARTS-2nd', {}, false],
  ['LBT (DARTS-2nd host)', {}, true],
  ['LBT first order', { firstOrder: true }, true],
] as const) {
  test(`${name}: an architect step moves A only; weights, buffers and momentum are bit-identical; no tensor leaks`, () => {
    const toy = makeToy(5);
    const arch = new Architect(toy.teacher, cfg);
    const nets = [toy.teacher, toy.student];
    const w0 = nets.map((n) => snapshot(n.weights));
    const b0 = nets.map((n) => snapshot(n.buffers));
    const m0 = toy.teacher.weights.map((_, i) => toy.teacherOpt.momentumBuffer(i)?.toArray());
    const a0 = snapshot(toy.teacher.arch);
    const meter = new StepMeter();
    const step = () =>
      arch.step({
        teacherOpt: toy.teacherOpt,
        student: withStudent ? toy.student : null,
        studentOpt: withStudent ? toy.studentOpt : null,
        batches: toy.batches,
        meter,
      });
    step(); // creates Adam's moment buffers
    const stats = meter.read();
    const live = t.liveTensors();
    step();
    meter.read();
    assert.equal(t.liveTensors(), live, 'live-tensor count unchanged by a step');
    assert.deepEqual(
      nets.map((n) => snapshot(n.weights)),
      w0,
      'weights bit-identical',
    );
    assert.deepEqual(
      nets.map((n) => snapshot(n.buffers)),
      b0,
      'BN running statistics bit-identical',
    );
    assert.deepEqual(
      toy.teacher.weights.map((_, i) => toy.teacherOpt.momentumBuffer(i)?.toArray()),
      m0,
    );
    assert.notDeepEqual(snapshot(toy.teacher.arch), a0, 'A moved');
    assert.ok(
      toy.teacher.arch.every((a) => a.grad === null),
      'no gradient left on A',
    );
    assert.ok((stats.mean['arch.teacherValLoss'] ?? 0) > 0);
    assert.equal(stats.count['arch.studentValLoss'] === undefined, !withStudent);
    assert.ok((stats.last['arch.gradNorm'] ?? 0) > 0);
    arch.dispose();
    toy.dispose();
  });
}

test('one Adam step moves each architecture parameter by about lr (3e-4) in the sign of the hypergradient', () => {
  const toy = makeToy(6);
  const arch = new Architect(toy.teacher, {});
  const a0 = toy.teacher.arch.flatMap((a) => a.toArray());
  const meter = new StepMeter();
  arch.step({ teacherOpt: toy.teacherOpt, student: toy.student, studentOpt: toy.studentOpt, batches: toy.batches, meter });
  meter.dispose();
  const moved = toy.teacher.arch.flatMap((a) => a.toArray()).map((v, i) => Math.abs(v - (a0[i] as number)));
  // first Adam step: |Δ| = lr·|g|/(|g| + eps) ≈ lr (plus the L2 term, which is folded into g)
  assert.ok(
    moved.every((d) => d > 2.9e-4 && d < 3.0001e-4),
    `steps ${moved}`,
  );
  arch.dispose();
  toy.dispose();
});

test('Algorithm 1 weight steps: the teacher step leaves A alone; the student sees λ·soft labels', () => {
  const toy = makeToy(7);
  const a0 = toy.teacher.arch.map((a) => a.toArray());
  const meter = new StepMeter({ eager: true });
  teacherStep(toy.teacher, toy.teacherOpt, toy.batches.train, 5, meter);
  const st = meter.read().last;
  assert.deepEqual(
    toy.teacher.arch.map((a) => a.toArray()),
    a0,
  );
  assert.ok(toy.teacher.arch.every((a) => a.grad === null));
  const [loss = 0, acc = -1] = [st['teacher.loss'], st['teacher.acc']];
  assert.ok(loss > 0 && acc >= 0 && acc <= 1 && (st['teacher.gradNorm'] ?? 0) > 0);
  // pseudo-only with λ = 2: the loss is 2·soft-CE of the student's logits against the teacher's softmax
  const expected = t.scope(
    () =>
      t
        .softCrossEntropy(toy.student.forward(toy.batches.unlabeled), toy.teacher.forward(toy.batches.unlabeled).softmax(1))
        .item() * 2,
  );
  const uLabels = t.scope(() => t.gt(toy.batches.unlabeled.sum([1, 2, 3]), 0).to({ dtype: 'int64' }));
  const before = t.liveTensors();
  const batch = { train: toy.batches.train, u: toy.batches.unlabeled, uLabels };
  const cfg = { lambda: 2, pseudoOnly: true, teacherGradClip: 5, studentGradClip: 5 };
  studentStep(toy.student, toy.teacher, toy.studentOpt, batch, cfg, meter);
  const ss = meter.read().last;
  const sLoss = ss['student.loss'] ?? 0;
  assert.ok(Math.abs(sLoss - expected) < 1e-9, `${sLoss} vs ${expected}`);
  assert.equal(ss['student.acc'], undefined);
  const agreement = ss['student.agreement'] ?? -1;
  assert.ok(agreement >= 0 && agreement <= 1 && ss['student.pseudoAcc'] !== undefined);
  assert.equal(t.liveTensors(), before);
  uLabels.dispose();
  toy.dispose();
});

test('a NaN batch stops the step with NonFiniteError and leaves A unchanged', () => {
  const toy = makeToy(8);
  const arch = new Architect(toy.teacher, {});
  const a0 = toy.teacher.arch.map((a) => a.toArray());
  const bad = t.keep(t.full(toy.batches.val.x.shape, Number.NaN, { dtype: 'float64' }));
  const meter = new StepMeter({ eager: true });
  assert.throws(
    () =>
      arch.step({
        teacherOpt: toy.teacherOpt,
        student: toy.student,
        studentOpt: toy.studentOpt,
        batches: { ...toy.batches, val: { x: bad, y: toy.batches.val.y } },
        meter,
      }),
    NonFiniteError,
  );
  assert.deepEqual(
    toy.teacher.arch.map((a) => a.toArray()),
    a0,
  );
  assert.throws(
    () => teacherStep(toy.teacher, toy.teacherOpt, { x: bad, y: toy.batches.val.y }, 5, meter),
    /teacher training loss is NaN/,
  );
  bad.dispose();
  arch.dispose();
  toy.dispose();
});
