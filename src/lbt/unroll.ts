// One-step unrolling of SGD, exactly the optimizer's own step (DARTS architect._compute_unrolled_model).
import { type Tensor, crossEntropy, grad, noGrad, softCrossEntropy, zerosLike } from '../torch/index.js';
import type { Labeled, Net, SgdView } from './types.js';

/** ∇ of loss w.r.t. each x; zeros where x does not take part (e.g. an unused op's weights). */
export function gradOrZero(loss: Tensor, xs: readonly Tensor[], o: { createGraph?: boolean } = {}): Tensor[] {
  return grad(loss, xs, { allowUnused: true, createGraph: o.createGraph ?? false }).map(
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
  const S = student.weights;
  const g = gradOrZero(studentObjective(student, train, u, p, lambda, pseudoOnly), S);
  return sgdLookahead(S, g, opt, xi);
}
