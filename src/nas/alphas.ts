// The architecture-values file: {"normal": number[14][ops], "reduce": ..., "betasNormal"?: number[14],
// "betasReduce"?: number[14]}, raw (pre-softmax) values, columns in PRIMITIVES order.
import { z } from 'zod';
import { derivePcDarts, derivePdarts, deriveDarts } from './derive.js';
import { describeIssues, type Genotype } from './genotype.js';
import { numEdges, PRIMITIVES } from './primitives.js';
import type { ArchValues } from './arch.js';
import type { SearchSpace } from './supernet.js';

export class AlphasFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AlphasFormatError';
  }
}

const E = numEdges(4);
const row = (n: number) => z.array(z.number()).length(n, `must hold ${n} numbers`);
const matrix = (cols: number) => z.array(row(cols)).length(E, `must hold ${E} rows (one per edge)`);

function schema(space: SearchSpace) {
  const cols = PRIMITIVES.length;
  const base = { normal: matrix(cols), reduce: matrix(cols) };
  if (space === 'pc-darts') return z.strictObject({ ...base, betasNormal: row(E), betasReduce: row(E) });
  return z.strictObject({ ...base, betasNormal: row(E).optional(), betasReduce: row(E).optional() });
}

/** Validates parsed JSON for a space (PC-DARTS needs the betas); errors name the field. */
export function parseAlphas(json: unknown, space: SearchSpace): ArchValues {
  const r = schema(space).safeParse(json);
  if (!r.success) throw new AlphasFormatError(`invalid alphas: ${describeIssues(r.error.issues)}`);
  return r.data as ArchValues;
}

/** The genotype each space's rule derives (P-DARTS: all eight ops on, skip cap maxSkip). */
export function deriveGenotype(space: SearchSpace, a: ArchValues, o: { maxSkip?: number } = {}): Genotype {
  switch (space) {
    case 'darts':
      return deriveDarts(a.normal, a.reduce);
    case 'pc-darts':
      return derivePcDarts(a.normal, a.reduce, a.betasNormal ?? [], a.betasReduce ?? []);
    case 'p-darts':
      return derivePdarts(a.normal, a.reduce, { maxSkip: o.maxSkip ?? 2 });
  }
}
