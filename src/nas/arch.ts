// The architecture parameters A of a supernet, in one representation: a record of named tensors
// (alphas per cell type, and PC-DARTS's edge betas). Every other form is derived here from ARCH_KEYS:
// the optimizer's list, the names in a checkpoint, and the numbers that genotypes, snapshots and the
// alphas file are made of. A new kind of architecture parameter is one more key.
import * as t from '../torch/index.js';

/** The keys of A, in the order of the optimizer's list (the reference's arch_parameters()). */
export const ARCH_KEYS = ['normal', 'reduce', 'betasNormal', 'betasReduce'] as const;
export type ArchKey = (typeof ARCH_KEYS)[number];

/** Alphas [numEdges, numOps] per cell type (raw, pre-softmax); PC-DARTS adds betas [numEdges]. */
export interface ArchParams {
  normal: t.Tensor;
  reduce: t.Tensor;
  betasNormal?: t.Tensor;
  betasReduce?: t.Tensor;
}

/** The same values as plain numbers (genotype derivation, JSON files). */
export interface ArchValues {
  normal: number[][];
  reduce: number[][];
  betasNormal?: number[];
  betasReduce?: number[];
}

/** The tensors of A that are present, named, in ARCH_KEYS order (a checkpoint stores them under these names). */
export function archEntries(a: ArchParams): [ArchKey, t.Tensor][] {
  return ARCH_KEYS.flatMap((k) => (a[k] ? [[k, a[k]] as [ArchKey, t.Tensor]] : []));
}

/** A as the optimizer's list. */
export function archList(a: ArchParams): t.Tensor[] {
  return archEntries(a).map(([, x]) => x);
}

/** The inverse of archList: 2 tensors (alphas) or 4 (alphas and betas). */
export function archFromList(list: readonly t.Tensor[]): ArchParams {
  if (list.length !== 2 && list.length !== 4) throw new RangeError(`architecture: expected 2 or 4 tensors, got ${list.length}`);
  return Object.fromEntries(list.map((x, i) => [ARCH_KEYS[i], x])) as unknown as ArchParams;
}

/** 1e-3 · randn(shape), requiring grad, outside every scope. */
export function initArchTensor(shape: readonly number[]): t.Tensor {
  const a = t.scope(() => t.mul(t.randn(shape), 1e-3));
  t.keep(a);
  return a.requiresGrad_(true);
}

function flat(x: t.Tensor): number[] {
  return t.noGrad(() => t.scope(() => t.to(x, { dtype: 'float64', device: 'cpu' }).toArray()));
}

function rows(x: t.Tensor): number[][] {
  const [r = 0, c = 0] = x.shape;
  const v = flat(x);
  return Array.from({ length: r }, (_, i) => v.slice(i * c, (i + 1) * c));
}

/** Reads A into plain numbers. */
export function archValues(a: ArchParams): ArchValues {
  const v: ArchValues = { normal: rows(a.normal), reduce: rows(a.reduce) };
  if (a.betasNormal) v.betasNormal = flat(a.betasNormal);
  if (a.betasReduce) v.betasReduce = flat(a.betasReduce);
  return v;
}

/** Copies numbers into the tensors of A (the keys both have; shapes must match). */
export function loadArchValues(a: ArchParams, values: ArchValues): void {
  t.noGrad(() =>
    t.scope(() => {
      for (const [k, dst] of archEntries(a)) {
        const src = values[k];
        if (!src) continue;
        t.copyInPlace(dst, t.tensor((src as (number | number[])[]).flat(), dst.shape, { dtype: dst.dtype }));
      }
    }),
  );
}

/** Copies tensors into the tensors of A, every key of A required (a checkpoint's arch/ group); names the first one missing. */
export function loadArchTensors(a: ArchParams, from: ReadonlyMap<string, t.Tensor>): ArchKey | null {
  for (const [k] of archEntries(a)) if (!from.has(k)) return k;
  t.noGrad(() => {
    for (const [k, dst] of archEntries(a)) t.copyInPlace(dst, from.get(k) as t.Tensor);
  });
  return null;
}
