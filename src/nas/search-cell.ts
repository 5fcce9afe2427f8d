// The search cell (darts-family.md §2): two preprocessed inputs, `steps` nodes, each the sum of
// one edge from every earlier state; the output concatenates the last `multiplier` nodes.
import * as t from '../torch/index.js';
import type { Edge } from './mixed-op.js';
import { ModuleList } from './module-list.js';
import { FactorizedReduce, ReLUConvBN, type Stride } from './operations.js';

export interface SearchCellConfig {
  steps: number;
  multiplier: number;
  cPrevPrev: number;
  cPrev: number;
  C: number;
  reduction: boolean;
  reductionPrev: boolean;
  /** Builds edge `index` (strided iff a reduction cell's edge from a cell input). */
  makeEdge: (C: number, stride: Stride, index: number) => Edge;
}

export class SearchCell extends t.nn.Module {
  readonly reduction: boolean;
  readonly steps: number;
  readonly multiplier: number;
  readonly preprocess0: t.nn.Layer;
  readonly preprocess1: t.nn.Layer;
  readonly ops: ModuleList<Edge>;

  constructor(c: SearchCellConfig) {
    super();
    this.reduction = c.reduction;
    this.steps = c.steps;
    this.multiplier = c.multiplier;
    this.preprocess0 = this.registerModule(
      'preprocess0',
      c.reductionPrev ? new FactorizedReduce(c.cPrevPrev, c.C, false) : new ReLUConvBN(c.cPrevPrev, c.C, 1, 1, 0, false),
    );
    this.preprocess1 = this.registerModule('preprocess1', new ReLUConvBN(c.cPrev, c.C, 1, 1, 0, false));
    const edges: Edge[] = [];
    for (let i = 0; i < c.steps; i++) {
      for (let j = 0; j < 2 + i; j++) edges.push(c.makeEdge(c.C, c.reduction && j < 2 ? 2 : 1, edges.length));
    }
    this.ops = this.registerModule('ops', new ModuleList(edges));
  }

  /**
   * weights [numEdges, numOps] (softmaxed rows); edgeWeights [numEdges] (PC-DARTS's normalised
   * betas) or null. Node i = Σ_j edgeWeight_{e} · edge_e(state_j), e = offset + j.
   */
  forward(s0: t.Tensor, s1: t.Tensor, weights: t.Tensor, edgeWeights: t.Tensor | null = null): t.Tensor {
    return t.scope(() => {
      const states = [this.preprocess0.forward(s0), this.preprocess1.forward(s1)];
      let offset = 0;
      for (let i = 0; i < this.steps; i++) {
        let s: t.Tensor | null = null;
        for (let j = 0; j < states.length; j++) {
          const e = offset + j;
          let h = this.ops.at(e).forward(states[j] as t.Tensor, t.narrow(weights, 0, e, 1));
          if (edgeWeights) h = t.mul(h, t.narrow(edgeWeights, 0, e, 1));
          s = s === null ? h : t.add(s, h);
        }
        offset += states.length;
        states.push(s as t.Tensor);
      }
      return t.cat(states.slice(-this.multiplier), 1);
    });
  }
}
