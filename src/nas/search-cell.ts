// The search cell (darts-family.md §2): two preprocessed inputs, `steps` nodes, each the sum of
// one edge from every earlier state; the output concatenates the last `multiplier` nodes.
import * as t from '../torch/index.js';
import { fusedNodes } from './fused-cell.js';
import { buildCellPlan, type CellPlan, disposePlan } from './fused-plan.js';
import { prepareConstants } from './fused-weights.js';
import { type Edge, MixedOp } from './mixed-op.js';
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
  /** The fused forward's plan (null: an edge is not a DARTS-family MixedOp; the straightforward forward runs). */
  readonly plan: CellPlan | null;

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
    this.plan = buildCellPlan(edges, c.steps, c.reduction);
    if (this.plan) prepareConstants(this.plan, t.getDefaultDtype(), t.getDefaultDevice());
  }

  /** The P-DARTS skip dropout rate shared by every edge, or null when edges differ (fused forward then off). */
  #dropRate(): number | null {
    const rates = new Set(this.ops.items.map((e) => (e instanceof MixedOp ? e.skipDropRate : 0)));
    return rates.size === 1 ? ([...rates][0] as number) : null;
  }

  /**
   * weights [numEdges, numOps] (softmaxed rows); edgeWeights [numEdges] (PC-DARTS's normalised
   * betas) or null. Node i = Σ_j edgeWeight_{e} · edge_e(state_j), e = offset + j.
   * fused: in training mode, the same function computed with few, large kernels (fused-cell.ts);
   * false runs the straightforward forward (the oracle in tests).
   */
  forward(s0: t.Tensor, s1: t.Tensor, weights: t.Tensor, edgeWeights: t.Tensor | null = null, fused = true): t.Tensor {
    const dropRate = this.#dropRate();
    if (fused && this.plan && this.training && dropRate !== null) {
      const plan = this.plan;
      return t.scope(() => {
        const p0 = this.preprocess0.forward(s0);
        const p1 = this.preprocess1.forward(s1);
        const states = fusedNodes({ plan, s0: p0, s1: p1, weights, edgeWeights, dropRate });
        return t.cat(states.slice(-this.multiplier), 1);
      });
    }
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

  /** Frees the fused statistics (the parameters and buffers are freed by the owning network). */
  disposePlan(): void {
    disposePlan(this.plan);
  }
}
