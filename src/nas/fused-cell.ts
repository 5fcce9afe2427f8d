// The fused forward of a search cell in training mode: the same function as SearchCell's
// straightforward forward (node i = Σ_j Σ_o w_{e,o} · o(state_j), e = edge (j → i)), computed
// state by state with few, large kernels (plan in fused-plan.ts, weights in fused-weights.ts):
//   - one ReLU per state, repeated once per family size: every sep/dil/fr member reads it;
//   - each conv family as one chain: depthwise (groups k·C'), pointwise (groups k), one BN over
//     the k·C' channels whose weight is each member's mixing weight (w·BN(z) = BN(z; weight=w));
//   - the pools, their BN and the stride-1 skip once per state, mixed into every reading edge by
//     one 1x1 convolution whose weight is (mixing weights ⊗ identity);
//   - the outputs of one state added per edge, then into the nodes.
// Equal to the straightforward forward up to floating-point rounding (tests: float64, outputs,
// gradients, BN statistics). BN after a pool sees the same input on every edge that reads the
// state, so its statistics are equal on those edges: the first is updated, the others copied.
import * as t from '../torch/index.js';
import type { CellPlan, ConvFamily, FusedBn, PoolGroup, StatePlan } from './fused-plan.js';
import { cellWeights, type ConvWeights, type StateWeights, sharedKinds } from './fused-weights.js';
import { channelShuffle } from './shuffle.js';

/** A state's output for some edges: [N, B·C, H, W], block b for node nodes[b]. */
interface Contribution {
  t: t.Tensor;
  nodes: number[];
}

const toLast = (x: t.Tensor) => t.permute(x, [0, 2, 3, 1]);
const fromLast = (x: t.Tensor) => t.permute(x, [0, 3, 1, 2]);

/** relu(x) repeated k times along channels, [N, k·C, H, W] (channels-last memory). */
function repeatChannels(x: t.Tensor, k: number): t.Tensor {
  if (k === 1) return x;
  const [n = 0, c = 0, h = 0, w = 0] = x.shape;
  return fromLast(t.reshape(t.expand(t.unsqueeze(toLast(x), 3), [n, h, w, k, c]), [n, h, w, k * c]));
}

function bnOpts(stats: FusedBn | { mean: t.Tensor; var: t.Tensor }, weight: t.Tensor | null): t.BatchNormOptions {
  return { weight, runningMean: stats.mean, runningVar: stats.var, training: true, momentum: 0.1, eps: 1e-5 };
}

/** Zero-pads x at the far edge to even H, W and moves the 4 (row, column) parities into the batch: [4N, C, ⌈H/2⌉, ⌈W/2⌉]. */
function toPhases(x: t.Tensor): t.Tensor {
  const [, , h = 0, w = 0] = x.shape;
  const even = h % 2 === 0 && w % 2 === 0 ? x : t.pad(x, [0, w % 2, 0, h % 2]);
  const [n = 0, c = 0, h2 = 0, w2 = 0] = even.shape;
  const v = t.reshape(toLast(even), [n, h2 / 2, 2, w2 / 2, 2, c]);
  return fromLast(t.reshape(t.permute(v, [2, 4, 0, 1, 3, 5]), [4 * n, h2 / 2, w2 / 2, c]));
}

/** The inverse of toPhases, cropped to [N, C, h, w]. */
function fromPhases(y: t.Tensor, h: number, w: number): t.Tensor {
  const [n4 = 0, c = 0, h2 = 0, w2 = 0] = y.shape;
  const n = n4 / 4;
  const v = t.permute(t.reshape(toLast(y), [2, 2, n, h2, w2, c]), [2, 3, 0, 4, 1, 5]);
  const full = fromLast(t.reshape(v, [n, 2 * h2, 2 * w2, c]));
  return 2 * h2 === h && 2 * w2 === w ? full : t.narrow(t.narrow(full, 2, 0, h), 3, 0, w);
}

/**
 * depthwise → pointwise → BN (→ ReLU → depthwise → pointwise → BN for sep) over the k members
 * at once; input is relu(x) repeated k times. A dilated depthwise conv (dilation 2) reads one
 * row and column parity per output: it runs undilated on the parities (stride 2: on x[::2, ::2]
 * only), where oneDNN's fast depthwise backward applies (its dilated one is 2-4x slower here).
 */
function convChain(fam: ConvFamily, w: ConvWeights, input: t.Tensor, stride: number, C: number): Contribution {
  const k = fam.members.length;
  const groups = k * C;
  const pad = (fam.kernel - 1) / 2;
  let h = input;
  for (let s = 0; s < fam.stages; s++) {
    const dw = w.dw[s] as t.Tensor;
    if (fam.dilation === 1) h = t.conv2d(h, dw, null, { stride: s === 0 ? stride : 1, padding: pad, groups });
    else if (stride === 2) h = t.conv2d(everyOther(h), dw, null, { padding: pad, groups });
    else {
      const [, , hh = 0, ww = 0] = h.shape;
      h = fromPhases(t.conv2d(toPhases(h), dw, null, { padding: pad, groups }), hh, ww);
    }
    h = t.conv2d(h, w.pw[s] as t.Tensor, null, { groups: k });
    const last = s === fam.stages - 1;
    h = t.batchNorm(h, bnOpts(fam.bns[s] as FusedBn, last ? w.bnWeight : null));
    if (!last) h = t.relu(h);
  }
  return { t: h, nodes: fam.members.map((m) => m.node) };
}

/** BN after a pool, once for every member (all see the same input); the others' statistics copied from the first's. */
function poolBn(g: PoolGroup, pooled: t.Tensor): t.Tensor {
  const y = t.batchNorm(pooled, bnOpts(g.first, null));
  const o = g.others;
  if (o) {
    t.noGrad(() => {
      t.copyInPlace(o.mean, o.firstMean);
      t.copyInPlace(o.var, o.firstVar);
    });
  }
  return y;
}

/** x[:, :, ::2, ::2] */
const everyOther = (x: t.Tensor) => t.slice(t.slice(x, 2, 0, null, 2), 3, 0, null, 2);

function factorizedReduce(r: t.Tensor, w: NonNullable<StateWeights['fr']>, bn: FusedBn): t.Tensor {
  const [, , h = 0, wd = 0] = r.shape;
  let shifted = t.slice(t.slice(r, 2, 1), 3, 1);
  if (h % 2 === 1 || wd % 2 === 1) shifted = t.pad(shifted, [0, wd % 2, 0, h % 2]);
  const z = t.conv2d(t.cat([everyOther(r), everyOther(shifted)], 1), w.w);
  return t.batchNorm(z, bnOpts(bn, w.bnWeight));
}

/** x ⊙ mask_e · w_e/(1-p) for the skip members with dropout: [N, d·C, H, W]. */
function droppedSkip(x: t.Tensor, masks: readonly t.Tensor[], w: t.Tensor): t.Tensor {
  const [n = 0, c = 0, h = 0, wd = 0] = x.shape;
  const d = masks.length;
  const m = t.reshape(toLast(t.cat(masks, 1)), [n, h, wd, d, c]);
  const y = t.mul(t.mul(t.unsqueeze(toLast(x), 3), m), t.reshape(w, [d, c]));
  return fromLast(t.reshape(y, [n, h, wd, d * c]));
}

interface StateInput {
  plan: CellPlan;
  sp: StatePlan;
  x: t.Tensor;
  w: StateWeights;
  /** Dropout masks of this state's skip members, in member order. */
  masks: t.Tensor[] | null;
}

/** Everything the edges reading one state send to their nodes (mixed part, and PC-DARTS's bypass). */
function stateContributions({ plan, sp, x, w, masks }: StateInput): { mixed: Contribution[]; rest: Contribution | null } {
  const C = plan.opChannels;
  const xa = plan.partial === null ? x : t.narrow(x, 1, 0, C);
  const r = sp.convs.length || sp.fr.length ? t.relu(xa) : null;
  const reps = new Map<number, t.Tensor>();
  const rep = (k: number): t.Tensor => {
    let v = reps.get(k);
    if (!v) reps.set(k, (v = repeatChannels(r as t.Tensor, k)));
    return v;
  };
  const out: Contribution[] = sp.convs.map((f, i) =>
    convChain(f, w.convs[i] as ConvWeights, rep(f.members.length), sp.stride, C),
  );
  if (sp.fr.length && w.fr && sp.frBn) {
    out.push({ t: factorizedReduce(r as t.Tensor, w.fr, sp.frBn), nodes: sp.fr.map((m) => m.node) });
  }
  if (w.shared) {
    const terms = sharedKinds(sp, masks !== null).map((k) => {
      if (k === 'max') return poolBn(sp.maxPool as PoolGroup, t.maxPool2d(xa, 3, { stride: sp.stride, padding: 1 }));
      if (k === 'avg') {
        const pooled = t.avgPool2d(xa, 3, { stride: sp.stride, padding: 1, countIncludePad: false });
        return poolBn(sp.avgPool as PoolGroup, pooled);
      }
      return xa;
    });
    const input = terms.length === 1 ? (terms[0] as t.Tensor) : t.cat(terms, 1);
    out.push({ t: t.conv2d(input, w.shared.kernel), nodes: w.shared.nodes });
  }
  if (masks && w.drop) out.push({ t: droppedSkip(xa, masks, w.drop), nodes: sp.skip.map((m) => m.node) });
  let rest: Contribution | null = null;
  if (w.rest) {
    let bypass = t.narrow(x, 1, C, x.size(1) - C);
    const h = x.size(2);
    // the reference pools the bypass when the operations changed the size (MaxPool2d(2, 2))
    if (sp.stride === 2 && Math.floor((h - 1) / 2) + 1 !== h) bypass = t.maxPool2d(bypass, 2, { stride: 2, ceilMode: true });
    const nodes = Array.from({ length: plan.steps - Math.max(0, sp.state - 1) }, (_, b) => Math.max(0, sp.state - 1) + b);
    rest = { t: t.conv2d(bypass, w.rest), nodes };
  }
  return { mixed: merge(out), rest };
}

/** Contributions with the same nodes summed (one add per extra tensor). */
function merge(cs: Contribution[]): Contribution[] {
  const byKey = new Map<string, Contribution>();
  for (const c of cs) {
    const key = c.nodes.join(',');
    const prev = byKey.get(key);
    byKey.set(key, prev ? { t: t.add(prev.t, c.t), nodes: c.nodes } : c);
  }
  return [...byKey.values()];
}

/**
 * Adds each block of c into its node. split, not narrow: split's gradient is one cat in the
 * layout of the blocks' gradients, narrow's a zero-filled contiguous copy per block, and a
 * contiguous gradient reaching a channels-last BN output takes libtorch's slow mixed-layout BN
 * backward (about 20x slower, measured: bench profile).
 */
function accumulate(acc: (t.Tensor | null)[], c: Contribution, C: number): void {
  const blocks =
    c.nodes.length === 1
      ? [c.t]
      : t.split(
          c.t,
          c.nodes.map(() => C),
          1,
        );
  c.nodes.forEach((node, b) => {
    const block = blocks[b] as t.Tensor;
    const prev = acc[node] ?? null;
    acc[node] = prev === null ? block : t.add(prev, block);
  });
}

export interface FusedCellInput {
  plan: CellPlan;
  /** The two preprocessed cell inputs. */
  s0: t.Tensor;
  s1: t.Tensor;
  weights: t.Tensor;
  edgeWeights: t.Tensor | null;
  /** P-DARTS skip dropout rate (0: none). */
  dropRate: number;
}

/**
 * Dropout masks (0/1) of every skip member, drawn in edge order as the straightforward forward
 * draws them, and by the same op on a tensor of the states' size and memory layout: libtorch 2.x
 * draws a channels-last input's noise in that layout (1.13 always contiguously).
 */
function dropoutMasks(plan: CellPlan, like: t.Tensor, p: number): Map<number, t.Tensor> {
  const layout = t.zerosLike(like);
  const reduced = plan.states[0]?.stride === 2;
  const template = t.onesLike(reduced ? t.avgPool2d(layout, 1, { stride: 2 }) : layout);
  const edges = plan.states.flatMap((sp) => sp.skip.map((m) => m.edge)).sort((a, b) => a - b);
  return new Map(edges.map((e) => [e, t.gt(t.dropout(template, p, true), 0).to({ dtype: like.dtype })]));
}

/** The cell's states (inputs and nodes), computed by the fused plan. */
export function fusedNodes(inp: FusedCellInput): t.Tensor[] {
  const { plan, weights, edgeWeights, dropRate } = inp;
  const states = [inp.s0, inp.s1];
  const dropout = dropRate > 0 && plan.states.some((s) => s.skip.length > 0) ? { p: dropRate } : null;
  const cOut = plan.partial === null ? plan.opChannels : plan.opChannels * plan.partial;
  const cRest = cOut - plan.opChannels;
  const sw = cellWeights(plan, weights, edgeWeights, dropout, inp.s1);
  const masks = dropout ? dropoutMasks(plan, inp.s1, dropout.p) : null;
  const acc: (t.Tensor | null)[] = new Array(plan.steps).fill(null);
  const accRest: (t.Tensor | null)[] = new Array(plan.steps).fill(null);
  for (const sp of plan.states) {
    const { mixed, rest } = stateContributions({
      plan,
      sp,
      x: states[sp.state] as t.Tensor,
      w: sw[sp.state] as StateWeights,
      masks: masks ? sp.skip.map((m) => masks.get(m.edge) as t.Tensor) : null,
    });
    for (const c of mixed) accumulate(acc, c, plan.opChannels);
    if (rest) accumulate(accRest, rest, cRest);
    const done = sp.state - 1; // node j-1 has all its inputs once state j is read
    if (done >= 0) {
      const mix = acc[done] as t.Tensor;
      states.push(plan.partial === null ? mix : channelShuffle(t.cat([mix, accRest[done] as t.Tensor], 1), plan.partial));
    }
  }
  return states;
}
