import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deriveDarts, derivePcDarts, derivePdarts } from '../../src/nas/derive.js';
import { dropOps, skipDropRate } from '../../src/nas/p-darts.js';
import { PRIMITIVES, type Primitive } from '../../src/nas/primitives.js';

/** 14 rows of zeros with some entries set: {edge: {op: value}}. */
function alphas(set: Record<number, Partial<Record<Primitive, number>>> = {}, base: Partial<Record<Primitive, number>> = {}) {
  return Array.from({ length: 14 }, (_, e) => PRIMITIVES.map((p) => set[e]?.[p] ?? base[p] ?? 0));
}

describe('DARTS rule', () => {
  test('uniform alphas: every node takes max_pool_3x3 from inputs 0 and 1 (ties: lower index)', () => {
    const g = deriveDarts(alphas(), alphas());
    const expected = Array.from({ length: 4 }, () => [
      ['max_pool_3x3', 0],
      ['max_pool_3x3', 1],
    ]).flat();
    assert.deepEqual(g.normal, expected);
    assert.deepEqual(g.reduce, expected);
    assert.deepEqual(g.normalConcat, [2, 3, 4, 5]);
    assert.deepEqual(g.reduceConcat, [2, 3, 4, 5]);
  });

  test('strongest edge first, none ignored for strength and op, op ties to the lower index', () => {
    const normal = alphas({
      // node 0: edge 1 stronger than edge 0
      0: { dil_conv_3x3: 1 },
      1: { sep_conv_5x5: 2 },
      // node 1 (edges 2..4): edge 2 has a huge `none` but weak ops; edge 4 strongest, edge 3 next
      2: { none: 10, avg_pool_3x3: 0.1 },
      3: { sep_conv_3x3: 1, dil_conv_3x3: 1 },
      4: { skip_connect: 3 },
      // node 2 (edges 5..8): edges 6 and 8 tie exactly: the lower input comes first
      6: { dil_conv_5x5: 2 },
      8: { dil_conv_5x5: 2 },
      // node 3 (edges 9..13): edges 12 and 10
      10: { max_pool_3x3: 1 },
      12: { avg_pool_3x3: 1.5 },
    });
    const g = deriveDarts(normal, alphas());
    assert.deepEqual(g.normal, [
      ['sep_conv_5x5', 1],
      ['dil_conv_3x3', 0],
      ['skip_connect', 2],
      ['sep_conv_3x3', 1],
      ['dil_conv_5x5', 1],
      ['dil_conv_5x5', 3],
      ['avg_pool_3x3', 3],
      ['max_pool_3x3', 1],
    ]);
  });

  test('values equal in float32 compare equal, as in the reference (ties go to the lower input)', () => {
    const normal = alphas({ 0: { sep_conv_3x3: 1 }, 1: { sep_conv_3x3: 1 + 1e-12 } });
    assert.deepEqual(deriveDarts(normal, alphas()).normal.slice(0, 2), [
      ['sep_conv_3x3', 0],
      ['sep_conv_3x3', 1],
    ]);
  });

  test('bad shapes name the row', () => {
    assert.throws(() => deriveDarts(alphas().slice(1), alphas()), /normal: expected 14 rows/);
    const r = alphas();
    r[5] = [1, 2, 3];
    assert.throws(() => deriveDarts(alphas(), r), /reduce\[5\]: expected 8 values, got 3/);
  });
});

describe('PC-DARTS rule (β-weighted)', () => {
  test('betas re-rank edges; the op is still the row argmax', () => {
    const normal = alphas({ 2: { sep_conv_3x3: 2 }, 3: { dil_conv_3x3: 1 }, 4: { max_pool_3x3: 1 } });
    const betas = new Array(14).fill(0);
    // without betas, node 1 takes edges 2 then 3 (tie 3/4 → lower)
    assert.deepEqual(derivePcDarts(normal, alphas(), betas, betas).normal.slice(2, 4), [
      ['sep_conv_3x3', 0],
      ['dil_conv_3x3', 1],
    ]);
    const b = [...betas];
    b[2] = -10; // edge 2 is all but switched off
    b[4] = 0.5; // edge 4 now beats edge 3
    assert.deepEqual(derivePcDarts(normal, alphas(), b, betas).normal.slice(2, 4), [
      ['max_pool_3x3', 2],
      ['dil_conv_3x3', 1],
    ]);
  });

  test('missing betas are an error', () => {
    assert.throws(() => derivePcDarts(alphas(), alphas(), [], new Array(14).fill(0)), /betasNormal: expected 14 values, got 0/);
  });
});

describe('P-DARTS rule', () => {
  test('node 0 keeps both inputs; genes in ascending input order; edge and op ties go to the higher index', () => {
    const normal = alphas(
      {
        0: { sep_conv_3x3: 0.5 },
        1: { dil_conv_3x3: 3 },
        // node 1: edge 4 strongest, then edges 2 and 3 tie exactly: the higher (3) wins
        4: { dil_conv_5x5: 3 },
        // op tie on edge 3: sep_conv_3x3 = dil_conv_3x3 → the later one
        3: { sep_conv_3x3: 1, dil_conv_3x3: 1 },
        2: { sep_conv_3x3: 1, dil_conv_3x3: 1 },
      },
      { none: 5 },
    );
    const g = derivePdarts(normal, alphas());
    assert.deepEqual(g.normal.slice(0, 4), [
      ['sep_conv_3x3', 0],
      ['dil_conv_3x3', 1],
      ['dil_conv_3x3', 1],
      ['dil_conv_5x5', 2],
    ]);
    // uniform: last op (dil_conv_5x5) and, for nodes 1-3, the two highest inputs
    assert.deepEqual(derivePdarts(alphas(), alphas()).reduce, [
      ['dil_conv_5x5', 0],
      ['dil_conv_5x5', 1],
      ['dil_conv_5x5', 1],
      ['dil_conv_5x5', 2],
      ['dil_conv_5x5', 2],
      ['dil_conv_5x5', 3],
      ['dil_conv_5x5', 3],
      ['dil_conv_5x5', 4],
    ]);
  });

  test('skip-connect cap: the weakest selected skip loses its probability and edges are re-picked', () => {
    const normal = alphas(
      { 0: { skip_connect: 2 }, 1: { skip_connect: 2.1 }, 3: { skip_connect: 2.2 }, 4: { skip_connect: 2.3 } },
      { sep_conv_3x3: 1 },
    );
    const sep = (i: number) => ['sep_conv_3x3', i];
    const skip = (i: number) => ['skip_connect', i];
    const tail = [sep(2), sep(3), sep(3), sep(4)];
    assert.deepEqual(derivePdarts(normal, alphas(), { maxSkip: Number.POSITIVE_INFINITY }).normal, [
      skip(0),
      skip(1),
      skip(1),
      skip(2),
      ...tail,
    ]);
    assert.deepEqual(derivePdarts(normal, alphas(), { maxSkip: 2 }).normal, [sep(0), sep(1), skip(1), skip(2), ...tail]);
    // M = 0: edge 3 loses its skip and drops below edge 2 (a plain sep), then edge 4 follows
    assert.deepEqual(derivePdarts(normal, alphas(), { maxSkip: 0 }).normal, [sep(0), sep(1), sep(0), sep(1), ...tail]);
    // the reduction cell is never capped
    assert.deepEqual(derivePdarts(alphas(), normal, { maxSkip: 0 }).reduce.slice(0, 4), [skip(0), skip(1), skip(1), skip(2)]);
  });

  test('op subsets per edge (the 3 ops left after stage 2)', () => {
    const ops = Array.from({ length: 14 }, () => ['none', 'skip_connect', 'sep_conv_5x5'] as const);
    const a = Array.from({ length: 14 }, () => [9, 0, 1]);
    const g = derivePdarts(a, a, { opsNormal: ops, opsReduce: ops });
    assert.ok(g.normal.every(([op]) => op === 'sep_conv_5x5'));
    assert.throws(() => derivePdarts(alphas(), alphas(), { opsReduce: ops }), /reduce\[0\]: expected 3 values, got 8/);
  });

  test('dropOps: the lowest ops go (first minimum first); the last stage drops none first', () => {
    const ops = [['none', 'max_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'dil_conv_3x3'] as const];
    assert.deepEqual(dropOps([[5, 0, 1, 1, 2]], ops, 2, false), [['none', 'sep_conv_3x3', 'dil_conv_3x3']]);
    assert.deepEqual(dropOps([[5, 0, 1, 1, 2]], ops, 2, true), [['skip_connect', 'sep_conv_3x3', 'dil_conv_3x3']]);
  });

  test('skip dropout schedule (dr = 0.4): e0 0.384, e9 0.24, e10 0.4, e24 0.0243', () => {
    const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-4, `${a} vs ${b}`);
    close(skipDropRate(0.4, 0), 0.384);
    close(skipDropRate(0.4, 9), 0.24);
    close(skipDropRate(0.4, 10), 0.4);
    close(skipDropRate(0.4, 24), 0.0243);
  });
});
