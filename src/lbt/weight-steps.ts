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
import type { StepMeter } from './meter.js';
import { gradOrZero, type StudentPass, studentObjectiveFromLogits } from './unroll.js';
import type { Labeled, Net, TeacherNet } from './types.js';

export interface WeightStepConfig {
  lambda: number;
  pseudoOnly: boolean;
  /** Global gradient-norm clip for each model (reference: 5); null for none. */
  teacherGradClip: number | null;
  studentGradClip: number | null;
}

/** Fraction of rows whose argmax is the label: a 0-dim tensor (no host read). */
function accuracy(logits: Tensor, y: Tensor): Tensor {
  return eq(argmax(logits, 1), y).to({ dtype: 'float32' }).mean();
}

/** Sets .grad of each weight to g and steps the optimizer (after clipping); the norm before clipping (a tensor) or null. */
function applyGrads(weights: readonly Tensor[], g: readonly Tensor[], opt: optim.Optimizer, clip: number | null): Tensor | null {
  weights.forEach((w, i) => {
    w.grad = g[i] as Tensor;
  });
  const norm = clip === null ? null : optim.clipGradNormOnDevice(weights, clip);
  opt.step();
  opt.zeroGrad();
  return norm;
}

/**
 * T ← SGD step on L(T, A, D_tr) (Algorithm 1, line 1; the gradient reaches T only, not A).
 * Records teacher.loss, teacher.acc and teacher.gradNorm (with clipping) in the meter.
 */
export function teacherStep(
  teacher: TeacherNet,
  opt: optim.Optimizer,
  train: Labeled,
  clip: number | null,
  meter: StepMeter,
): void {
  scope(() => {
    const logits = teacher.forward(train.x);
    const loss = crossEntropy(logits, train.y);
    meter.add('teacher.loss', loss); // an eager meter throws here on NaN, before the step applies
    const norm = applyGrads(teacher.weights, gradOrZero(loss, teacher.weights), opt, clip);
    if (norm) meter.add('teacher.gradNorm', norm);
    meter.add('teacher.acc', accuracy(logits, train.y));
  });
}

/**
 * S ← SGD step on L(S, D_tr) + λ·L_pl(S; T, A, D_u) (Algorithm 1, line 2), soft labels from the
 * current teacher. Records student.loss, .acc (not in pseudo-only mode), .agreement (the fraction
 * of D_u where the student's argmax is the teacher's), .pseudoAcc (the teacher's pseudo-labels
 * against D_u's true labels, where known) and .gradNorm.
 */
export function studentStep(
  student: Net,
  teacher: TeacherNet,
  opt: optim.Optimizer,
  batch: { train: Labeled; u: Tensor; uLabels?: Tensor | null },
  cfg: WeightStepConfig,
  meter: StepMeter,
): void {
  scope(() => {
    const { train, u } = batch;
    const { teacherLogits, p } = pseudoLabels(teacher, u);
    // D_tr first, then D_u: the order of the architect's student pass (same BN statistics)
    const st = cfg.pseudoOnly ? null : student.forward(train.x);
    const su = student.forward(u);
    const loss = studentObjectiveFromLogits(st, train.y, su, p, cfg.lambda);
    meter.add('student.loss', loss);
    const norm = applyGrads(student.weights, gradOrZero(loss, student.weights), opt, cfg.studentGradClip);
    if (norm) meter.add('student.gradNorm', norm);
    studentStats(meter, st, su, teacherLogits, train.y, batch.uLabels ?? null);
  });
}

/** The updated teacher's logits on D_u and its soft pseudo-labels p (no graph). */
function pseudoLabels(teacher: TeacherNet, u: Tensor): { teacherLogits: Tensor; p: Tensor } {
  const teacherLogits = noGrad(() => teacher.forward(u));
  return { teacherLogits, p: softmax(teacherLogits, 1) };
}

function studentStats(
  meter: StepMeter,
  st: Tensor | null,
  su: Tensor,
  teacherLogits: Tensor,
  y: Tensor,
  uLabels: Tensor | null,
): void {
  noGrad(() => {
    const teach = argmax(teacherLogits, 1);
    meter.add('student.agreement', eq(argmax(su, 1), teach).to({ dtype: 'float32' }).mean());
    if (uLabels) meter.add('student.pseudoAcc', eq(teach, uLabels).to({ dtype: 'float32' }).mean());
    if (st !== null) meter.add('student.acc', accuracy(st, y));
  });
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
  batch: { train: Labeled; u: Tensor; uLabels?: Tensor | null },
  cfg: WeightStepConfig,
  meter: StepMeter,
): void {
  scope(() => {
    const { train, u } = batch;
    const { teacherLogits, p } = pseudoLabels(teacher, u);
    noGrad(() => student.buffers.forEach((b, i) => copyInPlace(b, pass.buffers[i] as Tensor)));
    const su = student.forward(u);
    const q = detach(su).requiresGrad_(true);
    const upstream = (labels: Tensor) => grad(softCrossEntropy(q, labels).mul(cfg.lambda), [q])[0] as Tensor;
    const delta = upstream(p).sub(upstream(pass.p));
    const corr = grad(su, student.weights, { gradOutputs: [delta], allowUnused: true });
    const g = pass.grad.map((gi, i) => (corr[i] ? gi.add(corr[i] as Tensor) : gi));
    meter.add(
      'student.loss',
      noGrad(() => studentObjectiveFromLogits(pass.trainLogits, train.y, q, p, cfg.lambda)),
    );
    const norm = applyGrads(student.weights, g, opt, cfg.studentGradClip);
    if (norm) meter.add('student.gradNorm', norm);
    studentStats(meter, pass.trainLogits, q, teacherLogits, train.y, batch.uLabels ?? null);
  });
}
