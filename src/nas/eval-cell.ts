// The evaluation cell (darts-family.md §4): the genotype's ops (affine), two per node, summed;
// drop-path on every op output except Identity.
import * as t from '../torch/index.js';
import type { Genotype } from './genotype.js';
import { ModuleList } from './module-list.js';
import { FactorizedReduce, OPS, ReLUConvBN } from './operations.js';

/** x / keep · Bernoulli(keep), one draw per sample (mask [N, 1, 1, 1]); keep = 1 − p. */
export function dropPath(x: t.Tensor, p: number): t.Tensor {
  if (p <= 0) return x;
  const keep = 1 - p;
  return t.scope(() => {
    const mask = t.bernoulli(t.zeros([x.size(0), 1, 1, 1], { dtype: x.dtype, device: x.device as t.Device }), keep);
    return t.mul(t.div(x, keep), mask);
  });
}

/** The drop-path probability at a 0-based epoch: drop_path_prob · epoch / epochs. */
export function dropPathSchedule(dropPathProb: number, epoch: number, epochs: number): number {
  return (dropPathProb * epoch) / epochs;
}

export interface EvalCellConfig {
  genotype: Genotype;
  cPrevPrev: number;
  cPrev: number;
  C: number;
  reduction: boolean;
  reductionPrev: boolean;
}

export class EvalCell extends t.nn.Module {
  readonly reduction: boolean;
  readonly preprocess0: t.nn.Layer;
  readonly preprocess1: t.nn.Layer;
  readonly ops: ModuleList<t.nn.Layer>;
  readonly indices: readonly number[];
  readonly concat: readonly number[];
  /** Output channels: C · len(concat). */
  readonly multiplier: number;

  constructor(c: EvalCellConfig) {
    super();
    this.reduction = c.reduction;
    this.preprocess0 = this.registerModule(
      'preprocess0',
      c.reductionPrev ? new FactorizedReduce(c.cPrevPrev, c.C, true) : new ReLUConvBN(c.cPrevPrev, c.C, 1, 1, 0, true),
    );
    this.preprocess1 = this.registerModule('preprocess1', new ReLUConvBN(c.cPrev, c.C, 1, 1, 0, true));
    const genes = c.reduction ? c.genotype.reduce : c.genotype.normal;
    this.concat = c.reduction ? c.genotype.reduceConcat : c.genotype.normalConcat;
    this.multiplier = this.concat.length;
    this.indices = genes.map(([, i]) => i);
    this.ops = this.registerModule(
      'ops',
      new ModuleList(genes.map(([op, i]) => OPS[op](c.C, c.reduction && i < 2 ? 2 : 1, true))),
    );
  }

  forward(s0: t.Tensor, s1: t.Tensor, dropProb = 0): t.Tensor {
    return t.scope(() => {
      const states = [this.preprocess0.forward(s0), this.preprocess1.forward(s1)];
      const apply = (k: number) => {
        const op = this.ops.at(k);
        const h = op.forward(states[this.indices[k] as number] as t.Tensor);
        return this.training && dropProb > 0 && !(op instanceof t.nn.Identity) ? dropPath(h, dropProb) : h;
      };
      for (let i = 0; i < this.indices.length / 2; i++) states.push(t.add(apply(2 * i), apply(2 * i + 1)));
      return t.cat(
        this.concat.map((k) => states[k] as t.Tensor),
        1,
      );
    });
  }
}
