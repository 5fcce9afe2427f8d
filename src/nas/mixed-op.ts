// The search-time edge: a softmax-weighted sum of every candidate operation (darts-family.md §2),
// with the P-DARTS extensions (any subset of primitives, dropout after the stride-1 skip, §6).
import * as t from '../torch/index.js';
import { ModuleList } from './module-list.js';
import { OPS, type OpFactory, type Stride } from './operations.js';
import { PRIMITIVES, type Primitive } from './primitives.js';

/** What a search cell needs from an edge: x and the edge's op weights [numOps] give one output. */
export interface Edge extends t.nn.Module {
  forward(x: t.Tensor, weights: t.Tensor): t.Tensor;
}

export interface MixedOpOptions {
  /** The candidate operations, in PRIMITIVES order (default: all eight). */
  primitives?: readonly Primitive[];
  /** The operation table (OPS, or PDARTS_OPS for P-DARTS's Zero). */
  ops?: Readonly<Record<Primitive, OpFactory>>;
  /** Wrap the stride-1 skip as Identity → Dropout(p), p settable later (P-DARTS). */
  skipDropout?: boolean;
}

/** Builds a search-time op: affine off, and every pool followed by BN(C, affine=false). */
export function searchOp(
  primitive: Primitive,
  C: number,
  stride: Stride,
  table: Readonly<Record<Primitive, OpFactory>> = OPS,
): t.nn.Layer {
  const op = table[primitive](C, stride, false);
  if (primitive.includes('pool')) return new t.nn.Sequential(op, new t.nn.BatchNorm2d(C, { affine: false }));
  return op;
}

export class MixedOp extends t.nn.Module implements Edge {
  readonly ops: ModuleList<t.nn.Layer>;
  readonly primitives: readonly Primitive[];
  /** Channels every candidate operation sees. */
  readonly opChannels: number;
  readonly #dropouts: t.nn.Dropout[] = [];

  constructor(C: number, stride: Stride, o: MixedOpOptions = {}) {
    super();
    this.opChannels = C;
    this.primitives = o.primitives ?? PRIMITIVES;
    if (this.primitives.length === 0) throw new RangeError('MixedOp: needs at least one primitive');
    const layers = this.primitives.map((p) => {
      const op = searchOp(p, C, stride, o.ops);
      if (o.skipDropout && op instanceof t.nn.Identity) {
        const drop = new t.nn.Dropout(0);
        this.#dropouts.push(drop);
        return new t.nn.Sequential(op, drop);
      }
      return op;
    });
    this.ops = this.registerModule('ops', new ModuleList(layers));
  }

  /** The dropout rate after the stride-1 skip (0 when built without skipDropout). */
  get skipDropRate(): number {
    return this.#dropouts[0]?.p ?? 0;
  }

  /** Sets the dropout rate after the stride-1 skip (no effect unless built with skipDropout). */
  setSkipDropRate(p: number): void {
    for (const d of this.#dropouts) d.p = p;
  }

  /**
   * Σ_o w_o · op_o(x), weights [numOps] (already softmaxed). The `none` term is skipped: it is
   * exactly zero, and so is the gradient it would send to its weight.
   */
  forward(x: t.Tensor, weights: t.Tensor): t.Tensor {
    const n = this.primitives.length;
    if (weights.numel !== n) throw new RangeError(`MixedOp: ${n} ops but ${weights.numel} weights`);
    return t.scope(() => {
      const w = t.reshape(weights, [n]);
      let acc: t.Tensor | null = null;
      for (let i = 0; i < n; i++) {
        if (this.primitives[i] === 'none' && n > 1) continue;
        const term = t.mul(this.ops.at(i).forward(x), t.narrow(w, 0, i, 1));
        acc = acc === null ? term : t.add(acc, term);
      }
      return acc as t.Tensor;
    });
  }
}
