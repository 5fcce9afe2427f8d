// Algorithm 1's iteration with reuse (the student's weight step from the architect's student
// pass) equals the iteration without it, in float64; the reuse saves the student's forwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as t from '../../src/torch/index.js';
import { Architect, type HypergradConfig, lbtIteration, type MeterReading, type Net, StepMeter } from '../../src/lbt/index.js';
import { makeToy, type Toy } from './toy.js';

const snap = (ts: readonly t.Tensor[]) => ts.map((x) => x.toArray());

function state(toy: Toy): number[][][] {
  return [
    snap(toy.teacher.weights),
    snap(toy.teacher.buffers),
    snap(toy.teacher.arch),
    snap(toy.student.weights),
    snap(toy.student.buffers),
    toy.student.weights.map((_, i) => toy.studentOpt.momentumBuffer(i)?.toArray() ?? []),
    toy.teacher.weights.map((_, i) => toy.teacherOpt.momentumBuffer(i)?.toArray() ?? []),
  ];
}

/** Counts the student's forwards. */
function counting(net: Net): { net: Net; count: () => number } {
  let n = 0;
  return {
    net: {
      ...net,
      forward: (x, w) => {
        n++;
        return net.forward(x, w);
      },
    },
    count: () => n,
  };
}

function iterate(cfg: Partial<HypergradConfig>, pseudoOnly: boolean, reuse: boolean) {
  const toy = makeToy(3);
  const arch = new Architect(toy.teacher, { ...cfg, pseudoOnly });
  const student = counting(toy.student);
  const weights = { lambda: 1, pseudoOnly, teacherGradClip: 5, studentGradClip: 5 };
  const meter = new StepMeter();
  const run = (): MeterReading => {
    lbtIteration({
      teacher: toy.teacher,
      teacherOpt: toy.teacherOpt,
      architect: arch,
      student: student.net,
      studentOpt: toy.studentOpt,
      batches: toy.batches,
      weights,
      reuse,
      meter,
    });
    return meter.read();
  };
  const first = run(); // Adam moments and momentum buffers exist from here on
  const live = t.liveTensors();
  const before = student.count();
  const second = run();
  const out = { stats: [first, second], state: state(toy), forwards: student.count() - before, leaked: t.liveTensors() - live };
  arch.dispose();
  toy.dispose();
  return out;
}

function close(a: unknown, b: unknown, path = ''): void {
  if (typeof a === 'number' && typeof b === 'number') {
    assert.ok(Math.abs(a - b) <= 1e-11 * Math.max(1, Math.abs(a)), `${path}: ${a} vs ${b}`);
  } else if (Array.isArray(a) && Array.isArray(b)) {
    assert.equal(a.length, b.length, `${path}: length`);
    a.forEach((v, i) => close(v, b[i], `${path}[${i}]`));
  } else if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of Object.keys(a)) close((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
  } else assert.equal(a, b, path);
}

for (const [name, cfg, pseudoOnly] of [
  ['LBT, second order', {}, false],
  ['LBT, first order', { firstOrder: true }, false],
  ['LBT, pseudo-labels only (ablation)', {}, true],
] as const) {
  test(`${name}: two iterations with reuse equal two without (weights, A, BN statistics, momentum, stats)`, () => {
    const a = iterate(cfg, pseudoOnly, true);
    const b = iterate(cfg, pseudoOnly, false);
    close(a.state, b.state, 'state');
    close(a.stats, b.stats, 'stats');
    // the student's forwards per iteration: unrolled step (D_tr, D_u; D_u only when pseudo-only),
    // validation at S', two at S ± εh for the cotangent, and the weight step's (D_tr reused)
    const pass = pseudoOnly ? 1 : 2;
    assert.equal(b.forwards, pass + 1 + 2 + pass);
    assert.equal(a.forwards, pass + 1 + 2 + 1);
    assert.equal(a.leaked, 0, 'no tensor leaks with reuse');
    assert.equal(b.leaked, 0);
  });
}
