// P-DARTS (darts-family.md §6): progressive stages of deeper supernets over shrinking op sets,
// with dropout after the skip connection. Each stage builds a fresh network from `ops` lists.
import { derivePdarts, softmaxRow } from './derive.js';
import { MixedOp } from './mixed-op.js';
import { PDARTS_OPS } from './operations.js';
import { numEdges, PRIMITIVES, type Primitive } from './primitives.js';
import { SearchNetwork } from './supernet.js';

export type EdgeOps = readonly (readonly Primitive[])[];

export interface PdartsSupernetOptions {
  C?: number;
  numClasses?: number;
  /** 5, 11 and 17 cells in the three reference stages. */
  layers?: number;
  inChannels?: number;
  /** 'cifar' (default): conv3x3 stem; 'imagenet': three stride-2 convs (large inputs). */
  stem?: 'cifar' | 'imagenet';
  /** Ops on, per edge (PRIMITIVES order), for normal and reduction cells; default all eight. */
  opsNormal?: EdgeOps;
  opsReduce?: EdgeOps;
  /** Dropout rate after every stride-1 skip_connect (settable later with setSkipDropRate). */
  skipDropRate?: number;
  /** Skip-connect cap used by genotype() (the paper's M = 2). */
  maxSkip?: number;
}

export function allOps(edges = numEdges(4)): EdgeOps {
  return Array.from({ length: edges }, () => PRIMITIVES);
}

export function createPdartsSupernet(o: PdartsSupernetOptions = {}): SearchNetwork {
  const opsNormal = o.opsNormal ?? allOps();
  const opsReduce = o.opsReduce ?? allOps();
  const numOps = (opsNormal[0] ?? []).length;
  for (const [name, ops] of [
    ['opsNormal', opsNormal],
    ['opsReduce', opsReduce],
  ] as const) {
    if (ops.length !== numEdges(4)) throw new RangeError(`createPdartsSupernet: ${name} must list ${numEdges(4)} edges`);
    ops.forEach((l, i) => {
      if (l.length !== numOps)
        throw new RangeError(`createPdartsSupernet: ${name}[${i}] has ${l.length} ops, expected ${numOps}`);
    });
  }
  const net = new SearchNetwork({
    space: 'p-darts',
    C: o.C ?? 16,
    numClasses: o.numClasses ?? 10,
    layers: o.layers ?? 5,
    inChannels: o.inChannels ?? 3,
    stem: o.stem ?? 'cifar',
    numOps,
    makeEdge: (C, stride, index, reduction) =>
      new MixedOp(C, stride, {
        primitives: (reduction ? opsReduce : opsNormal)[index] as readonly Primitive[],
        ops: PDARTS_OPS,
        skipDropout: true,
      }),
    derive: (a) => derivePdarts(a.normal, a.reduce, { opsNormal, opsReduce, maxSkip: o.maxSkip ?? 2 }),
  });
  net.setSkipDropRate(o.skipDropRate ?? 0);
  return net;
}

/**
 * The per-epoch skip dropout rate within a stage (PD update_p): dr·(E−e−1)/E for e < warmup,
 * dr·exp(−(e−warmup)·0.2) after (E = 25 epochs, warmup = 10 by default).
 */
export function skipDropRate(initial: number, epoch: number, epochs = 25, warmup = 10): number {
  return epoch < warmup ? (initial * (epochs - epoch - 1)) / epochs : initial * Math.exp(-(epoch - warmup) * 0.2);
}

/** Index of the first minimum, as numpy's argmin. */
function argmin(v: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if ((v[i] as number) < (v[best] as number)) best = i;
  return best;
}

/**
 * Drops `count` ops per edge after a stage, from raw alphas [edges][ops on] (PD get_min_k and,
 * for the last stage, get_min_k_no_zero: `none` goes first, then the lowest others).
 */
export function dropOps(alphas: readonly (readonly number[])[], ops: EdgeOps, count: number, lastStage: boolean): EdgeOps {
  if (alphas.length !== ops.length) throw new RangeError(`dropOps: ${alphas.length} alpha rows for ${ops.length} edges`);
  return ops.map((on, i) => {
    const p = softmaxRow(alphas[i] as readonly number[]);
    if (p.length !== on.length) throw new RangeError(`dropOps: edge ${i} has ${on.length} ops but ${p.length} alphas`);
    if (count >= on.length) throw new RangeError(`dropOps: cannot drop ${count} of ${on.length} ops on edge ${i}`);
    const dropped = new Set<number>();
    let k = count;
    if (lastStage && on[0] === 'none') {
      dropped.add(0);
      p[0] = Number.POSITIVE_INFINITY;
      k--;
    }
    for (let j = 0; j < k; j++) {
      const d = argmin(p);
      dropped.add(d);
      p[d] = Number.POSITIVE_INFINITY;
    }
    return on.filter((_, j) => !dropped.has(j));
  });
}
