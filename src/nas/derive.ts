// Deriving a genotype from raw (pre-softmax) architecture values, exactly as the reference code
// does (darts-family.md §2, §5, §6). Pure functions over plain numbers.
import { makeGenotype, type Gene, type Genotype } from './genotype.js';
import { nodeEdges, numEdges, PRIMITIVES, type Primitive } from './primitives.js';

/**
 * Softmax of one row, rounded to float32: the reference computes it in float32 (torch, then
 * numpy), so values that are equal there must compare equal here.
 */
export function softmaxRow(row: readonly number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => Math.fround(v / s));
}

function checkMatrix(what: string, m: readonly (readonly number[])[], edges: number, cols: number): void {
  if (m.length !== edges) throw new RangeError(`${what}: expected ${edges} rows (edges), got ${m.length}`);
  m.forEach((r, i) => {
    if (r.length !== cols) throw new RangeError(`${what}[${i}]: expected ${cols} values, got ${r.length}`);
    r.forEach((v, j) => {
      if (!Number.isFinite(v)) throw new RangeError(`${what}[${i}][${j}]: not a finite number (${v})`);
    });
  });
}

const NONE = PRIMITIVES.indexOf('none');

/**
 * The DARTS rule on weights W [numEdges][8] (PRIMITIVES columns): per node, keep the two edges
 * with the largest non-none weight (stable sort: ties go to the lower input), strongest first;
 * each edge's op is the first non-none argmax (strict >).
 */
function parseDarts(W: readonly (readonly number[])[], steps: number): Gene[] {
  const genes: Gene[] = [];
  for (let i = 0; i < steps; i++) {
    const { start, count } = nodeEdges(i);
    const strength = (j: number) => Math.max(...(W[start + j] as number[]).filter((_, k) => k !== NONE));
    const order = Array.from({ length: count }, (_, j) => j).sort((a, b) => strength(b) - strength(a));
    for (const j of order.slice(0, 2)) {
      const row = W[start + j] as number[];
      let best = -1;
      for (let k = 0; k < row.length; k++) {
        if (k !== NONE && (best < 0 || (row[k] as number) > (row[best] as number))) best = k;
      }
      genes.push([PRIMITIVES[best] as Primitive, j]);
    }
  }
  return genes;
}

const concat = (steps: number) => Array.from({ length: steps }, (_, i) => i + 2);

/** DARTS: softmax each row of the raw alphas [14][8], then the DARTS rule; concat = 2..5. */
export function deriveDarts(normal: readonly (readonly number[])[], reduce: readonly (readonly number[])[], steps = 4): Genotype {
  const e = numEdges(steps);
  checkMatrix('normal', normal, e, PRIMITIVES.length);
  checkMatrix('reduce', reduce, e, PRIMITIVES.length);
  return makeGenotype(
    parseDarts(normal.map(softmaxRow), steps),
    parseDarts(reduce.map(softmaxRow), steps),
    concat(steps),
    concat(steps),
  );
}

/** Per-node softmax of raw betas [numEdges], in float32 like the reference. */
export function normalizeBetaValues(betas: readonly number[], steps = 4): number[] {
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const { start, count } = nodeEdges(i);
    out.push(...softmaxRow(betas.slice(start, start + count)));
  }
  return out;
}

/** PC-DARTS: row e of softmax(α) scaled by β̃_e (float32 product), then the DARTS rule. */
export function derivePcDarts(
  normal: readonly (readonly number[])[],
  reduce: readonly (readonly number[])[],
  betasNormal: readonly number[],
  betasReduce: readonly number[],
  steps = 4,
): Genotype {
  const e = numEdges(steps);
  checkMatrix('normal', normal, e, PRIMITIVES.length);
  checkMatrix('reduce', reduce, e, PRIMITIVES.length);
  for (const [what, b] of [
    ['betasNormal', betasNormal],
    ['betasReduce', betasReduce],
  ] as const) {
    if (b.length !== e) throw new RangeError(`${what}: expected ${e} values, got ${b.length}`);
    b.forEach((v, i) => {
      if (!Number.isFinite(v)) throw new RangeError(`${what}[${i}]: not a finite number (${v})`);
    });
  }
  const weigh = (alphas: readonly (readonly number[])[], betas: readonly number[]) => {
    const b = normalizeBetaValues(betas, steps);
    return alphas.map((row, j) => softmaxRow(row).map((w) => Math.fround(w * (b[j] as number))));
  };
  return makeGenotype(
    parseDarts(weigh(normal, betasNormal), steps),
    parseDarts(weigh(reduce, betasReduce), steps),
    concat(steps),
    concat(steps),
  );
}

export interface PdartsDeriveOptions {
  /** The ops still on per edge (PRIMITIVES order), one list per alpha row; default all eight. */
  opsNormal?: readonly (readonly Primitive[])[];
  opsReduce?: readonly (readonly Primitive[])[];
  /** Skip-connect cap in the normal cell (the paper's M = 2); Infinity for none. */
  maxSkip?: number;
}

interface EdgeChoice {
  op: number; // index into the edge's on-list
  strength: number;
}

/** The last maximum among non-none ops: what dropping the lowest ops one at a time leaves. */
function pickOp(probs: readonly number[], ops: readonly Primitive[]): EdgeChoice {
  let op = -1;
  for (let k = 0; k < probs.length; k++) {
    if (ops[k] !== 'none' && (op < 0 || (probs[k] as number) >= (probs[op] as number))) op = k;
  }
  return { op, strength: Math.max(...probs) };
}

/** Node 0 keeps edges 0 and 1; later nodes their two strongest (ascending sort, take the last two). */
function keepEdges(strength: readonly number[], steps: number): Set<number> {
  const keep = new Set([0, 1]);
  for (let i = 1; i < steps; i++) {
    const { start, count } = nodeEdges(i);
    const order = Array.from({ length: count }, (_, j) => j).sort(
      (a, b) => (strength[start + a] as number) - (strength[start + b] as number),
    );
    keep.add(start + (order[count - 1] as number));
    keep.add(start + (order[count - 2] as number));
  }
  return keep;
}

function selectCell(probs: readonly (readonly number[])[], ops: readonly (readonly Primitive[])[], steps: number) {
  const choice = probs.map((p, e) => pickOp(p, ops[e] as readonly Primitive[]));
  const keep = keepEdges(
    choice.map((c) => c.strength),
    steps,
  );
  return { choice, keep };
}

/** Genes in ascending edge (so ascending input) order within each node. */
function pdartsGenes(sel: ReturnType<typeof selectCell>, ops: readonly (readonly Primitive[])[], steps: number): Gene[] {
  const genes: Gene[] = [];
  for (let i = 0; i < steps; i++) {
    const { start, count } = nodeEdges(i);
    for (let j = 0; j < count; j++) {
      const e = start + j;
      if (sel.keep.has(e)) genes.push([(ops[e] as readonly Primitive[])[(sel.choice[e] as EdgeChoice).op] as Primitive, j]);
    }
  }
  return genes;
}

/**
 * P-DARTS's final cell (PD train_search.py after the last stage): zero the prob of `none`, one op
 * per edge (last non-none argmax), node 0 keeps both inputs, other nodes their two strongest
 * edges; then, in the normal cell only, while more than maxSkip kept edges are skip_connect, zero
 * the weakest selected skip's prob and re-select.
 */
export function derivePdarts(
  normal: readonly (readonly number[])[],
  reduce: readonly (readonly number[])[],
  o: PdartsDeriveOptions = {},
  steps = 4,
): Genotype {
  const e = numEdges(steps);
  const all = Array.from({ length: e }, () => PRIMITIVES);
  const opsN = o.opsNormal ?? all;
  const opsR = o.opsReduce ?? all;
  const check = (what: string, alphas: readonly (readonly number[])[], ops: readonly (readonly Primitive[])[]) => {
    if (ops.length !== e) throw new RangeError(`${what}: expected ops for ${e} edges, got ${ops.length}`);
    checkMatrix(what, alphas, e, (ops[0] as readonly Primitive[]).length);
    ops.forEach((l, i) => {
      if (l.length !== alphas[i]?.length)
        throw new RangeError(`${what}[${i}]: ${l.length} ops on but ${alphas[i]?.length} alphas`);
      if (l.every((p) => p === 'none')) throw new RangeError(`${what}[${i}]: no op other than none is on`);
    });
  };
  check('normal', normal, opsN);
  check('reduce', reduce, opsR);
  const probsOf = (alphas: readonly (readonly number[])[], ops: readonly (readonly Primitive[])[]) =>
    alphas.map((row, i) => softmaxRow(row).map((p, k) => ((ops[i] as readonly Primitive[])[k] === 'none' ? 0 : p)));
  const pN = probsOf(normal, opsN);
  const pR = probsOf(reduce, opsR);
  const maxSkip = o.maxSkip ?? Number.POSITIVE_INFINITY;
  let selN = selectCell(pN, opsN, steps);
  const skipOf = (i: number) => (opsN[i] as readonly Primitive[]).indexOf('skip_connect');
  const selectedSkips = () =>
    [...selN.keep].filter((i) => (opsN[i] as readonly Primitive[])[(selN.choice[i] as EdgeChoice).op] === 'skip_connect');
  while (selectedSkips().length > maxSkip) {
    // The weakest selected skip (first in edge order among equals) loses its probability.
    let weakest = -1;
    for (let i = 0; i < e; i++) {
      if (!selectedSkips().includes(i)) continue;
      const p = (pN[i] as number[])[skipOf(i)] as number;
      if (weakest < 0 || p < ((pN[weakest] as number[])[skipOf(weakest)] as number)) weakest = i;
    }
    (pN[weakest] as number[])[skipOf(weakest)] = 0;
    selN = selectCell(pN, opsN, steps);
  }
  return makeGenotype(
    pdartsGenes(selN, opsN, steps),
    pdartsGenes(selectCell(pR, opsR, steps), opsR, steps),
    concat(steps),
    concat(steps),
  );
}
