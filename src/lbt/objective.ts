// The one-step unrolled objective O_v(A), evaluated by running the unrolled steps at A.
// Ground truth for the hypergradient: its central differences over A.
import { type Tensor, crossEntropy, detach, noGrad, scope, softmax, tensor } from '../torch/index.js';
import { teacherLoss, unrolledStudent, unrolledTeacher } from './unroll.js';
import type { HypergradInput } from './hypergradient.js';

/** The same problem as the hypergradient's, at the teacher's live architecture. */
export type ObjectiveInput = Omit<HypergradInput, 'arch'>;

/**
 * O_v(A) = L(T', A, D_val) + γ·L(S', D_val) with T' = T'(A) (Eq. 4) and S' = S'(p(T', A)) (Eq. 5),
 * under the same switches as the hypergradient. In paper form the pseudo-labels see A only
 * through T' (p is computed at the reference architecture `pseudoArch`), which is the objective
 * whose gradient Eq. 11 gives.
 */
export function unrolledObjective(inp: ObjectiveInput, arch: readonly Tensor[], pseudoArch: readonly Tensor[] = arch): number {
  const { teacher, student, batches, cfg } = inp;
  return scope(() => {
    const xiT = cfg.firstOrder ? 0 : inp.teacherOpt.lr;
    const Tp = xiT === 0 ? teacher.weights : unrolledTeacher(teacher, inp.teacherOpt, xiT, batches.train, arch);
    let value = 0;
    if (!cfg.studentOnly) value += noGrad(() => teacherLoss(teacher, batches.val, Tp, arch).item());
    if (student !== null && inp.studentOpt !== null && cfg.gamma !== 0 && cfg.lambda !== 0) {
      const p = noGrad(() => softmax(teacher.forward(batches.unlabeled, Tp, cfg.paperForm ? pseudoArch : arch), 1));
      const Sp = unrolledStudent(
        student,
        inp.studentOpt,
        inp.studentOpt.lr,
        batches.train,
        batches.unlabeled,
        detach(p),
        cfg.lambda,
        cfg.pseudoOnly,
      );
      value += cfg.gamma * noGrad(() => crossEntropy(student.forward(batches.val.x, Sp), batches.val.y).item());
    }
    return value;
  });
}

export interface NumericGradOptions {
  /** Central-difference step on each component of A. */
  step: number;
  /** Only these flat indices per arch tensor (default: all). */
  indices?: readonly (readonly number[])[];
}

/** Central differences of O_v over each (selected) component of A: the brute-force hypergradient. */
export function numericHypergradient(inp: ObjectiveInput, o: NumericGradOptions): number[][] {
  const base = inp.teacher.arch;
  const pseudoArch = base;
  return base.map((a, ai) => {
    const flat = a.toArray();
    const idx = o.indices?.[ai] ?? flat.map((_, k) => k);
    return idx.map((k) => {
      const at = (delta: number) =>
        scope(() => {
          const v = flat.slice();
          v[k] = (v[k] as number) + delta;
          const shifted = base.map((b, bi) => (bi === ai ? tensor(v, b.shape, { dtype: b.dtype }) : b));
          return unrolledObjective(inp, shifted, pseudoArch);
        });
      return (at(o.step) - at(-o.step)) / (2 * o.step);
    });
  });
}
