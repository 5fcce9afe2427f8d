// Step statistics on the device (src/lbt/meter.ts): one host read per read(), means and last
// values as the steps gave them, NaN stops at the read (deferred) or at the add (eager); and
// the host reads an iteration of Algorithm 1 makes, pinned (each is a device sync on a GPU).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as t from '../../src/torch/index.js';
import { Architect, type HypergradConfig, lbtIteration, NonFiniteError, StepMeter } from '../../src/lbt/index.js';
import { makeToy } from './toy.js';

const scalar = (v: number) => t.scalar(v, { dtype: 'float32' });

test('a deferred meter sums on the device and reads everything in one host read', () => {
  const before = t.liveTensors();
  const meter = new StepMeter();
  const losses = [2.5, 1.5, 0.5];
  t.scope(() => {
    for (const [i, v] of losses.entries()) {
      meter.add('teacher.loss', scalar(v));
      meter.add('teacher.acc', scalar(i / 4));
    }
  });
  const reads = t.hostReads();
  const r = meter.read();
  assert.equal(t.hostReads() - reads, 1, 'one host read for every statistic');
  assert.deepEqual(r.mean, { 'teacher.loss': 1.5, 'teacher.acc': 0.25 });
  assert.deepEqual(r.last, { 'teacher.loss': 0.5, 'teacher.acc': 0.5 });
  assert.deepEqual(r.count, { 'teacher.loss': 3, 'teacher.acc': 3 });
  assert.equal(meter.pending, false);
  const again = t.hostReads();
  assert.deepEqual(meter.read(), { mean: {}, last: {}, count: {} });
  assert.equal(t.hostReads(), again, 'nothing pending: no read');
  assert.equal(t.liveTensors(), before, 'the meter holds no tensor after a read');
});

test('a NaN stops at the read (deferred) naming the statistic, or at the add (eager)', () => {
  const meter = new StepMeter();
  t.scope(() => {
    meter.add('teacher.loss', scalar(1));
    meter.add('student.loss', scalar(Number.NaN));
    meter.add('student.loss', scalar(1));
  });
  assert.throws(() => meter.read(), /^NonFiniteError: non-finite value: student training loss is NaN$/);
  assert.equal(meter.pending, false, 'the failed read is not read again');
  // an accuracy is not guarded (it cannot make a checkpoint bad)
  t.scope(() => meter.add('teacher.acc', scalar(Number.NaN)));
  assert.ok(Number.isNaN(meter.read().mean['teacher.acc'] as number));
  const eager = new StepMeter({ eager: true });
  assert.throws(() => t.scope(() => eager.add('arch.gradNorm', scalar(Number.POSITIVE_INFINITY))), NonFiniteError);
});

for (const [name, cfg, student, perStep] of [
  ['DARTS-1st', { firstOrder: true }, false, 0],
  ['DARTS-2nd', {}, false, 1], // ‖w‖ for the Hessian's finite-difference ε
  ['LBT first order', { firstOrder: true }, true, 1], // ‖h_s‖ for the pseudo-label cotangent's ε
  ['LBT (DARTS-2nd host)', {}, true, 2],
] as const) {
  test(`${name}: ${perStep} host reads per iteration, and one per read of its statistics`, () => {
    const toy = makeToy(11);
    const arch = new Architect(toy.teacher, cfg as Partial<HypergradConfig>);
    const meter = new StepMeter();
    const iterate = () =>
      lbtIteration({
        teacher: toy.teacher,
        teacherOpt: toy.teacherOpt,
        architect: arch,
        student: student ? toy.student : null,
        studentOpt: student ? toy.studentOpt : null,
        batches: toy.batches,
        weights: { lambda: 1, pseudoOnly: false, teacherGradClip: 5, studentGradClip: 5 },
        meter,
      });
    iterate();
    const reads = t.hostReads();
    for (let i = 0; i < 3; i++) iterate();
    assert.equal(t.hostReads() - reads, 3 * perStep);
    const r = meter.read();
    assert.equal(t.hostReads() - reads, 3 * perStep + 1);
    assert.equal(r.count['teacher.loss'], 4);
    assert.equal(r.count['arch.gradNorm'], 4);
    assert.equal(r.count['student.loss'], student ? 4 : undefined);
    for (const v of Object.values(r.mean)) assert.ok(Number.isFinite(v));
    arch.dispose();
    toy.dispose();
  });
}
