// The static plan of a search cell's fused forward (fused-cell.ts). Every state (a cell input or
// an intermediate node) is read by several edges; per state, the operations of those edges are
// grouped into families computed as one kernel chain each:
//   sep  sep_conv_3x3 + sep_conv_5x5 of every edge: one grouped chain, 3x3 weights zero-padded to 5x5
//   dil  dil_conv_3x3 + dil_conv_5x5 likewise (dilation 2)
//   fr   the stride-2 skip (FactorizedReduce) of every edge
//   pools and the stride-1 skip: computed once per state (their input is the same for every edge)
// Members are ordered kind-major (all 3x3 members, then all 5x5), each kind in node order.
// The BN running statistics of a family's members become slices of one tensor (narrowAlias: each
// with its own version counter, so the straightforward forward, where every member's BN updates
// its own slice, still runs backward), so that one batch norm over the family's channels updates
// every member's own buffers (names and shapes unchanged).
import * as t from '../torch/index.js';
import { MixedOp } from './mixed-op.js';
import { DilConv, FactorizedReduce, SepConv, type Stride } from './operations.js';
import type { Primitive } from './primitives.js';

/** One (edge, operation) computed inside a family. */
export interface Member {
  /** Edge index in the cell (the alpha row). */
  edge: number;
  /** Destination node. */
  node: number;
  /** The alpha column of this operation on its edge. */
  col: number;
  layer: t.nn.Layer;
  /** Kernel size of a sep/dil member (3 or 5). */
  kernel: number;
}

/** A family's fused BN statistics: one tensor per statistic, the members' buffers are views of it. */
export interface FusedBn {
  mean: t.Tensor;
  var: t.Tensor;
}

export interface ConvFamily {
  members: Member[];
  /** Per BN of the chain (sep: two, dil: one), the members' statistics fused. */
  bns: FusedBn[];
  /** Number of 3x3 members when the 3x3 and 5x5 members are the same edges in the same order (outputs summed pairwise). */
  pairSplit: number | null;
}

export interface PoolGroup {
  members: Member[];
  /** The first member's statistics: what the one BN call updates. */
  first: FusedBn;
  /** The other members' statistics as [m-1, C'] and the first's broadcast to that shape (copied after the BN). */
  others: { mean: t.Tensor; var: t.Tensor; firstMean: t.Tensor; firstVar: t.Tensor } | null;
}

export interface StatePlan {
  state: number;
  stride: Stride;
  sep: ConvFamily | null;
  dil: ConvFamily | null;
  fr: Member[];
  frBn: FusedBn | null;
  maxPool: PoolGroup | null;
  avgPool: PoolGroup | null;
  /** Stride-1 skips (Identity, or Identity → Dropout in P-DARTS). */
  skip: Member[];
}

export interface CellPlan {
  steps: number;
  /** Channels the candidate operations see (C, or C/K in PC-DARTS). */
  opChannels: number;
  /** PC-DARTS partial channels K (null: all channels go through the operations). */
  partial: number | null;
  numOps: number;
  /** Kernel size of each conv family over the whole cell (5 when any 5x5 member exists). */
  sepKernel: number;
  dilKernel: number;
  states: StatePlan[];
  /** Every fused statistic tensor (disposed with the plan). */
  owned: t.Tensor[];
  /** Constants built on first use per device and dtype (index vectors, identities); disposed with the plan. */
  constants: Map<string, t.Tensor>;
  /** Index layouts of the gathered architecture weights, by dropout on/off (fused-weights.ts). */
  layouts: Map<string, unknown>;
}

/** Node index and edge index of the edges that read state j (nodes max(0, j-1) .. steps-1). */
export function readers(j: number, steps: number): { node: number; edge: number }[] {
  const out: { node: number; edge: number }[] = [];
  for (let i = Math.max(0, j - 1); i < steps; i++) out.push({ node: i, edge: (i * (i + 3)) / 2 + j });
  return out;
}

/** The layers of an op: SepConv/DilConv keep them in .op, a pool with its BN is a Sequential. */
const seq = (l: t.nn.Layer): t.nn.Layer[] =>
  l instanceof t.nn.Sequential ? l.layers : (l as unknown as { op: t.nn.Sequential }).op.layers;

/** Replaces each BN's running statistics by views of one concatenated tensor (values kept). */
function fuseBns(bns: t.nn.BatchNorm2d[], owned: t.Tensor[]): FusedBn {
  const fuse = (field: 'runningMean' | 'runningVar'): t.Tensor => {
    const old = bns.map((b) => b[field] as t.Tensor);
    const all = t.keep(t.noGrad(() => t.cat(old, 0)));
    owned.push(all);
    let off = 0;
    bns.forEach((b, i) => {
      const n = (old[i] as t.Tensor).numel;
      b[field] = t.keep(t.narrowAlias(all, 0, off, n));
      off += n;
      (old[i] as t.Tensor).dispose();
    });
    return all;
  };
  return { mean: fuse('runningMean'), var: fuse('runningVar') };
}

function bnAt(l: t.nn.Layer, i: number): t.nn.BatchNorm2d {
  const bn = seq(l)[i];
  if (!(bn instanceof t.nn.BatchNorm2d) || !bn.runningMean || !bn.runningVar) throw new Error('fused plan: no BN statistics');
  return bn;
}

function convFamily(members: Member[], bnIndices: number[], owned: t.Tensor[]): ConvFamily | null {
  if (members.length === 0) return null;
  const small = members.filter((m) => m.kernel === 3);
  const big = members.filter((m) => m.kernel === 5);
  const ordered = [...small, ...big];
  const same = small.length === big.length && small.every((m, i) => m.edge === (big[i] as Member).edge);
  return {
    members: ordered,
    bns: bnIndices.map((bi) =>
      fuseBns(
        ordered.map((m) => bnAt(m.layer, bi)),
        owned,
      ),
    ),
    pairSplit: same && small.length > 0 ? small.length : null,
  };
}

function poolGroup(members: Member[], owned: t.Tensor[]): PoolGroup | null {
  if (members.length === 0) return null;
  const bns = members.map((m) => bnAt(m.layer, 1));
  const fused = fuseBns(bns, owned);
  const first0 = bns[0] as t.nn.BatchNorm2d;
  const first = { mean: first0.runningMean as t.Tensor, var: first0.runningVar as t.Tensor };
  const m = members.length;
  if (m === 1) return { members, first, others: null };
  const C = first.mean.numel;
  const view = (x: t.Tensor) => {
    const v = t.keep(t.scope(() => t.reshape(t.narrowAlias(x, 0, C, (m - 1) * C), [m - 1, C])));
    owned.push(v);
    return v;
  };
  const spread = (x: t.Tensor) => {
    const v = t.keep(t.scope(() => t.expand(t.reshape(x, [1, C]), [m - 1, C])));
    owned.push(v);
    return v;
  };
  const others = { mean: view(fused.mean), var: view(fused.var), firstMean: spread(first.mean), firstVar: spread(first.var) };
  return { members, first, others };
}

const KINDS = {
  sep: ['sep_conv_3x3', 'sep_conv_5x5'],
  dil: ['dil_conv_3x3', 'dil_conv_5x5'],
} as const satisfies Record<string, readonly Primitive[]>;

/**
 * The plan for a cell whose edges are MixedOps (or PartialMixedOps) of the DARTS operation
 * classes; null when an edge is anything else (the cell then runs the straightforward forward).
 */
export function buildCellPlan(edges: readonly t.nn.Module[], steps: number, reduction: boolean): CellPlan | null {
  const mixed = edges.filter((e): e is MixedOp => e instanceof MixedOp);
  if (mixed.length !== edges.length || mixed.length === 0) return null;
  const numOps = (mixed[0] as MixedOp).primitives.length;
  if (mixed.some((m) => m.primitives.length !== numOps || (m.primitives.length === 1 && m.primitives[0] === 'none'))) return null;
  const partial = (mixed[0] as MixedOp & { k?: number }).k ?? null;
  const owned: t.Tensor[] = [];
  const states: StatePlan[] = [];
  const opChannels = (mixed[0] as MixedOp).opChannels;
  let sepKernel = 3;
  let dilKernel = 3;
  for (let j = 0; j < steps + 1; j++) {
    const stride: Stride = reduction && j < 2 ? 2 : 1;
    const by: Record<string, Member[]> = { sep: [], dil: [], fr: [], max: [], avg: [], skip: [] };
    for (const { node, edge } of readers(j, steps)) {
      const m = mixed[edge] as MixedOp;
      m.primitives.forEach((p, col) => {
        const layer = m.ops.at(col);
        const kernel = p.endsWith('5x5') ? 5 : 3;
        const member = { edge, node, col, layer, kernel };
        if (p === 'sep_conv_3x3' || p === 'sep_conv_5x5') {
          if (!(layer instanceof SepConv)) throw new Error(`fused plan: ${p} is not a SepConv`);
          by.sep?.push(member);
          if (kernel === 5) sepKernel = 5;
        } else if (p === 'dil_conv_3x3' || p === 'dil_conv_5x5') {
          if (!(layer instanceof DilConv)) throw new Error(`fused plan: ${p} is not a DilConv`);
          by.dil?.push(member);
          if (kernel === 5) dilKernel = 5;
        } else if (p === 'skip_connect') {
          if (stride === 2) {
            if (!(layer instanceof FactorizedReduce)) throw new Error('fused plan: a stride-2 skip is not a FactorizedReduce');
            by.fr?.push(member);
          } else by.skip?.push(member);
        } else if (p === 'max_pool_3x3') by.max?.push(member);
        else if (p === 'avg_pool_3x3') by.avg?.push(member);
      });
    }
    const kindMajor = (ms: Member[], kinds: readonly Primitive[]) =>
      kinds.flatMap((k) => ms.filter((m) => (mixed[m.edge] as MixedOp).primitives[m.col] === k));
    states.push({
      state: j,
      stride,
      sep: convFamily(kindMajor(by.sep as Member[], KINDS.sep), [3, 7], owned),
      dil: convFamily(kindMajor(by.dil as Member[], KINDS.dil), [3], owned),
      fr: by.fr as Member[],
      frBn: (by.fr as Member[]).length
        ? fuseBns(
            (by.fr as Member[]).map((m) => (m.layer as FactorizedReduce).bn),
            owned,
          )
        : null,
      maxPool: poolGroup(by.max as Member[], owned),
      avgPool: poolGroup(by.avg as Member[], owned),
      skip: by.skip as Member[],
    });
  }
  return {
    steps,
    opChannels,
    partial,
    numOps,
    sepKernel,
    dilKernel,
    states,
    owned,
    constants: new Map(),
    layouts: new Map(),
  };
}

export function disposePlan(plan: CellPlan | null): void {
  if (!plan) return;
  t.disposeAll(plan.owned);
  t.disposeAll([...plan.constants.values()]);
  plan.constants.clear();
}
