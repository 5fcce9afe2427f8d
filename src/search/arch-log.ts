// The architecture as a snapshot (softmax weights per edge and op, the derived genotype, PC-DARTS
// edge weights): written to genotypes/ at every epoch end, and to arch.jsonl at the start, at every
// logged step, at every epoch end and at every P-DARTS stage's start, so that the movement of the
// weights can be watched and replayed. And the teaching signal of a logged step.
import type { TermSizes } from '../lbt/index.js';
import { archValues } from '../nas/arch.js';
import { toGenotypeFile } from '../nas/genotype.js';
import { PRIMITIVES } from '../nas/primitives.js';
import { normalizeBetas } from '../nas/supernet.js';
import { softmaxRows } from '../runs/metrics.js';
import type { ArchSnapshot, TeachingSignal } from '../runs/types.js';
import * as t from '../torch/index.js';
import type { Searching } from './state.js';

/** The architecture now, read to the host (a few small tensors). */
export function archSnapshot(s: Searching): ArchSnapshot {
  const { pos, teacher } = s;
  const pd = s.cfg.method === 'p-darts';
  const arch = teacher.supernet.arch;
  const av = archValues(arch);
  const betas = (b: t.Tensor | undefined) =>
    b ? t.noGrad(() => t.scope(() => normalizeBetas(b, teacher.supernet.config.steps).toArray())) : null;
  const [bn, br] = [betas(arch.betasNormal), betas(arch.betasReduce)];
  return {
    epoch: pos.epoch,
    ...(pd && { stage: pos.stage }),
    step: pos.step,
    genotype: toGenotypeFile(teacher.supernet.genotype()),
    ops: pd ? [] : PRIMITIVES,
    ...(pd && { edgeOps: s.extra.ops }),
    weights: { normal: softmaxRows(av.normal), reduce: softmaxRows(av.reduce) },
    ...(bn && br && { betas: { normal: bn, reduce: br } }),
    time: s.run.elapsed(),
  };
}

/** Appends the architecture now to arch.jsonl (and the event file); returns the snapshot. */
export function logArch(s: Searching): ArchSnapshot {
  const snap = archSnapshot(s);
  s.run.logArch(snap);
  return snap;
}

/** The hypergradient's term sizes as a step record logs them, with the student's share of each teacher term. */
export function teachingSignal(sizes: TermSizes): TeachingSignal {
  const ratio = (num: number | undefined, den: number | undefined) =>
    num !== undefined && den !== undefined && den > 0 ? num / den : undefined;
  const out: TeachingSignal = { ...sizes };
  const uARatio = ratio(sizes.uA, sizes.aV);
  const uTRatio = ratio(sizes.uT, sizes.gV);
  if (uARatio !== undefined) out.uARatio = uARatio;
  if (uTRatio !== undefined) out.uTRatio = uTRatio;
  return out;
}
