// One iteration of Algorithm 1: A ← architect (DARTS-1st/2nd, or the LBT hypergradient), then
// T ← SGD on D_tr, then S ← SGD on D_tr + λ·pseudo-labels from the updated teacher
// (src/lbt/iteration.ts: the student's step reuses the architect's student pass).
import { hiddenLabels } from '../data/load.js';
import type { Batch } from '../data/stream.js';
import { lbtIteration } from '../lbt/index.js';
import { batchToDevice } from '../runs/device.js';
import { RunningMean } from '../runs/metrics.js';
import type { LossAcc } from '../runs/types.js';
import * as t from '../torch/index.js';
import type { Searching } from './state.js';

/** What one step measured (the student's part with LBT on). */
export interface StepStats {
  teacher: LossAcc;
  student: { loss: number; acc: number | null; agreement: number; pseudoLabelAcc: number | null } | null;
}

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

  constructor(readonly lr: number) {}

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

/** One iteration on the batches: A (once the architecture warm-up is over), then T, then S (lbtIteration). */
export function searchStep(s: Searching, [tr, va, u]: [Batch, Batch, Batch], archOn: boolean): StepStats {
  const { cfg, teacher, student } = s;
  const train = { x: tr.x, y: tr.y as t.Tensor };
  const val = { x: va.x, y: va.y as t.Tensor };
  // D_u's held-back labels (same-dataset D_u) measure the pseudo-labels
  const hidden = student ? hiddenLabels(s.data, u.index) : null;
  const uLabels = hidden ? t.tensor(Array.from(hidden), [hidden.length], { dtype: 'int64', device: s.device }) : null;
  const clip = (c: number) => (c > 0 ? c : null);
  try {
    const r = lbtIteration({
      teacher: teacher.net,
      teacherOpt: teacher.opt,
      architect: archOn ? teacher.architect : null,
      student: student?.net ?? null,
      studentOpt: student?.opt ?? null,
      batches: { train, val, unlabeled: u.x },
      weights: {
        lambda: cfg.lambda,
        pseudoOnly: cfg.pseudoOnly,
        teacherGradClip: clip(cfg.weights.gradClip),
        studentGradClip: clip(cfg.student.gradClip),
      },
      uLabels,
    });
    return { teacher: { loss: r.teacher.loss, acc: r.teacher.acc }, student: r.student };
  } finally {
    uLabels?.dispose();
  }
}
