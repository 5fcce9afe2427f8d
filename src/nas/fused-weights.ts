// The fused forward's weights, built per forward from the modules' own parameters (so that
// substituted weights, e.g. the unrolled T' or T ± εw, are what is used): one concatenation per
// weight role and cell, and the architecture weights gathered once per cell. Every op here is
// differentiable, so gradients reach the per-edge parameters and the alphas (and betas).
import * as t from '../torch/index.js';
import { CONV_KINDS, type CellPlan, type ConvKind, type Member, type StatePlan } from './fused-plan.js';

/** A conv family's weights in one state: depthwise and pointwise per stage (sep: two, dil: one). */
export interface ConvWeights {
  dw: t.Tensor[];
  pw: t.Tensor[];
  /** BN weight [k·C']: the member's mixing weight on each of its channels. */
  bnWeight: t.Tensor;
}

export interface StateWeights {
  /** One per conv family of the state (StatePlan.convs order). */
  convs: ConvWeights[];
  /** Block-diagonal 1x1 weight [m·C', 2·C', 1, 1] over cat(x[::2, ::2], x[1::2, 1::2]), and its BN weight. */
  fr: { w: t.Tensor; bnWeight: t.Tensor } | null;
  /** Mixing weights ⊗ identity [m·C', S·C', 1, 1] over cat(shared terms), and the nodes of its blocks. */
  shared: { kernel: t.Tensor; nodes: number[] } | null;
  /** Skip with dropout: weight / (1-p) per channel [d·C']. */
  drop: t.Tensor | null;
  /** PC-DARTS: betas ⊗ identity [m·Cr, Cr, 1, 1] for the channels that bypass the operations. */
  rest: t.Tensor | null;
}

/** The shared kinds of a state, in kron-block order (skip only when it has no dropout). */
export function sharedKinds(sp: StatePlan, dropout: boolean): ('max' | 'avg' | 'skip')[] {
  const k: ('max' | 'avg' | 'skip')[] = [];
  if (sp.maxPool) k.push('max');
  if (sp.avgPool) k.push('avg');
  if (sp.skip.length && !dropout) k.push('skip');
  return k;
}

interface Layout {
  /** Flat alpha index (edge·numOps + col, or the appended zero) and edge per gathered value. */
  flat: number[];
  edge: number[];
  /** Values [0, famCount) are expanded over C' channels (BN and dropout weights). */
  famCount: number;
  /** Per state: offsets into the gathered values. */
  at: { convs: number[]; fr: number; drop: number; shared: number; sharedNodes: number[]; sharedKinds: number }[];
  /** PC-DARTS: the reader edges of every state, state after state. */
  restEdges: number[];
}

function layout(plan: CellPlan, dropout: boolean): Layout {
  const zero = (plan.steps * (plan.steps + 3) * plan.numOps) / 2;
  const flat: number[] = [];
  const edge: number[] = [];
  const push = (ms: readonly Member[]) => {
    const start = flat.length;
    for (const m of ms) {
      flat.push(m.edge * plan.numOps + m.col);
      edge.push(m.edge);
    }
    return start;
  };
  const fam = plan.states.map((sp) => ({
    convs: sp.convs.map((f) => push(f.members)),
    fr: push(sp.fr),
    drop: push(dropout ? sp.skip : []),
  }));
  const famCount = flat.length;
  const restEdges: number[] = [];
  const at = plan.states.map((sp, j) => {
    const kinds = sharedKinds(sp, dropout);
    const groups = kinds.map((k) => (k === 'max' ? sp.maxPool?.members : k === 'avg' ? sp.avgPool?.members : sp.skip) ?? []);
    const edges = [...new Set(groups.flatMap((g) => g.map((m) => m.edge)))].sort((a, b) => a - b);
    const nodes = edges.map((e) => groups.flat().find((m) => m.edge === e)?.node as number);
    const start = flat.length;
    for (const e of edges) {
      for (const g of groups) {
        const m = g.find((x) => x.edge === e);
        flat.push(m ? e * plan.numOps + m.col : zero);
        edge.push(e);
      }
    }
    for (let i = Math.max(0, j - 1); i < plan.steps; i++) restEdges.push((i * (i + 3)) / 2 + j);
    return { ...(fam[j] as (typeof fam)[number]), shared: start, sharedNodes: nodes, sharedKinds: kinds.length };
  });
  return { flat, edge, famCount, at, restEdges };
}

function cachedLayout(plan: CellPlan, dropout: boolean): Layout {
  const key = String(dropout);
  let l = plan.layouts.get(key) as Layout | undefined;
  if (!l) plan.layouts.set(key, (l = layout(plan, dropout)));
  return l;
}

/** A constant tensor cached on the plan (owned by it: disposed with disposePlan). */
function constant(plan: CellPlan, key: string, make: () => t.Tensor): t.Tensor {
  let c = plan.constants.get(key);
  if (!c) {
    c = t.keep(t.noGrad(make));
    plan.constants.set(key, c);
  }
  return c;
}

function indexTensor(plan: CellPlan, key: string, values: number[], device: t.Device): t.Tensor {
  return constant(plan, `${key}:${device}`, () => t.tensor(values, [values.length], { dtype: 'int64', device }));
}

function eye(plan: CellPlan, n: number, dtype: t.DType, device: t.Device): t.Tensor {
  return constant(plan, `eye${n}:${dtype}:${device}`, () => {
    const v = new Array<number>(n * n).fill(0);
    for (let i = 0; i < n; i++) v[i * n + i] = 1;
    return t.tensor(v, [n, n], { dtype, device });
  });
}

/** Channels that bypass the operations in PC-DARTS (0 otherwise). */
const restChannels = (plan: CellPlan) => (plan.partial === null ? 0 : plan.opChannels * (plan.partial - 1));

/**
 * Builds every constant the fused forward reads (index vectors, identities) for this dtype and
 * device, so that forwards allocate none that outlive them (live-tensor counts stay put).
 */
export function prepareConstants(plan: CellPlan, dtype: t.DType, device: t.Device): void {
  for (const dropout of [false, true]) {
    const l = cachedLayout(plan, dropout);
    indexTensor(plan, `flat${dropout}`, l.flat, device);
    indexTensor(plan, `edge${dropout}`, l.edge, device);
    indexTensor(plan, 'rest', l.restEdges, device);
  }
  eye(plan, plan.opChannels, dtype, device);
  if (plan.partial !== null) eye(plan, restChannels(plan), dtype, device);
}

const param = (l: t.nn.Layer, i: number): t.Tensor => {
  const layers = (l as unknown as { op: t.nn.Sequential }).op.layers;
  return (layers[i] as t.nn.Conv2d).weight;
};

/**
 * One weight role (layer index `role` of every member's op.layers) of one conv kind, for every
 * state of the cell: one concatenation, then a view per state.
 */
function roleWeights(plan: CellPlan, kind: ConvKind, role: number): (t.Tensor | null)[] {
  const per = plan.states.map((sp) => sp.convs.find((f) => f.kind === kind)?.members ?? []);
  const fused = t.cat(
    per.flat().map((m) => param(m.layer, role)),
    0,
  );
  let off = 0;
  return per.map((ms) => {
    if (ms.length === 0) return null;
    const n = (param((ms[0] as Member).layer, role).shape[0] as number) * ms.length;
    const v = t.narrow(fused, 0, off, n);
    off += n;
    return v;
  });
}

/** Depthwise and pointwise weights of every family of every state. */
function convWeights(plan: CellPlan): Map<ConvKind, { dw: (t.Tensor | null)[][]; pw: (t.Tensor | null)[][] }> {
  const out = new Map<ConvKind, { dw: (t.Tensor | null)[][]; pw: (t.Tensor | null)[][] }>();
  for (const kind of CONV_KINDS) {
    if (!plan.states.some((sp) => sp.convs.some((f) => f.kind === kind))) continue;
    const roles = kind.startsWith('sep') ? [1, 2, 5, 6] : [1, 2];
    const w = roles.map((r) => roleWeights(plan, kind, r));
    out.set(kind, { dw: w.filter((_, i) => i % 2 === 0), pw: w.filter((_, i) => i % 2 === 1) });
  }
  return out;
}

function frWeight(sp: StatePlan, C: number): t.Tensor {
  const m = sp.fr.length;
  const h = C / 2;
  const get = (k: 'conv1' | 'conv2') =>
    t.reshape(
      t.cat(
        sp.fr.map((x) => (x.layer as unknown as Record<string, t.nn.Conv2d>)[k]?.weight as t.Tensor),
        0,
      ),
      [m, h, C],
    );
  const w1 = get('conv1');
  const w2 = get('conv2');
  const z = t.zerosLike(w1);
  const top = t.cat([w1, z], 2);
  const bottom = t.cat([z, w2], 2);
  return t.reshape(t.cat([top, bottom], 1), [m * C, 2 * C, 1, 1]);
}

/**
 * Everything the fused cell forward multiplies by, per state. weights [E, numOps] (softmaxed),
 * edgeWeights [E] (PC-DARTS's normalised betas) or null; dropout: P-DARTS skip dropout is on.
 */
export function cellWeights(
  plan: CellPlan,
  weights: t.Tensor,
  edgeWeights: t.Tensor | null,
  dropout: { p: number } | null,
  like: t.Tensor,
): StateWeights[] {
  const device = like.device as t.Device;
  const dtype = like.dtype;
  const cRest = restChannels(plan);
  const C = plan.opChannels;
  const l = cachedLayout(plan, dropout !== null);
  const wz = t.cat([t.flatten(weights), t.zeros([1], { dtype: weights.dtype, device })]);
  let v = t.indexSelect(wz, 0, indexTensor(plan, `flat${dropout !== null}`, l.flat, device));
  if (edgeWeights) v = t.mul(v, t.indexSelect(edgeWeights, 0, indexTensor(plan, `edge${dropout !== null}`, l.edge, device)));
  const famVec = t.reshape(t.expand(t.unsqueeze(t.narrow(v, 0, 0, l.famCount), 1), [l.famCount, C]), [l.famCount * C]);
  const fam = (start: number, n: number) => t.narrow(famVec, 0, start * C, n * C);
  const cw = convWeights(plan);
  const rest =
    edgeWeights && plan.partial !== null ? t.indexSelect(edgeWeights, 0, indexTensor(plan, 'rest', l.restEdges, device)) : null;
  let restOff = 0;
  return plan.states.map((sp, j) => {
    const at = l.at[j] as Layout['at'][number];
    const out: StateWeights = { convs: [], fr: null, shared: null, drop: null, rest: null };
    out.convs = sp.convs.map((f, fi) => {
      const w = cw.get(f.kind) as { dw: (t.Tensor | null)[][]; pw: (t.Tensor | null)[][] };
      return {
        dw: w.dw.map((r) => r[j] as t.Tensor),
        pw: w.pw.map((r) => r[j] as t.Tensor),
        bnWeight: fam(at.convs[fi] as number, f.members.length),
      };
    });
    if (sp.fr.length) out.fr = { w: frWeight(sp, C), bnWeight: fam(at.fr, sp.fr.length) };
    if (dropout && sp.skip.length) out.drop = t.mul(fam(at.drop, sp.skip.length), 1 / (1 - dropout.p));
    const nk = at.sharedKinds;
    const ne = at.sharedNodes.length;
    if (nk > 0) {
      const block = t.reshape(t.narrow(v, 0, at.shared, ne * nk), [ne, 1, nk, 1]);
      const kernel = t.reshape(t.mul(block, t.reshape(eye(plan, C, dtype, device), [1, C, 1, C])), [ne * C, nk * C, 1, 1]);
      out.shared = { kernel, nodes: at.sharedNodes };
    }
    if (rest) {
      const readers = plan.steps - Math.max(0, j - 1);
      const b = t.reshape(t.narrow(rest, 0, restOff, readers), [readers, 1, 1]);
      restOff += readers;
      const id = t.reshape(eye(plan, cRest, dtype, device), [1, cRest, cRest]);
      out.rest = t.reshape(t.mul(b, id), [readers * cRest, cRest, 1, 1]);
    }
    return out;
  });
}
