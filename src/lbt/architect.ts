// Architects: the update of A from the hypergradient, with Adam (DARTS settings).
// DARTS-1st and DARTS-2nd are the LBT hypergradient without a student.
import { type Tensor, clone, copyInPlace, disposeAll, NonFiniteError, noGrad, optim, scope } from '../torch/index.js';
import { globalNormTensor, hypergradient, type TermName } from './hypergradient.js';
import type { StepMeter } from './meter.js';
import type { StudentPass } from './unroll.js';
import { DEFAULT_HYPERGRAD, type HypergradConfig, type LbtBatches, type Net, type SgdView, type TeacherNet } from './types.js';

export interface ArchOptimConfig {
  lr: number;
  betas: readonly [number, number];
  weightDecay: number;
  /** Adam epsilon (default 1e-8). */
  eps?: number;
  /** Clip the architecture gradient's global norm (PC-DARTS ImageNet, P-DARTS: 5); null: no clipping. */
  gradClip: number | null;
}

/** DARTS: Adam lr 3e-4, betas (0.5, 0.999), weight decay 1e-3. */
export const DARTS_ARCH_OPTIM: ArchOptimConfig = { lr: 3e-4, betas: [0.5, 0.999], weightDecay: 1e-3, gradClip: null };

/** Runs fn, then puts every buffer (BN running statistics) back as it was: an architect step has no side effects on the nets. */
export function preservingBuffers<T>(nets: readonly (Net | null)[], fn: () => T): T {
  const bufs = nets.flatMap((n) => (n ? [...n.buffers] : []));
  const saved = noGrad(() => bufs.map((b) => clone(b)));
  try {
    return fn();
  } finally {
    noGrad(() => bufs.forEach((b, i) => copyInPlace(b, saved[i] as Tensor)));
    disposeAll(saved);
  }
}

/** A loss or gradient became NaN or infinite: the step was not applied (the class lives in src/torch). */
export { NonFiniteError };

export interface ArchitectStepInput {
  teacherOpt: SgdView;
  student: Net | null;
  studentOpt: SgdView | null;
  batches: LbtBatches;
  /**
   * Receives arch.gradNorm, arch.teacherValLoss and arch.studentValLoss. A deferred meter checks
   * them when it is read; an eager one throws on a NaN gradient before A is updated.
   */
  meter: StepMeter;
  /** Also put the hypergradient terms' sizes in the meter (arch.aV, arch.gV, arch.uA, arch.uT): for logged steps. */
  measure?: boolean;
}

export class Architect {
  readonly optimizer: optim.Adam;
  readonly cfg: HypergradConfig;
  readonly clip: number | null;

  constructor(
    readonly teacher: TeacherNet,
    cfg: Partial<HypergradConfig> = {},
    archOptim: ArchOptimConfig = DARTS_ARCH_OPTIM,
  ) {
    this.cfg = { ...DEFAULT_HYPERGRAD, ...cfg };
    this.clip = archOptim.gradClip;
    this.optimizer = new optim.Adam(teacher.arch, {
      lr: archOptim.lr,
      betas: archOptim.betas,
      weightDecay: archOptim.weightDecay,
    });
  }

  /**
   * One architecture update (Eq. 6): A ← Adam(A, dO_v/dA). With `student` null this is DARTS
   * (first or second order by cfg.firstOrder). Weights and buffers are left bit-identical.
   */
  step(inp: ArchitectStepInput): void {
    this.#step(inp, false);
  }

  /**
   * As step(), and returns the student's pass at S that the student's weight step can reuse
   * (null without a student term). The caller owns it (disposeAll).
   */
  stepKeepingStudentPass(inp: ArchitectStepInput): StudentPass | null {
    return this.#step(inp, true);
  }

  #step(inp: ArchitectStepInput, keep: boolean): StudentPass | null {
    const { grads, stats, studentPass } = preservingBuffers([this.teacher, inp.student], () =>
      hypergradient({ teacher: this.teacher, ...inp, cfg: this.cfg, keepStudentPass: keep }),
    );
    let ok = false;
    try {
      scope(() => {
        if (stats.teacherValLoss) inp.meter.add('arch.teacherValLoss', stats.teacherValLoss);
        if (stats.studentValLoss) inp.meter.add('arch.studentValLoss', stats.studentValLoss);
        for (const [k, v] of Object.entries(stats.sizes ?? {})) inp.meter.add(`arch.${k as TermName}`, v);
        inp.meter.add('arch.gradNorm', globalNormTensor(grads)); // eager: throws on NaN before A moves
      });
      this.teacher.arch.forEach((a, i) => {
        a.grad = grads[i] as Tensor;
      });
      if (this.clip !== null) scope(() => void optim.clipGradNormOnDevice(this.teacher.arch, this.clip as number));
      this.optimizer.step();
      ok = true;
    } finally {
      this.optimizer.zeroGrad();
      disposeAll([grads, stats]);
      if (!ok) disposeAll(studentPass);
    }
    return studentPass;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
