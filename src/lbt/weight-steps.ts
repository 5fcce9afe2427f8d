// Algorithm 1's weight updates: one real SGD step of the teacher on D_tr, then one of the
// student on L(S, D_tr) + λ·L_pl(S; T, A, D_u) with the updated teacher's soft labels.
import {
  type Tensor,
  argmax,
  copyInPlace,
  crossEntropy,
  detach,
  eq,
  grad,
  noGrad,
  optim,
  scope,
  softCrossEntropy,
  softmax,
} from '../torch/index.js';
import { NonFiniteError } from './architect.js';
import { gradOrZero, type StudentPass, studentObjectiveFromLogits } from './unroll.js';
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
    // D_tr first, then D_u: the order of the architect's student pass (same BN statistics)
    const st = cfg.pseudoOnly ? null : student.forward(train.x);
    const su = student.forward(u);
    const loss = studentObjectiveFromLogits(st, train.y, su, p, cfg.lambda);
    const value = loss.item();
    if (!Number.isFinite(value)) throw new NonFiniteError(`student training loss is ${value}`);
    applyGrads(student.weights, gradOrZero(loss, student.weights), opt, cfg.studentGradClip);
    return { loss: value, ...studentStats(st, su, teacherLogits, train.y, uLabels) };
  });
}

function studentStats(
  st: Tensor | null,
  su: Tensor,
  teacherLogits: Tensor,
  y: Tensor,
  uLabels: Tensor | null,
): Omit<StudentStepStats, 'loss'> {
  const teach = argmax(teacherLogits, 1);
  return {
    agreement: eq(argmax(su, 1), teach).to({ dtype: 'float32' }).mean().item(),
    pseudoLabelAcc: uLabels ? eq(teach, uLabels).to({ dtype: 'float32' }).mean().item() : null,
    acc: st === null ? null : accuracy(st, y),
  };
}

/**
 * The same step as studentStep, from the architect's student pass at the same S: its D_tr
 * forward and its gradient are this step's, up to the pseudo-labels, in which L_pl is linear:
 *   ∇_S O_s(S; p) = ∇_S O_s(S; p_pass) + J_u(S)ᵀ (∂_q λL_pl(q; p) − ∂_q λL_pl(q; p_pass)),  q = student(u; S)
 * so one forward on D_u and one backward through it replace two forwards and a backward. The BN
 * statistics start from where the pass's D_tr forward left them, as in studentStep.
 */
export function studentStepFromPass(
  student: Net,
  teacher: TeacherNet,
  opt: optim.Optimizer,
  pass: StudentPass,
  train: Labeled,
  u: Tensor,
  cfg: WeightStepConfig,
  uLabels: Tensor | null = null,
): StudentStepStats {
  return scope(() => {
    const teacherLogits = noGrad(() => teacher.forward(u));
    const p = softmax(teacherLogits, 1);
    noGrad(() => student.buffers.forEach((b, i) => copyInPlace(b, pass.buffers[i] as Tensor)));
    const su = student.forward(u);
    const q = detach(su).requiresGrad_(true);
    const upstream = (labels: Tensor) => grad(softCrossEntropy(q, labels).mul(cfg.lambda), [q])[0] as Tensor;
    const delta = upstream(p).sub(upstream(pass.p));
    const corr = grad(su, student.weights, { gradOutputs: [delta], allowUnused: true });
    const g = pass.grad.map((gi, i) => (corr[i] ? gi.add(corr[i] as Tensor) : gi));
    const value = noGrad(() => studentObjectiveFromLogits(pass.trainLogits, train.y, q, p, cfg.lambda).item());
    if (!Number.isFinite(value)) throw new NonFiniteError(`student training loss is ${value}`);
    applyGrads(student.weights, g, opt, cfg.studentGradClip);
    return { loss: value, ...studentStats(pass.trainLogits, q, teacherLogits, train.y, uLabels) };
  });
}
