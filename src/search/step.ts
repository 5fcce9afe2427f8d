// One iteration of Algorithm 1: A ← architect (DARTS-1st/2nd, or the LBT hypergradient), then
// T ← SGD on D_tr, then S ← SGD on D_tr + λ·pseudo-labels from the updated teacher.
import { hiddenLabels } from '../data/load.js';
import type { Batch } from '../data/stream.js';
import { studentStep, teacherStep } from '../lbt/index.js';
import { batchToDevice } from '../runs/device.js';
import { RunningMean } from '../runs/metrics.js';
import type { LossAcc, TeachingSignal } from '../runs/types.js';
import * as t from '../torch/index.js';
import { teachingSignal } from './arch-log.js';
import type { Searching } from './state.js';

/** What one step measured (the student's part with LBT on). */
export interface StepStats {
  teacher: LossAcc;
  student: { loss: number; acc: number | null; agreement: number; pseudoLabelAcc: number | null } | null;
  /** On steps that are logged: the sizes of the hypergradient's terms. */
  teaching?: TeachingSignal;
}

const MEANS = ['teacherLoss', 'teacherAcc', 'studentLoss', 'studentAcc', 'agreement', 'pseudoAcc'] as const;

/** EpochTotals in a checkpoint taken mid-epoch: the running sums, so that a resumed epoch's record covers all its steps. */
export type EpochTotalsState = Record<(typeof MEANS)[number], { sum: number; n: number }> & { dataMs: number };

/** Running means over an epoch's steps, and the epoch's wall and data time. */
export class EpochTotals {
  readonly teacherLoss = new RunningMean();
  readonly teacherAcc = new RunningMean();
  readonly studentLoss = new RunningMean();
  readonly studentAcc = new RunningMean();
  readonly agreement = new RunningMean();
  readonly pseudoAcc = new RunningMean();
  readonly start = Date.now();
  dataMs = 0;
  /** The last step's numbers (step records show them). */
  last: StepStats = { teacher: { loss: Number.NaN, acc: Number.NaN }, student: null };

  constructor(
    readonly lr: number,
    from?: EpochTotalsState,
  ) {
    if (!from) return;
    for (const k of MEANS) this[k].restore(from[k]);
    this.dataMs = from.dataMs;
  }

  toJSON(): EpochTotalsState {
    const out = { dataMs: this.dataMs } as EpochTotalsState;
    for (const k of MEANS) out[k] = this[k].toJSON();
    return out;
  }

  add(st: StepStats): void {
    this.last = st;
    this.teacherLoss.update(st.teacher.loss);
    this.teacherAcc.update(st.teacher.acc);
    if (!st.student) return;
    this.studentLoss.update(st.student.loss);
    if (st.student.acc !== null) this.studentAcc.update(st.student.acc);
    this.agreement.update(st.student.agreement);
    if (st.student.pseudoLabelAcc !== null) this.pseudoAcc.update(st.student.pseudoLabelAcc);
  }
}

/** The step's batches of D_tr, D_val and D_u (in that order), on the run's device. */
export async function nextBatches(s: Searching, totals: EpochTotals): Promise<[Batch, Batch, Batch]> {
  const t0 = Date.now();
  const batches: [Batch, Batch, Batch] = [
    batchToDevice(await s.streams.train.next(), s.device, s.cfg.engine.channelsLast),
    batchToDevice(await s.streams.valid.next(), s.device, s.cfg.engine.channelsLast),
    batchToDevice(await s.streams.unlabeled.next(), s.device, s.cfg.engine.channelsLast),
  ];
  totals.dataMs += Date.now() - t0;
  return batches;
}

/** S ← SGD on L(S, D_tr) + λ·L_pl(S; T, A, D_u); D_u's held-back labels (same-dataset D_u) measure the pseudo-labels. */
function studentUpdate(s: Searching, train: { x: t.Tensor; y: t.Tensor }, u: Batch): StepStats['student'] {
  const { cfg, student, teacher } = s;
  if (!student) return null;
  const hidden = hiddenLabels(s.data, u.index);
  const uLabels = hidden ? t.tensor(Array.from(hidden), [hidden.length], { dtype: 'int64', device: s.device }) : null;
  try {
    const clip = (c: number) => (c > 0 ? c : null);
    const o = {
      lambda: cfg.lambda,
      pseudoOnly: cfg.pseudoOnly,
      teacherGradClip: clip(cfg.weights.gradClip),
      studentGradClip: clip(cfg.student.gradClip),
    };
    return studentStep(student.net, teacher.net, student.opt, train, u.x, o, uLabels);
  } finally {
    uLabels?.dispose();
  }
}

/** One iteration on the batches: A (once the architecture warm-up is over), then T, then S. */
export function searchStep(s: Searching, [tr, va, u]: [Batch, Batch, Batch], archOn: boolean): StepStats {
  const { teacher, student } = s;
  const train = { x: tr.x, y: tr.y as t.Tensor };
  const val = { x: va.x, y: va.y as t.Tensor };
  let teaching: TeachingSignal | undefined;
  if (archOn) {
    const batches = { train, val, unlabeled: u.x };
    const measure = (s.pos.step + 1) % s.cfg.logEvery === 0; // this step's record shows the sizes
    const sides = { teacherOpt: teacher.opt, student: student?.net ?? null, studentOpt: student?.opt ?? null };
    const { sizes } = teacher.architect.step({ ...sides, batches, measure });
    if (sizes) teaching = teachingSignal(sizes);
  }
  const clip = s.cfg.weights.gradClip > 0 ? s.cfg.weights.gradClip : null;
  const ts = teacherStep(teacher.net, teacher.opt, train, clip);
  return { teacher: { loss: ts.loss, acc: ts.acc }, student: studentUpdate(s, train, u), ...(teaching && { teaching }) };
}
