// The static plan of a search cell's fused forward (fused-cell.ts). Every state (a cell input or
// an intermediate node) is read by several edges; per state, the operations of those edges are
// grouped into families computed as one kernel chain each:
//   sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5: one grouped chain per kind over every
//        edge that has it (kinds are not merged by zero-padding 3x3 kernels to 5x5: on this CPU a
//        5x5 depthwise backward costs about 4x a 3x3 one)
//   fr   the stride-2 skip (FactorizedReduce) of every edge
//   pools and the stride-1 skip: computed once per state (their input is the same for every edge)
// Members of a family are in node order.
// The BN running statistics of a family's members become slices of one tensor (narrowAlias: each
// with its own version counter, so the straightforward forward, where every member's BN updates
// its own slice, still runs backward), so that one batch norm over the family's channels updates
// every member's own buffers (names and shapes unchanged).
import * as t from '../torch/index.js';
import { MixedOp } from './mixed-op.js';
import { DilConv, FactorizedReduce, SepConv, type Stride } from './operations.js';

/** One (edge, operation) computed inside a family. */
export interface Member {
  /** Edge index in the cell (the alpha row). */
  edge: number;
  /** Destination node. */
  node: number;
  /** The alpha column of this operation on its edge. */
  col: number;
  layer: t.nn.Layer;
}

/** A family's fused BN statistics: one tensor per statistic, the members' buffers are views of it. */
export interface FusedBn {
  mean: t.Tensor;
  var: t.Tensor;
}

export type ConvKind = 'sep_conv_3x3' | 'sep_conv_5x5' | 'dil_conv_3x3' | 'dil_conv_5x5';
export const CONV_KINDS: readonly ConvKind[] = ['sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5'];

export interface ConvFamily {
  kind: ConvKind;
  kernel: 3 | 5;
  dilation: 1 | 2;
  /** Depthwise-pointwise-BN stages: 2 (sep) or 1 (dil). */
  stages: 1 | 2;
  members: Member[];
  /** Per BN of the chain, the members' statistics fused. */
  bns: FusedBn[];
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
  /** The conv families present, in CONV_KINDS order. */
  convs: ConvFamily[];
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

function convFamily(kind: ConvKind, members: Member[], owned: t.Tensor[]): ConvFamily | null {
  if (members.length === 0) return null;
  const sep = kind.startsWith('sep');
  for (const m of members) {
    if (!(sep ? m.layer instanceof SepConv : m.layer instanceof DilConv))
      throw new Error(`fused plan: ${kind} is not a ${sep ? 'SepConv' : 'DilConv'}`);
  }
  const bnIndices = sep ? [3, 7] : [3];
  return {
    kind,
    kernel: kind.endsWith('5x5') ? 5 : 3,
    dilation: sep ? 1 : 2,
    stages: sep ? 2 : 1,
    members,
    bns: bnIndices.map((bi) =>
      fuseBns(
        members.map((m) => bnAt(m.layer, bi)),
        owned,
      ),
    ),
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
  for (let j = 0; j < steps + 1; j++) {
    const stride: Stride = reduction && j < 2 ? 2 : 1;
    const by = new Map<string, Member[]>();
    const add = (k: string, m: Member) => by.set(k, [...(by.get(k) ?? []), m]);
    for (const { node, edge } of readers(j, steps)) {
      const m = mixed[edge] as MixedOp;
      m.primitives.forEach((p, col) => {
        const member = { edge, node, col, layer: m.ops.at(col) };
        if (p === 'skip_connect' && stride === 2) {
          if (!(member.layer instanceof FactorizedReduce))
            throw new Error('fused plan: a stride-2 skip is not a FactorizedReduce');
          add('fr', member);
        } else if (p !== 'none') add(p, member);
      });
    }
    const fr = by.get('fr') ?? [];
    states.push({
      state: j,
      stride,
      convs: CONV_KINDS.flatMap((k) => convFamily(k, by.get(k) ?? [], owned) ?? []),
      fr,
      frBn: fr.length
        ? fuseBns(
            fr.map((m) => (m.layer as FactorizedReduce).bn),
            owned,
          )
        : null,
      maxPool: poolGroup(by.get('max_pool_3x3') ?? [], owned),
      avgPool: poolGroup(by.get('avg_pool_3x3') ?? [], owned),
      skip: by.get('skip_connect') ?? [],
    });
  }
  return {
    steps,
    opChannels,
    partial,
    numOps,
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
