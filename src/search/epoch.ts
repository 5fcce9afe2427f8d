// An epoch of a search: its learning rates and P-DARTS skip dropout at the start; step records as it
// goes; at the end the validation of teacher and student (DARTS's infer), the genotype and
// architecture snapshot, the epoch record and a checkpoint (in that order, see runs/run-dir.ts).
// Every step record is followed by the architecture in arch.jsonl (arch-log.ts).
import { type ArchValues, archValues } from '../nas/arch.js';
import { skipDropRate } from '../nas/p-darts.js';
import { evaluate } from '../retrain/evaluate.js';
import { alphaEntropy, countSkipConnects, type RunningMean } from '../runs/metrics.js';
import type { ArchSnapshot, EpochRecord, LossAcc } from '../runs/types.js';
import * as t from '../torch/index.js';
import { archSnapshot, logArch } from './arch-log.js';
import { afterEpoch, studentLr, weightLr } from './plan.js';
import { saveSearchCheckpoint, type Searching } from './state.js';
import { EpochTotals } from './step.js';

/** Batches of the validation set evaluated at each epoch's end (at most). */
export const MAX_EVAL_BATCHES = 50;

const mean = (m: RunningMean) => (m.count > 0 ? m.mean : Number.NaN);

/** Sets the epoch's learning rates (and P-DARTS's skip dropout) and train mode; returns its running totals. */
export function beginEpoch(s: Searching): EpochTotals {
  const { cfg, pos, teacher, student } = s;
  const lr = weightLr(cfg, pos.epoch);
  teacher.opt.lr = lr;
  if (student) student.opt.lr = studentLr(cfg, pos.epoch);
  if (cfg.method === 'p-darts')
    teacher.supernet.setSkipDropRate(skipDropRate(cfg.pdarts.dropout[pos.stage]!, pos.epoch, cfg.epochs, cfg.archWarmupEpochs));
  teacher.supernet.train();
  student?.model.train();
  // a checkpoint taken mid-epoch carries the epoch's running totals: the epoch record covers all its steps
  if (!(s.totals && pos.stepInEpoch > 0)) s.totals = new EpochTotals(lr);
  return s.totals;
}

/** A step record every cfg.logEvery steps (the last step's numbers), then the architecture. */
export function logStep(s: Searching, totals: EpochTotals): void {
  const { pos, run } = s;
  if (pos.step % s.cfg.logEvery !== 0) return;
  totals.flush(); // the steps' statistics since the last record, in one host read (throws on a NaN)
  const { teacher, student, teaching } = totals.last;
  run.log({
    kind: 'step',
    epoch: pos.epoch,
    step: pos.step,
    ...(s.cfg.method === 'p-darts' && { stage: pos.stage }),
    lr: totals.lr,
    teacher: { train: teacher },
    ...(s.student && { student: { train: { loss: student?.loss ?? Number.NaN, acc: student?.acc ?? Number.NaN } } }),
    ...(teaching && { teaching }),
    time: run.elapsed(),
  });
  logArch(s);
}

/** Mean loss and accuracy of the teacher (and student) on D_val, in eval mode. */
async function validate(s: Searching): Promise<LossAcc[]> {
  const { teacher, student } = s;
  const models = [
    { logits: (x: t.Tensor) => teacher.net.forward(x), module: teacher.supernet },
    ...(student ? [{ logits: (x: t.Tensor) => student.net.forward(x), module: student.model }] : []),
  ];
  const o = { batchSize: s.cfg.batchSize, seed: s.cfg.seed, device: s.device, maxBatches: MAX_EVAL_BATCHES };
  return evaluate(s.data, 'valid', models, o).then((rs) => rs.map(({ loss, acc }) => ({ loss, acc })));
}

function epochRecord(s: Searching, totals: EpochTotals, val: LossAcc[], snap: ArchSnapshot, av: ArchValues): EpochRecord {
  const { pos, student, run } = s;
  const [tVal, sVal] = val;
  const m = totals;
  return {
    kind: 'epoch',
    epoch: pos.epoch,
    step: pos.step,
    ...(s.cfg.method === 'p-darts' && { stage: pos.stage }),
    lr: m.lr,
    teacher: { train: { loss: mean(m.teacherLoss), acc: mean(m.teacherAcc) }, ...(tVal && { val: tVal }) },
    ...(student && { student: { train: { loss: mean(m.studentLoss), acc: mean(m.studentAcc) }, ...(sVal && { val: sVal }) } }),
    ...(student && { agreement: mean(m.agreement) }),
    ...(m.pseudoAcc.count > 0 && { pseudoAcc: mean(m.pseudoAcc) }),
    alphaEntropy: { normal: alphaEntropy(av.normal), reduce: alphaEntropy(av.reduce) },
    skipConnects: countSkipConnects(snap.genotype),
    seconds: (Date.now() - m.start) / 1000,
    dataSeconds: m.dataMs / 1000,
    time: run.elapsed(),
  };
}

/** The epoch's end: validation, snapshot, record, then the position moves on and a checkpoint is written. */
export async function endEpoch(s: Searching, totals: EpochTotals): Promise<void> {
  totals.flush();
  const val = await validate(s);
  val.forEach((v, i) => {
    if (!Number.isFinite(v.loss)) throw new t.NonFiniteError(`${i === 0 ? 'teacher' : 'student'} validation loss is ${v.loss}`);
  });
  const av = archValues(s.teacher.supernet.arch);
  const snap = archSnapshot(s);
  s.run.writeSnapshot(snap);
  if (s.pos.step % s.cfg.logEvery !== 0) s.run.logArch(snap); // a logged step has just written it
  const rec = epochRecord(s, totals, val, snap, av);
  s.run.log(rec);
  s.progress.epoch(rec);
  s.pos = afterEpoch(s.pos);
  s.totals = null;
  saveSearchCheckpoint(s);
}
