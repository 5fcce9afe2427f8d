// One-step unrolling of SGD, exactly the optimizer's own step (DARTS architect._compute_unrolled_model).
import { type Tensor, clone, crossEntropy, detach, grad, noGrad, softCrossEntropy, zerosLike } from '../torch/index.js';
import type { Labeled, Net, SgdView } from './types.js';

/** ∇ of loss w.r.t. each x; zeros where x does not take part (e.g. an unused op's weights). */
export function gradOrZero(
  loss: Tensor,
  xs: readonly Tensor[],
  o: { createGraph?: boolean; retainGraph?: boolean } = {},
): Tensor[] {
  const createGraph = o.createGraph ?? false;
  return grad(loss, xs, { allowUnused: true, createGraph, retainGraph: o.retainGraph ?? createGraph }).map(
    (g, i) => g ?? zerosLike(xs[i] as Tensor),
  );
}

/** w − ξ(μ·m + g + wd·w): one un-clipped torch SGD step from w with gradient g. New tensors, no graph. */
export function sgdLookahead(w: readonly Tensor[], g: readonly Tensor[], opt: SgdView, xi: number): Tensor[] {
  return noGrad(() =>
    w.map((wi, i) => {
      let d = (g[i] as Tensor).add(wi, opt.weightDecay);
      const m = opt.momentumBuffer(i);
      if (m !== null && opt.momentum !== 0) d = d.add(m, opt.momentum);
      return wi.sub(d, xi);
    }),
  );
}

/** L(T, A, D): the teacher's cross-entropy at weights w and architecture a. */
export function teacherLoss(teacher: Net, batch: Labeled, w?: readonly Tensor[], a?: readonly Tensor[]): Tensor {
  return crossEntropy(teacher.forward(batch.x, w, a), batch.y);
}

/** T' = T − ξ_t (μ m_T + ∇_T L(T, A, D_tr) + wd·T)   (Eq. 4) */
export function unrolledTeacher(teacher: Net, opt: SgdView, xi: number, train: Labeled, arch: readonly Tensor[]): Tensor[] {
  const T = teacher.weights;
  const g = gradOrZero(teacherLoss(teacher, train, T, arch), T);
  return sgdLookahead(T, g, opt, xi);
}

/** O_s = L(S, D_tr) + λ·L_pl(S; p, u) from the student's logits on D_tr (null: pseudo-labels only) and on u. */
export function studentObjectiveFromLogits(
  trainLogits: Tensor | null,
  y: Tensor,
  uLogits: Tensor,
  p: Tensor,
  lambda: number,
): Tensor {
  const pl = softCrossEntropy(uLogits, p).mul(lambda);
  return trainLogits === null ? pl : crossEntropy(trainLogits, y).add(pl);
}

/** O_s = L(S, D_tr) + λ·L_pl(S; p, u), the student's objective with soft pseudo-labels p (Eq. 5's argument). */
export function studentObjective(
  student: Net,
  train: Labeled,
  u: Tensor,
  p: Tensor,
  lambda: number,
  pseudoOnly: boolean,
  w?: readonly Tensor[],
): Tensor {
  const trainLogits = pseudoOnly ? null : student.forward(train.x, w);
  return studentObjectiveFromLogits(trainLogits, train.y, student.forward(u, w), p, lambda);
}

/**
 * The student's pass of Eq. 5 at S, kept for the student's weight step (Algorithm 1, line 2),
 * which evaluates the same objective at the same S with other pseudo-labels: its D_tr forward
 * and its gradient are the weight step's too (iteration.ts).
 */
export interface StudentPass {
  /** ∇_S O_s(S; p) at the pass's pseudo-labels p. */
  grad: Tensor[];
  /** Logits on D_tr at S, detached (null in pseudo-only mode). */
  trainLogits: Tensor | null;
  /** The pass's pseudo-labels (no graph). */
  p: Tensor;
  /** The student's buffers (BN statistics) as the D_tr forward left them, before the D_u forward. */
  buffers: Tensor[];
}

/** ∇_S O_s(S; p) from forwards on D_tr, then D_u; keep: also what the weight step reuses. */
export function studentPass(
  student: Net,
  train: Labeled,
  u: Tensor,
  p: Tensor,
  lambda: number,
  pseudoOnly: boolean,
  keep: boolean,
): { grad: Tensor[]; pass: StudentPass | null } {
  const trainLogits = pseudoOnly ? null : student.forward(train.x);
  const buffers = keep ? noGrad(() => student.buffers.map((b) => clone(b))) : [];
  const loss = studentObjectiveFromLogits(trainLogits, train.y, student.forward(u), p, lambda);
  const g = gradOrZero(loss, student.weights);
  if (!keep) return { grad: g, pass: null };
  return { grad: g, pass: { grad: g, trainLogits: trainLogits && detach(trainLogits), p: detach(p), buffers } };
}

/** S' = S − ξ_s (μ m_S + ∇_S [L(S, D_tr) + λ L_pl(S; T', A, D_u)] + wd·S)   (Eq. 5) */
export function unrolledStudent(
  student: Net,
  opt: SgdView,
  xi: number,
  train: Labeled,
  u: Tensor,
  p: Tensor,
  lambda: number,
  pseudoOnly: boolean,
): Tensor[] {
  const { grad: g } = studentPass(student, train, u, p, lambda, pseudoOnly, false);
  return sgdLookahead(student.weights, g, opt, xi);
}
