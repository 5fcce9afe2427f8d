// Algorithm 1's weight updates: one real SGD step of the teacher on D_tr, then one of the
// student on L(S, D_tr) + λ·L_pl(S; T, A, D_u) with the updated teacher's soft labels.
import { type Tensor, argmax, crossEntropy, eq, noGrad, optim, scope, softmax } from '../torch/index.js';
import { NonFiniteError } from './architect.js';
import { gradOrZero, studentObjectiveFromLogits } from './unroll.js';
import type { Labeled, Net, TeacherNet } from './types.js';

export interface WeightStepConfig {
  lambda: number;
  pseudoOnly: boolean;
  /** Global gradient-norm clip for each model (reference: 5); null for none. */
  teacherGradClip: number | null;
  studentGradClip: number | null;
}

function accuracy(logits: Tensor, y: Tensor): number {
  return eq(argmax(logits, 1), y).to({ dtype: 'float32' }).mean().item();
}

/** Sets .grad of each weight to g and steps the optimizer (after clipping). */
function applyGrads(weights: readonly Tensor[], g: readonly Tensor[], opt: optim.Optimizer, clip: number | null): number {
  weights.forEach((w, i) => {
    w.grad = g[i] as Tensor;
  });
  const norm = clip === null ? 0 : optim.clipGradNorm(weights, clip);
  opt.step();
  opt.zeroGrad();
  return norm;
}

export interface TeacherStepStats {
  loss: number;
  acc: number;
}

/** T ← SGD step on L(T, A, D_tr) (Algorithm 1, line 1; the gradient reaches T only, not A). */
export function teacherStep(teacher: TeacherNet, opt: optim.Optimizer, train: Labeled, clip: number | null): TeacherStepStats {
  return scope(() => {
    const logits = teacher.forward(train.x);
    const loss = crossEntropy(logits, train.y);
    const value = loss.item();
    if (!Number.isFinite(value)) throw new NonFiniteError(`teacher training loss is ${value}`);
    applyGrads(teacher.weights, gradOrZero(loss, teacher.weights), opt, clip);
    return { loss: value, acc: accuracy(logits, train.y) };
  });
}

export interface StudentStepStats {
  loss: number;
  /** Student accuracy on D_tr (null in pseudo-only mode, where D_tr is not used). */
  acc: number | null;
  /** Fraction of D_u where the student's argmax equals the teacher's. */
  agreement: number;
  /** Accuracy of the teacher's pseudo-labels where D_u's true labels are known. */
  pseudoLabelAcc: number | null;
}

/** S ← SGD step on L(S, D_tr) + λ·L_pl(S; T, A, D_u) (Algorithm 1, line 2), soft labels from the current teacher. */
export function studentStep(
  student: Net,
  teacher: TeacherNet,
  opt: optim.Optimizer,
  train: Labeled,
  u: Tensor,
  cfg: WeightStepConfig,
  uLabels: Tensor | null = null,
): StudentStepStats {
  return scope(() => {
    const teacherLogits = noGrad(() => teacher.forward(u));
    const p = softmax(teacherLogits, 1);
    const su = student.forward(u);
    const st = cfg.pseudoOnly ? null : student.forward(train.x);
    const loss = studentObjectiveFromLogits(st, train.y, su, p, cfg.lambda);
    const value = loss.item();
    if (!Number.isFinite(value)) throw new NonFiniteError(`student training loss is ${value}`);
    applyGrads(student.weights, gradOrZero(loss, student.weights), opt, cfg.studentGradClip);
    const teach = argmax(teacherLogits, 1);
    const stats = {
      agreement: eq(argmax(su, 1), teach).to({ dtype: 'float32' }).mean().item(),
      pseudoLabelAcc: uLabels ? eq(teach, uLabels).to({ dtype: 'float32' }).mean().item() : null,
      acc: st === null ? null : accuracy(st, train.y),
    };
    return { loss: value, ...stats };
  });
}
