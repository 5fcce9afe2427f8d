// The LBT hypergradient dO_v/dA (DESIGN §2; paper Eq. 6-12), with vectors only.
//
//   g_v = ∇_T' L(T', A, D_val)      a_v = ∂_A L(T', A, D_val)        teacher, direct signal
//   h_s = ∇_S' L(S', D_val)                                             student, indirect signal
//   ∇_p φ = −(1/N) J_{log q}(S) h_s   (two student forwards)          φ = h_sᵀ ∇_S L_pl(S; p, u)
//   u_T, u_A = one backward of p = softmax(teacher(u; T', A)) with upstream ∇_p φ
//   w = g_v − γ ξ_s λ u_T
//   dO_v/dA = a_v − γ ξ_s λ u_A − ξ_t ∇²_{A,T} L(T, A, D_tr)·w
import {
  type Tensor,
  crossEntropy,
  detach,
  grad,
  logSoftmax,
  NonFiniteError,
  noGrad,
  scope,
  softmax,
  stack,
  zerosLike,
} from '../torch/index.js';
import { gradOrZero, sgdLookahead, type StudentPass, studentPass, teacherLoss, unrolledTeacher } from './unroll.js';
import type { HypergradConfig, Labeled, LbtBatches, Net, SgdView, TeacherNet } from './types.js';

/** ‖v‖ over a list of tensors, as a 0-dim tensor (no host read). */
export function globalNormTensor(v: readonly Tensor[]): Tensor {
  return scope(() => stack(v.map((t) => t.norm())).norm());
}

/**
 * ‖v‖ over a list of tensors, read to the host (one read: the finite-difference scale ε = r/‖v‖
 * multiplies every shifted weight, and a scalar costs no kernel where a device-side ε would cost
 * one per weight). A NaN or infinite norm throws here: the step it belongs to is not applied.
 */
export function globalNorm(v: readonly Tensor[], what = 'norm'): number {
  const n = scope(() => globalNormTensor(v).item());
  if (!Number.isFinite(n)) throw new NonFiniteError(`${what} is ${n}`);
  return n;
}

function leaves(ts: readonly Tensor[]): Tensor[] {
  return ts.map((t) => detach(t).requiresGrad_(true));
}

/**
 * ∇²_{A,T} L(T, A, D_tr)·w ≈ [∇_A L(T + εw, A) − ∇_A L(T − εw, A)] / 2ε,  ε = r/‖w‖   (Eq. 8)
 * T± are new tensors substituted for the forward; the live weights are never shifted.
 */
export function mixedHessianVector(
  teacher: TeacherNet,
  train: Labeled,
  arch: readonly Tensor[],
  w: readonly Tensor[],
  r: number,
  norm?: number,
): Tensor[] {
  const n = norm ?? globalNorm(w, "the hypergradient's Hessian direction ‖w‖");
  if (n === 0) return arch.map((a) => zerosLike(a));
  const eps = r / n;
  const gradA = (sign: 1 | -1) => {
    const Tpm = noGrad(() => teacher.weights.map((t, i) => t.add(w[i] as Tensor, sign * eps)));
    const A = leaves(arch);
    return gradOrZero(teacherLoss(teacher, train, Tpm, A), A);
  };
  const plus = gradA(1);
  const minus = gradA(-1);
  return plus.map((p, i) => p.sub(minus[i] as Tensor).div(2 * eps));
}

/** The same product, exactly, by double backward (createGraph): for checks and small models. */
export function mixedHessianVectorExact(
  teacher: TeacherNet,
  train: Labeled,
  arch: readonly Tensor[],
  w: readonly Tensor[],
): Tensor[] {
  const T = leaves(teacher.weights);
  const A = leaves(arch);
  const gT = gradOrZero(teacherLoss(teacher, train, T, A), T, { createGraph: true });
  let dot = gT[0]!.mul(w[0] as Tensor).sum();
  for (let i = 1; i < gT.length; i++) dot = dot.add(gT[i]!.mul(w[i] as Tensor).sum());
  return grad(dot, A, { allowUnused: true }).map((g, i) => g ?? zerosLike(arch[i] as Tensor));
}

/**
 * ∇_p φ = −(1/N)·J_{log q}(S) h_s ≈ −(1/N)·(log q(S + εh) − log q(S − εh)) / 2ε,  ε = r/‖h_s‖
 * (DESIGN §2, point 2: L_pl is linear in p, so this [N, K] matrix is all the student contributes.)
 */
export function pseudoLabelCotangent(student: Net, u: Tensor, hs: readonly Tensor[], r: number): Tensor {
  const n = globalNorm(hs, "the student's validation gradient ‖h_s‖");
  const N = u.size(0);
  return noGrad(() => {
    if (n === 0) return zerosLike(student.forward(u));
    const eps = r / n;
    const at = (sign: 1 | -1) =>
      logSoftmax(
        student.forward(
          u,
          student.weights.map((s, i) => s.add(hs[i] as Tensor, sign * eps)),
        ),
        1,
      );
    return at(1)
      .sub(at(-1))
      .div(-2 * eps * N);
  });
}

/** What the hypergradient measured on the way (tensors stay on the device: no host read). */
export interface HypergradStats {
  /** L(T', A, D_val), or null when the teacher term is off. */
  teacherValLoss: Tensor | null;
  /** L(S', D_val), or null without a student. */
  studentValLoss: Tensor | null;
  /** ‖w‖, the vector the Hessian is applied to (read for ε; null in first order, where no Hessian is applied). */
  wNorm: number | null;
  /** With `measure`: the sizes of the terms (see TermSizes), 0-dim tensors. */
  sizes?: Partial<Record<TermName, Tensor>>;
}

/**
 * The global L2 norms of the hypergradient's terms: aV = ‖a_v‖, gV = ‖g_v‖ (the teacher's own
 * validation signal), uA = ‖γξ_sλ·u_A‖, uT = ‖γξ_sλ·u_T‖ (the student's, on A directly and
 * through T'). A term the configuration does not have is absent.
 */
export const TERM_NAMES = ['aV', 'gV', 'uA', 'uT'] as const;
export type TermName = (typeof TERM_NAMES)[number];
export type TermSizes = Partial<Record<TermName, number>>;

export interface HypergradInput {
  teacher: TeacherNet;
  teacherOpt: SgdView;
  /** null: plain DARTS (no student term). */
  student: Net | null;
  studentOpt: SgdView | null;
  batches: LbtBatches;
  cfg: HypergradConfig;
  /** Architecture at which to evaluate (default: the teacher's live arch). */
  arch?: readonly Tensor[];
  /** Also return the terms' sizes (stats.sizes, on the device): for steps that are logged. */
  measure?: boolean;
  /** Return the student's pass at S for the student's weight step to reuse (iteration.ts); the caller owns it. */
  keepStudentPass?: boolean;
}

/** dO_v/dA (Eq. 6 with Eq. 7-12 as in DESIGN §2). Returns new tensors shaped like A. */
export function hypergradient(inp: HypergradInput): {
  grads: Tensor[];
  stats: HypergradStats;
  studentPass: StudentPass | null;
} {
  const { teacher, student, batches, cfg } = inp;
  const arch = inp.arch ?? teacher.arch;
  const nT = teacher.weights.length;
  const xiT = cfg.firstOrder ? 0 : inp.teacherOpt.lr;
  return scope(() => {
    // Eq. 4: T' (T itself when first order)
    const Tp = leaves(xiT === 0 ? teacher.weights : unrolledTeacher(teacher, inp.teacherOpt, xiT, batches.train, arch));
    const A = leaves(arch);
    let aGrad: Tensor[] = arch.map((a) => zerosLike(a));
    let w: Tensor[] = teacher.weights.map((t) => zerosLike(t));
    const stats: HypergradStats = { teacherValLoss: null, studentValLoss: null, wNorm: null };
    let gv: Tensor[] | null = null;
    const sizes: Partial<Record<TermName, Tensor>> = {};
    let kept: StudentPass | null = null;

    // Eq. 7, direct terms: a_v and g_v
    if (!cfg.studentOnly) {
      const lv = teacherLoss(teacher, batches.val, Tp, A);
      stats.teacherValLoss = detach(lv);
      const gs = grad(lv, [...Tp, ...A], { allowUnused: true });
      w = gs.slice(0, nT).map((g, i) => g ?? zerosLike(Tp[i] as Tensor));
      gv = w;
      aGrad = gs.slice(nT).map((g, i) => g ?? zerosLike(arch[i] as Tensor));
      if (inp.measure) [sizes.aV, sizes.gV] = [globalNormTensor(aGrad), globalNormTensor(gv)];
    }

    // Eq. 9-12: the student's validation loss through S'(p(T', A))
    if (student !== null && inp.studentOpt !== null && cfg.gamma !== 0 && cfg.lambda !== 0) {
      const xiS = inp.studentOpt.lr;
      const p = softmax(teacher.forward(batches.unlabeled, Tp, A), 1); // kept with its graph
      const keep = inp.keepStudentPass ?? false;
      const sp = studentPass(student, batches.train, batches.unlabeled, detach(p), cfg.lambda, cfg.pseudoOnly, keep);
      kept = sp.pass;
      const Sp = leaves(sgdLookahead(student.weights, sp.grad, inp.studentOpt, xiS)); // Eq. 5
      const ls = crossEntropy(student.forward(batches.val.x, Sp), batches.val.y);
      stats.studentValLoss = detach(ls);
      const hs = gradOrZero(ls, Sp);
      const cot = pseudoLabelCotangent(student, batches.unlabeled, hs, cfg.fdScale);
      const us = grad(p, [...Tp, ...A], { gradOutputs: [cot], allowUnused: true });
      const c = cfg.gamma * xiS * cfg.lambda;
      if (inp.measure) {
        const part = (from: number, to: number) => us.slice(from, to).filter((u): u is Tensor => u !== undefined && u !== null);
        const [uT, uA] = [part(0, nT), part(nT, us.length)];
        if (uT.length) sizes.uT = globalNormTensor(uT).mul(Math.abs(c));
        if (uA.length && !cfg.paperForm) sizes.uA = globalNormTensor(uA).mul(Math.abs(c));
      }
      w = w.map((wi, i) => (us[i] ? wi.sub(us[i] as Tensor, c) : wi));
      if (!cfg.paperForm) aGrad = aGrad.map((g, i) => (us[nT + i] ? g.sub(us[nT + i] as Tensor, c) : g));
    }

    // Eq. 7-8 and 12, combined: − ξ_t ∇²_{A,T} L(T, A, D_tr)·w, one finite-difference pair
    // (‖w‖ is read once here, for ε, and is the step's only host read in DARTS-2nd)
    if (xiT !== 0) stats.wNorm = globalNorm(w, "the hypergradient's Hessian direction ‖w‖");
    if (stats.wNorm !== null && stats.wNorm > 0) {
      const hvp = (v: readonly Tensor[]) =>
        cfg.hvp === 'exact'
          ? mixedHessianVectorExact(teacher, batches.train, arch, v)
          : mixedHessianVector(teacher, batches.train, arch, v, cfg.fdScale, v === w ? (stats.wNorm as number) : undefined);
      // the paper's literal form applies Eq. 8 to g_v and to u_T separately: same value, twice the passes
      const parts = cfg.separatePairs && gv ? [gv, w.map((wi, i) => wi.sub(gv[i] as Tensor))] : [w];
      for (const part of parts) {
        const hw = hvp(part);
        aGrad = aGrad.map((g, i) => g.sub(hw[i] as Tensor, xiT));
      }
    }
    if (inp.measure) stats.sizes = sizes;
    return { grads: aGrad, stats, studentPass: kept };
  });
}
