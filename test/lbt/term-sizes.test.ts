// The hypergradient's term sizes (measure: true), each checked against the same quantity obtained
// another way from the function's outputs, in float64: a_v is the whole gradient without a student
// (first order); γξλ·u_A is what the student adds to it; g_v and γξλ·u_T are ‖w‖ without the other term.
// Measuring changes nothing in the gradient and reads nothing to the host (the sizes stay on the
// device until the search's meter reads them with the step's other statistics).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_HYPERGRAD, type HypergradConfig, hypergradient, type TermSizes } from '../../src/lbt/index.js';
import * as t from '../../src/torch/index.js';
import { makeToy } from './toy.js';

const close = (a: number | undefined, b: number, what: string) =>
  assert.ok(a !== undefined && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('term sizes: ‖a_v‖, ‖γξλ·u_A‖, ‖g_v‖, ‖γξλ·u_T‖ as the gradients and ‖w‖ of the configurations that isolate them', () => {
  const toy = makeToy(5);
  const before = t.liveTensors();
  t.withDefaultDtype('float64', () => {
    const run = (cfg: Partial<HypergradConfig>, withStudent: boolean, measure = false) => {
      const reads0 = t.hostReads();
      const { grads, stats } = hypergradient({
        teacher: toy.teacher,
        teacherOpt: toy.teacherOpt,
        student: withStudent ? toy.student : null,
        studentOpt: withStudent ? toy.studentOpt : null,
        batches: toy.batches,
        cfg: { ...DEFAULT_HYPERGRAD, lambda: 0.5, gamma: 2, ...cfg },
        measure,
      });
      const reads = t.hostReads() - reads0;
      const flat = grads.flatMap((g) => g.toArray());
      const sizes = stats.sizes && (Object.fromEntries(Object.entries(stats.sizes).map(([k, v]) => [k, v.item()])) as TermSizes);
      t.disposeAll([grads, stats]);
      return { flat, sizes, wNorm: stats.wNorm as number, reads };
    };
    const norm = (v: number[]) => Math.hypot(...v);
    // first order: dO/dA = a_v (no student) and a_v − γξλ·u_A (with one)
    const a = run({ firstOrder: true }, false);
    const lbt1 = run({ firstOrder: true }, true, true);
    const s1 = lbt1.sizes as TermSizes;
    close(s1.aV, norm(a.flat), '‖a_v‖');
    close(s1.uA, norm(lbt1.flat.map((v, i) => v - (a.flat[i] as number))), '‖γξλ·u_A‖');
    assert.ok((s1.uA as number) > 1e-6 && (s1.aV as number) > 1e-6, 'not trivially zero');
    // second order: w = g_v − γξλ·u_T; without the student ‖w‖ = ‖g_v‖, with the student only ‖w‖ = ‖γξλ·u_T‖
    const s2 = run({}, true, true).sizes as TermSizes;
    close(s2.gV, run({}, false).wNorm, '‖g_v‖');
    close(s2.uT, run({ studentOnly: true }, true).wNorm, '‖γξλ·u_T‖');
    // what a configuration lacks is absent; without measure nothing is measured
    assert.deepEqual(Object.keys(run({}, false, true).sizes ?? {}).sort(), ['aV', 'gV']);
    assert.deepEqual(Object.keys(run({ paperForm: true }, true, true).sizes ?? {}).sort(), ['aV', 'gV', 'uT']);
    assert.equal(run({}, true).sizes, undefined);
    // no extra pass: the gradient is bit-identical with and without measuring, and no host read more
    for (const cfg of [{}, { firstOrder: true }]) {
      const [plain, measured] = [run(cfg, true), run(cfg, true, true)];
      assert.deepEqual(measured.flat, plain.flat, 'measuring does not change dO/dA');
      assert.equal(measured.reads, plain.reads, 'the sizes are not read here');
    }
  });
  assert.equal(t.liveTensors(), before, 'no tensor leaked');
  toy.dispose();
});
