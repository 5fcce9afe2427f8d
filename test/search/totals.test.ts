// An epoch's running totals read the steps' statistics from the device once per flush (the search
// flushes at each step record, before each checkpoint and at the epoch's end), not once per step.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NonFiniteError, type StatName } from '../../src/lbt/index.js';
import { EpochTotals } from '../../src/search/step.js';
import * as t from '../../src/torch/index.js';

function addStep(totals: EpochTotals, v: Partial<Record<StatName, number>>): void {
  t.scope(() => {
    for (const [k, x] of Object.entries(v)) totals.meter.add(k as StatName, t.scalar(x, { dtype: 'float32' }));
  });
}

test('EpochTotals: one host read per flush, running means over every step, the last step for the record', () => {
  const before = t.liveTensors();
  const totals = new EpochTotals(0.025);
  const steps = [
    { 'teacher.loss': 2, 'teacher.acc': 0.25, 'student.loss': 3, 'student.agreement': 0.5, 'student.acc': 0.125 },
    { 'teacher.loss': 1, 'teacher.acc': 0.5, 'student.loss': 2, 'student.agreement': 0.75, 'student.acc': 0.25 },
    { 'teacher.loss': 0.5, 'teacher.acc': 0.75, 'student.loss': 1, 'student.agreement': 1, 'student.acc': 0.5 },
  ];
  const reads = t.hostReads();
  for (const s of steps.slice(0, 2)) addStep(totals, s);
  assert.equal(t.hostReads(), reads, 'a step reads nothing');
  totals.flush();
  assert.equal(t.hostReads(), reads + 1, 'one read for two steps of statistics');
  totals.flush();
  assert.equal(t.hostReads(), reads + 1, 'nothing pending: no read');
  addStep(totals, steps[2] as (typeof steps)[number]);
  totals.flush();
  assert.equal(t.hostReads(), reads + 2);
  assert.equal(totals.teacherLoss.mean, 3.5 / 3);
  assert.equal(totals.teacherLoss.count, 3);
  assert.equal(totals.teacherAcc.mean, 0.5);
  assert.equal(totals.studentLoss.mean, 2);
  assert.equal(totals.agreement.mean, 0.75);
  assert.equal(totals.pseudoAcc.count, 0, 'no pseudo-label accuracy without D_u labels');
  assert.deepEqual(totals.last, {
    teacher: { loss: 0.5, acc: 0.75 },
    student: { loss: 1, acc: 0.5, agreement: 1, pseudoLabelAcc: null },
  });
  assert.equal(t.liveTensors(), before, 'nothing held after a flush');
});

test('EpochTotals: a NaN loss among the unread steps stops the flush with NonFiniteError', () => {
  const totals = new EpochTotals(0.025);
  addStep(totals, { 'teacher.loss': 1 });
  addStep(totals, { 'teacher.loss': Number.NaN });
  assert.throws(
    () => totals.flush(),
    (e) => e instanceof NonFiniteError && /teacher training loss is NaN/.test(e.message),
  );
});
