// One iteration of Algorithm 1: A ← architect step (when on), T ← SGD on D_tr, S ← SGD on
// L(S, D_tr) + λ·L_pl(S; T, A, D_u), with no pass done twice where the math allows reuse.
//
// What is shared: the architect's unrolled student step (Eq. 5) and the student's weight step
// both evaluate the student's objective at the same weights S on the same D_tr and D_u batches;
// only the pseudo-labels differ (T', A before the update vs. T, A after it), and L_pl is linear in
// them. So the weight step reuses the architect's D_tr forward and gradient, and corrects the
// gradient by one forward and backward on D_u (studentStepFromPass). The D_u graph is not kept
// across the architect step: that would hold the student's activations through the teacher's
// Hessian passes, where the step's memory peaks. Nothing else repeats: every other pass runs at
// weights or architecture values that differ (T', T ± εw and the updated T; A before and after
// its update), or on another batch.
import { type Tensor, disposeAll, type optim } from '../torch/index.js';
import type { Architect } from './architect.js';
import type { StepMeter } from './meter.js';
import type { LbtBatches, Net, SgdView, TeacherNet } from './types.js';
import type { StudentPass } from './unroll.js';
import { studentStep, studentStepFromPass, teacherStep, type WeightStepConfig } from './weight-steps.js';

export interface IterationInput {
  teacher: TeacherNet;
  teacherOpt: optim.Optimizer & SgdView;
  /** null: no architecture step this iteration (warm-up). */
  architect: Architect | null;
  student: Net | null;
  studentOpt: (optim.Optimizer & SgdView) | null;
  batches: LbtBatches;
  weights: WeightStepConfig;
  /** D_u's true labels where known (for the pseudo-label accuracy metric only). */
  uLabels?: Tensor | null;
  /** Reuse the architect's student pass in the student's weight step (default true; false: the oracle in tests). */
  reuse?: boolean;
  /** Receives the iteration's statistics (meter.ts): read it once per log interval, and before a checkpoint. */
  meter: StepMeter;
  /** Put the hypergradient terms' sizes in the meter too (logged steps; architect.ts). */
  measure?: boolean;
}

export function lbtIteration(inp: IterationInput): void {
  const { teacher, student, batches, meter } = inp;
  const stepInput = {
    teacherOpt: inp.teacherOpt,
    student,
    studentOpt: inp.studentOpt,
    batches,
    meter,
    measure: inp.measure ?? false,
  };
  let pass: StudentPass | null = null;
  try {
    const a = inp.architect;
    if (a) {
      // the pass is the weight step's only if both use the same student objective
      const same = a.cfg.lambda === inp.weights.lambda && a.cfg.pseudoOnly === inp.weights.pseudoOnly;
      if ((inp.reuse ?? true) && same) pass = a.stepKeepingStudentPass(stepInput);
      else a.step(stepInput);
    }
    teacherStep(teacher, inp.teacherOpt, batches.train, inp.weights.teacherGradClip, meter);
    if (student && inp.studentOpt) {
      const b = { train: batches.train, u: batches.unlabeled, uLabels: inp.uLabels ?? null };
      if (pass) studentStepFromPass(student, teacher, inp.studentOpt, pass, b, inp.weights, meter);
      else studentStep(student, teacher, inp.studentOpt, b, inp.weights, meter);
    }
  } finally {
    disposeAll(pass);
  }
}
