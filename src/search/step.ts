// One iteration of Algorithm 1: A ← architect (DARTS-1st/2nd, or the LBT hypergradient), then
// T ← SGD on D_tr, then S ← SGD on D_tr + λ·pseudo-labels from the updated teacher
// (src/lbt/iteration.ts: the student's step reuses the architect's student pass).
import { hiddenLabels } from '../data/load.js';
import type { Batch } from '../data/stream.js';
import { lbtIteration, StepMeter, TERM_NAMES } from '../lbt/index.js';
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

/**
 * Running means over an epoch's steps, and the epoch's wall and data time. The steps' statistics
 * stay on the device in `meter` until flush() reads them (one host read): at each step record,
 * before each checkpoint and at the epoch's end; a NaN among them throws NonFiniteError there.
 */
export class EpochTotals {
  readonly teacherLoss = new RunningMean();
  readonly teacherAcc = new RunningMean();
  readonly studentLoss = new RunningMean();
  readonly studentAcc = new RunningMean();
  readonly agreement = new RunningMean();
  readonly pseudoAcc = new RunningMean();
  readonly start = Date.now();
  dataMs = 0;
  /** The last step's numbers as of the last flush (step records show them). */
  last: StepStats = { teacher: { loss: Number.NaN, acc: Number.NaN }, student: null };
  readonly meter = new StepMeter();

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

  /** Reads the steps since the last flush into the running means (nothing to read: no host read). */
  flush(): void {
    if (!this.meter.pending) return;
    const { mean, last, count } = this.meter.read();
    const into = (m: RunningMean, k: keyof typeof mean) => {
      if (count[k]) m.update(mean[k] as number, count[k]);
    };
    into(this.teacherLoss, 'teacher.loss');
    into(this.teacherAcc, 'teacher.acc');
    into(this.studentLoss, 'student.loss');
    into(this.studentAcc, 'student.acc');
    into(this.agreement, 'student.agreement');
    into(this.pseudoAcc, 'student.pseudoAcc');
    const v = (k: keyof typeof last) => last[k] ?? Number.NaN;
    const student = count['student.loss']
      ? {
          loss: v('student.loss'),
          acc: last['student.acc'] ?? null,
          agreement: v('student.agreement'),
          pseudoLabelAcc: last['student.pseudoAcc'] ?? null,
        }
      : null;
    const sizes = Object.fromEntries(TERM_NAMES.filter((k) => count[`arch.${k}`]).map((k) => [k, last[`arch.${k}`]]));
    const teaching = Object.keys(sizes).length ? { teaching: teachingSignal(sizes) } : {};
    this.last = { teacher: { loss: v('teacher.loss'), acc: v('teacher.acc') }, student, ...teaching };
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

/** One iteration on the batches: A (once the architecture warm-up is over), then T, then S (lbtIteration); statistics into totals.meter. */
export function searchStep(s: Searching, [tr, va, u]: [Batch, Batch, Batch], archOn: boolean, totals: EpochTotals): void {
  const { cfg, teacher, student } = s;
  const train = { x: tr.x, y: tr.y as t.Tensor };
  const val = { x: va.x, y: va.y as t.Tensor };
  // D_u's held-back labels (same-dataset D_u) measure the pseudo-labels
  const hidden = student ? hiddenLabels(s.data, u.index) : null;
  const uLabels = hidden ? t.tensor(Array.from(hidden), [hidden.length], { dtype: 'int64', device: s.device }) : null;
  const clip = (c: number) => (c > 0 ? c : null);
  try {
    lbtIteration({
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
      meter: totals.meter,
      measure: (s.pos.step + 1) % cfg.logEvery === 0, // this step's record shows the hypergradient's term sizes
    });
  } finally {
    uLabels?.dispose();
  }
}
