// Genotypes: the discrete cells a search ends with. Frozen plain data, a versioned JSON file
// format checked with zod, and the published genotypes of DARTS, PC-DARTS and P-DARTS.
import { z } from 'zod';
import { PRIMITIVES, type Primitive } from './primitives.js';

/** One edge of a derived cell: the operation and the state it reads (0, 1: cell inputs; 2+: nodes). */
export type Gene = readonly [op: Primitive, input: number];

export interface Genotype {
  readonly normal: readonly Gene[];
  readonly normalConcat: readonly number[];
  readonly reduce: readonly Gene[];
  readonly reduceConcat: readonly number[];
}

export const GENOTYPE_FORMAT = 'lbt-genotype';
export const GENOTYPE_VERSION = 1;

/** Deep-frozen genotype from gene lists (concat defaults to range(2, 2 + nodes)). */
export function makeGenotype(
  normal: readonly (readonly [Primitive, number])[],
  reduce: readonly (readonly [Primitive, number])[],
  normalConcat?: readonly number[],
  reduceConcat?: readonly number[],
): Genotype {
  const range = (genes: readonly unknown[]) => Array.from({ length: genes.length / 2 }, (_, i) => i + 2);
  const genes = (g: readonly (readonly [Primitive, number])[]) =>
    Object.freeze(g.map(([op, i]) => Object.freeze([op, i] as const) as Gene));
  return Object.freeze({
    normal: genes(normal),
    normalConcat: Object.freeze([...(normalConcat ?? range(normal))]),
    reduce: genes(reduce),
    reduceConcat: Object.freeze([...(reduceConcat ?? range(reduce))]),
  });
}

export class GenotypeFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GenotypeFormatError';
  }
}

/** "normal[3][1]: message; ..." from zod issues, so every error names its field. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      const path = i.path.reduce<string>(
        (s, p) => (typeof p === 'number' ? `${s}[${p}]` : s === '' ? String(p) : `${s}.${String(p)}`),
        '',
      );
      return `${path === '' ? '(root)' : path}: ${i.message}`;
    })
    .join('; ');
}

const geneSchema = z.tuple([z.enum(PRIMITIVES), z.number().int().nonnegative()]);

function checkCell(genes: readonly (readonly [string, number])[], concat: readonly number[], cell: string, ctx: z.RefinementCtx) {
  if (genes.length === 0 || genes.length % 2 !== 0) {
    ctx.addIssue({ code: 'custom', path: [cell], message: `needs two genes per node, got ${genes.length} genes` });
    return;
  }
  const states = genes.length / 2 + 2;
  genes.forEach(([, input], k) => {
    const node = Math.floor(k / 2);
    if (input > node + 1) {
      ctx.addIssue({
        code: 'custom',
        path: [cell, k, 1],
        message: `node ${node} can only read states 0..${node + 1}, got input ${input}`,
      });
    }
  });
  const concatName = `${cell}Concat`;
  if (concat.length === 0) ctx.addIssue({ code: 'custom', path: [concatName], message: 'must list at least one state' });
  concat.forEach((s, k) => {
    if (s >= states)
      ctx.addIssue({ code: 'custom', path: [concatName, k], message: `state ${s} does not exist (0..${states - 1})` });
  });
}

/** The file format: {"format":"lbt-genotype","version":1,"normal":[[op,input],...],"normalConcat":[...],...}. */
export const GenotypeFile = z
  .strictObject({
    format: z.literal(GENOTYPE_FORMAT),
    version: z.literal(GENOTYPE_VERSION),
    name: z.string().optional(),
    normal: z.array(geneSchema),
    normalConcat: z.array(z.number().int().nonnegative()),
    reduce: z.array(geneSchema),
    reduceConcat: z.array(z.number().int().nonnegative()),
  })
  .superRefine((g, ctx) => {
    checkCell(g.normal, g.normalConcat, 'normal', ctx);
    checkCell(g.reduce, g.reduceConcat, 'reduce', ctx);
  });
export type GenotypeFile = z.infer<typeof GenotypeFile>;

/** Validates parsed JSON; throws GenotypeFormatError naming every bad field. */
export function parseGenotype(json: unknown): Genotype {
  const r = GenotypeFile.safeParse(json);
  if (!r.success) throw new GenotypeFormatError(`invalid genotype: ${describeIssues(r.error.issues)}`);
  const g = r.data;
  return makeGenotype(g.normal, g.reduce, g.normalConcat, g.reduceConcat);
}

/** Parses genotype JSON text. */
export function genotypeFromJSON(text: string): Genotype {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new GenotypeFormatError(`invalid genotype: not JSON (${(err as Error).message})`);
  }
  return parseGenotype(json);
}

export function toGenotypeFile(g: Genotype, name?: string): GenotypeFile {
  return {
    format: GENOTYPE_FORMAT,
    version: GENOTYPE_VERSION,
    ...(name === undefined ? {} : { name }),
    normal: g.normal.map(([op, i]) => [op, i]),
    normalConcat: [...g.normalConcat],
    reduce: g.reduce.map(([op, i]) => [op, i]),
    reduceConcat: [...g.reduceConcat],
  };
}

/** JSON text, one gene per line (readable and diffable). */
export function genotypeToJSON(g: Genotype, name?: string): string {
  const f = toGenotypeFile(g, name);
  const genes = (gs: readonly (readonly [string, number])[]) =>
    `[\n${gs.map(([op, i]) => `    ${JSON.stringify([op, i])}`).join(',\n')}\n  ]`;
  const lines = [
    `  "format": ${JSON.stringify(f.format)}`,
    `  "version": ${f.version}`,
    ...(f.name === undefined ? [] : [`  "name": ${JSON.stringify(f.name)}`]),
    `  "normal": ${genes(f.normal)}`,
    `  "normalConcat": ${JSON.stringify(f.normalConcat)}`,
    `  "reduce": ${genes(f.reduce)}`,
    `  "reduceConcat": ${JSON.stringify(f.reduceConcat)}`,
  ];
  return `{\n${lines.join(',\n')}\n}\n`;
}

export function genotypesEqual(a: Genotype, b: Genotype): boolean {
  return JSON.stringify(toGenotypeFile(a)) === JSON.stringify(toGenotypeFile(b));
}

// The published genotypes (DA/PC/PD genotypes.py, darts-family.md §4).
const DARTS_V1 = makeGenotype(
  [
    ['sep_conv_3x3', 1],
    ['sep_conv_3x3', 0],
    ['skip_connect', 0],
    ['sep_conv_3x3', 1],
    ['skip_connect', 0],
    ['sep_conv_3x3', 1],
    ['sep_conv_3x3', 0],
    ['skip_connect', 2],
  ],
  [
    ['max_pool_3x3', 0],
    ['max_pool_3x3', 1],
    ['skip_connect', 2],
    ['max_pool_3x3', 0],
    ['max_pool_3x3', 0],
    ['skip_connect', 2],
    ['skip_connect', 2],
    ['avg_pool_3x3', 0],
  ],
);
const DARTS_V2 = makeGenotype(
  [
    ['sep_conv_3x3', 0],
    ['sep_conv_3x3', 1],
    ['sep_conv_3x3', 0],
    ['sep_conv_3x3', 1],
    ['sep_conv_3x3', 1],
    ['skip_connect', 0],
    ['skip_connect', 0],
    ['dil_conv_3x3', 2],
  ],
  [
    ['max_pool_3x3', 0],
    ['max_pool_3x3', 1],
    ['skip_connect', 2],
    ['max_pool_3x3', 1],
    ['max_pool_3x3', 0],
    ['skip_connect', 2],
    ['skip_connect', 2],
    ['max_pool_3x3', 1],
  ],
);
const PC_DARTS_cifar = makeGenotype(
  [
    ['sep_conv_3x3', 1],
    ['skip_connect', 0],
    ['sep_conv_3x3', 0],
    ['dil_conv_3x3', 1],
    ['sep_conv_5x5', 0],
    ['sep_conv_3x3', 1],
    ['avg_pool_3x3', 0],
    ['dil_conv_3x3', 1],
  ],
  [
    ['sep_conv_5x5', 1],
    ['max_pool_3x3', 0],
    ['sep_conv_5x5', 1],
    ['sep_conv_5x5', 2],
    ['sep_conv_3x3', 0],
    ['sep_conv_3x3', 3],
    ['sep_conv_3x3', 1],
    ['sep_conv_3x3', 2],
  ],
);
const PC_DARTS_image = makeGenotype(
  [
    ['skip_connect', 1],
    ['sep_conv_3x3', 0],
    ['sep_conv_3x3', 0],
    ['skip_connect', 1],
    ['sep_conv_3x3', 1],
    ['sep_conv_3x3', 3],
    ['sep_conv_3x3', 1],
    ['dil_conv_5x5', 4],
  ],
  [
    ['sep_conv_3x3', 0],
    ['skip_connect', 1],
    ['dil_conv_5x5', 2],
    ['max_pool_3x3', 1],
    ['sep_conv_3x3', 2],
    ['sep_conv_3x3', 1],
    ['sep_conv_5x5', 0],
    ['sep_conv_3x3', 3],
  ],
);
const PDARTS = makeGenotype(
  [
    ['skip_connect', 0],
    ['dil_conv_3x3', 1],
    ['skip_connect', 0],
    ['sep_conv_3x3', 1],
    ['sep_conv_3x3', 1],
    ['sep_conv_3x3', 3],
    ['sep_conv_3x3', 0],
    ['dil_conv_5x5', 4],
  ],
  [
    ['avg_pool_3x3', 0],
    ['sep_conv_5x5', 1],
    ['sep_conv_3x3', 0],
    ['dil_conv_5x5', 2],
    ['max_pool_3x3', 0],
    ['dil_conv_3x3', 1],
    ['dil_conv_3x3', 1],
    ['dil_conv_5x5', 3],
  ],
);

export const GENOTYPES = Object.freeze({
  DARTS_V1,
  DARTS_V2,
  DARTS: DARTS_V2,
  PC_DARTS_cifar,
  PCDARTS: PC_DARTS_cifar,
  PC_DARTS_image,
  PDARTS,
});
export type GenotypeName = keyof typeof GENOTYPES;

export function isGenotypeName(s: string): s is GenotypeName {
  return Object.hasOwn(GENOTYPES, s);
}

/** Every op that appears in a genotype (for checks). */
export function genotypeOps(g: Genotype): Set<Primitive> {
  return new Set([...g.normal, ...g.reduce].map(([op]) => op));
}
