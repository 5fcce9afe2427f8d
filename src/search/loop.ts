// The search loop (Algorithm 1 around the DARTS-family hosts), top to bottom:
//   data → networks → for each stage (P-DARTS: 3, others: 1) → for each epoch → for each step:
//     A ← architect (DARTS-1st/2nd or LBT hypergradient), T ← SGD on D_tr, S ← SGD on D_tr + λ·pseudo-labels
//   with metrics, per-epoch genotypes and atomic checkpoints that resume bit-exactly.
import { hiddenLabels, type Batch, type BatchStream, openStream, type SearchData } from '../data/index.js';
import { NonFiniteError, studentStep, teacherStep } from '../lbt/index.js';
import { type Genotype, toGenotypeFile } from '../nas/genotype.js';
import { derivePdarts } from '../nas/derive.js';
import { dropOps, skipDropRate } from '../nas/p-darts.js';
import { PRIMITIVES } from '../nas/primitives.js';
import { archValues, normalizeBetas } from '../nas/supernet.js';
import * as t from '../torch/index.js';
import { type LoadedCheckpoint, restoreRng, saveCheckpoint } from '../runs/checkpoint.js';
import type { SearchConfig } from '../config/schema.js';
import { alphaEntropy, countSkipConnects, RunningMean, softmaxRows } from '../runs/metrics.js';
import type { Progress } from '../runs/progress.js';
import type { RunDir } from '../runs/run-dir.js';
import type { EpochRecord, LossAcc, ModelMetrics } from '../runs/types.js';
import { checkDevice, toDevice } from '../runs/device.js';
import { evaluateValid } from './evaluate.js';
import {
  initialOps,
  makeCheckpoint,
  type Position,
  restoreCheckpoint,
  type SearchExtra,
  type StageOps,
  StudentSide,
  TeacherSide,
} from './state.js';

export class SearchStopped extends Error {
  constructor(
    message: string,
    readonly checkpoint: string | null,
  ) {
    super(message);
    this.name = 'SearchStopped';
  }
}

export interface SearchIO {
  run: RunDir;
  progress: Progress;
  data: SearchData;
  resume?: LoadedCheckpoint | null;
  /** Checked between steps: a requested stop writes a checkpoint and throws SearchStopped. */
  shouldStop?: () => boolean;
}

export interface SearchResult {
  genotype: Genotype;
  steps: number;
  seconds: number;
}

/** lr of epoch e: DARTS steps its cosine scheduler before each epoch, so epoch e uses cosine(e+1); warm-up first. */
export function weightLr(cfg: SearchConfig, epoch: number): number {
  const w = cfg.weights;
  const cos = t.optim.cosineLr(epoch + 1, cfg.epochs, w.lr, w.lrMin);
  return w.warmupEpochs > 0 && epoch < w.warmupEpochs ? t.optim.warmupLr(epoch, w.warmupEpochs, w.lr) : cos;
}

export function studentLr(cfg: SearchConfig, epoch: number): number {
  const s = cfg.student;
  return s.schedule === 'cosine' ? t.optim.cosineLr(epoch + 1, cfg.epochs, s.lr, cfg.weights.lrMin) : s.lr;
}

export function stageCount(cfg: SearchConfig): number {
  return cfg.method === 'p-darts' ? cfg.pdarts.layers.length : 1;
}

function stepsPerEpoch(cfg: SearchConfig, train: BatchStream): number {
  return Math.min(cfg.stepsPerEpoch ?? Number.POSITIVE_INFINITY, train.stepsPerEpoch);
}

const mean = (m: RunningMean) => (m.count > 0 ? m.mean : Number.NaN);

export async function runSearch(cfg: SearchConfig, io: SearchIO): Promise<SearchResult> {
  const { run, progress, data } = io;
  const shape = { classes: data.meta.numClasses, channels: data.meta.shape[0] as number };
  const started = Date.now();
  const resume = io.resume ?? null;
  const stages = stageCount(cfg);
  const pd = cfg.method === 'p-darts';
  t.setDeterministic(cfg.deterministic);
  if (!resume) t.manualSeed(cfg.seed);

  // data streams: D_tr by epochs; D_val and D_u drawn as needed (fresh shuffles, as DARTS)
  const opts = { batchSize: cfg.batchSize, seed: cfg.seed };
  const trainS = openStream(data, 'train', {
    ...opts,
    augment: cfg.dataset.augment,
    cutout: cfg.dataset.cutout ? cfg.dataset.cutoutLength : 0,
  });
  const validS = openStream(data, 'valid', { ...opts, augment: cfg.dataset.augment });
  const unlabS = openStream(data, 'unlabeled', { ...opts, augment: cfg.dataset.augment });
  const streams = { train: trainS, valid: validS, unlabeled: unlabS };
  const perEpoch = stepsPerEpoch(cfg, trainS);

  let pos: Position = resume
    ? { stage: resume.meta.stage ?? 0, epoch: resume.meta.epoch, stepInEpoch: resume.meta.stepInEpoch, step: resume.meta.step }
    : { stage: 0, epoch: 0, stepInEpoch: 0, step: 0 };
  const extra: SearchExtra = resume ? (resume.meta.extra as SearchExtra) : { ops: initialOps(), stageGenotypes: [] };
  const device = checkDevice(cfg.device);
  const onDevice = <T>(fn: () => T): T => t.withDefaultDevice(device, fn);
  const student = cfg.lbt ? onDevice(() => new StudentSide(cfg, shape)) : null;
  let teacher = onDevice(() => new TeacherSide(cfg, shape, pos.stage, extra.ops));
  if (resume) {
    restoreCheckpoint(resume, teacher, student);
    const it = resume.meta.dataIterators as Record<keyof typeof streams, Parameters<BatchStream['restore']>[0]>;
    for (const k of Object.keys(streams) as (keyof typeof streams)[]) streams[k].restore(it[k]);
    restoreRng(resume.meta.rng);
    run.log({
      kind: 'event',
      step: pos.step,
      event: 'resume',
      message: `stage ${pos.stage} epoch ${pos.epoch} step ${pos.stepInEpoch}`,
      time: run.elapsed(),
    });
  }
  const checkpoint = () => {
    const iters = Object.fromEntries(Object.entries(streams).map(([k, s]) => [k, s.state()]));
    saveCheckpoint(run.path('checkpoint'), makeCheckpoint(cfg, teacher, student, pos, iters, extra));
  };
  if (!resume) {
    run.log({ kind: 'event', step: 0, event: 'start', time: run.elapsed() });
    checkpoint(); // a resumable state from the first step on
  }
  const weightClip = cfg.weights.gradClip > 0 ? cfg.weights.gradClip : null;
  const studentClip = cfg.student.gradClip > 0 ? cfg.student.gradClip : null;

  try {
    for (; pos.stage < stages; ) {
      for (; pos.epoch < cfg.epochs; ) {
        const epochStart = Date.now();
        let dataMs = 0;
        const lr = weightLr(cfg, pos.epoch);
        teacher.opt.lr = lr;
        if (student) student.opt.lr = studentLr(cfg, pos.epoch);
        if (pd)
          teacher.supernet.setSkipDropRate(
            skipDropRate(cfg.pdarts.dropout[pos.stage] as number, pos.epoch, cfg.epochs, cfg.archWarmupEpochs),
          );
        const archOn = pos.epoch >= cfg.archWarmupEpochs;
        const m = {
          tLoss: new RunningMean(),
          tAcc: new RunningMean(),
          sLoss: new RunningMean(),
          sAcc: new RunningMean(),
          agree: new RunningMean(),
          pseudo: new RunningMean(),
        };
        teacher.supernet.train();
        student?.model.train();
        const last: { teacher: LossAcc; student: LossAcc } = {
          teacher: { loss: Number.NaN, acc: Number.NaN },
          student: { loss: Number.NaN, acc: Number.NaN },
        };
        for (; pos.stepInEpoch < perEpoch; ) {
          await new Promise((r) => setImmediate(r)); // let signal handlers run (batches may resolve synchronously)
          if (io.shouldStop?.()) {
            checkpoint();
            throw new SearchStopped(`stopped at step ${pos.step}`, run.path('checkpoint'));
          }
          const t0 = Date.now();
          const batches: Batch[] = [
            toDevice(await trainS.next(), device),
            toDevice(await validS.next(), device),
            toDevice(await unlabS.next(), device),
          ];
          dataMs += Date.now() - t0;
          const [tr, va, u] = batches as [Batch, Batch, Batch];
          try {
            const train = { x: tr.x, y: tr.y as t.Tensor };
            const val = { x: va.x, y: va.y as t.Tensor };
            if (archOn) {
              teacher.architect.step({
                teacherOpt: teacher.opt,
                student: student?.net ?? null,
                studentOpt: student?.opt ?? null,
                batches: { train, val, unlabeled: u.x },
              });
            }
            const ts = teacherStep(teacher.net, teacher.opt, train, weightClip);
            last.teacher = { loss: ts.loss, acc: ts.acc };
            m.tLoss.update(ts.loss);
            m.tAcc.update(ts.acc);
            if (student) {
              const hidden = hiddenLabels(data, u.index);
              const uLabels = hidden ? t.tensor(Array.from(hidden), [hidden.length], { dtype: 'int64', device }) : null;
              try {
                const ss = studentStep(
                  student.net,
                  teacher.net,
                  student.opt,
                  train,
                  u.x,
                  {
                    lambda: cfg.lambda,
                    pseudoOnly: cfg.pseudoOnly,
                    teacherGradClip: weightClip,
                    studentGradClip: studentClip,
                  },
                  uLabels,
                );
                last.student = { loss: ss.loss, acc: ss.acc ?? Number.NaN };
                m.sLoss.update(ss.loss);
                if (ss.acc !== null) m.sAcc.update(ss.acc);
                m.agree.update(ss.agreement);
                if (ss.pseudoLabelAcc !== null) m.pseudo.update(ss.pseudoLabelAcc);
              } finally {
                uLabels?.dispose();
              }
            }
          } finally {
            t.disposeAll(batches.map((b) => [b.x, b.y]));
          }
          pos = { ...pos, stepInEpoch: pos.stepInEpoch + 1, step: pos.step + 1 };
          if (pos.step % cfg.logEvery === 0) {
            run.log({
              kind: 'step',
              epoch: pos.epoch,
              step: pos.step,
              ...(pd && { stage: pos.stage }),
              lr,
              teacher: { train: last.teacher },
              ...(student && { student: { train: last.student } }),
              time: run.elapsed(),
            });
          }
          progress.step(pos.step, { epoch: pos.epoch, ...(pd && { stage: pos.stage }), loss: m.tLoss.mean });
          if (cfg.checkpointEvery > 0 && pos.step % cfg.checkpointEvery === 0 && pos.stepInEpoch < perEpoch) checkpoint();
        }

        // epoch end: validation, genotype, records, checkpoint (in that order, see run-dir.ts)
        const [tVal, sVal] = await evaluateValid(
          data,
          [{ net: teacher.net, module: teacher.supernet }, ...(student ? [{ net: student.net, module: student.model }] : [])],
          cfg.batchSize,
          device,
        );
        const genotype = teacher.supernet.genotype();
        const gj = toGenotypeFile(genotype);
        const av = archValues(teacher.supernet.arch);
        const betas = (b: t.Tensor | undefined) =>
          b ? t.noGrad(() => t.scope(() => normalizeBetas(b, teacher.supernet.config.steps).toArray())) : null;
        const [bn, br] = [betas(teacher.supernet.arch.betasNormal), betas(teacher.supernet.arch.betasReduce)];
        run.writeSnapshot({
          epoch: pos.epoch,
          ...(pd && { stage: pos.stage }),
          step: pos.step,
          genotype: gj,
          ops: pd ? [] : PRIMITIVES,
          ...(pd && { edgeOps: extra.ops }),
          weights: { normal: softmaxRows(av.normal), reduce: softmaxRows(av.reduce) },
          ...(bn && br && { betas: { normal: bn, reduce: br } }),
        });
        const teacherM: ModelMetrics = { train: { loss: mean(m.tLoss), acc: mean(m.tAcc) }, ...(tVal && { val: tVal }) };
        const rec: EpochRecord = {
          kind: 'epoch',
          epoch: pos.epoch,
          step: pos.step,
          ...(pd && { stage: pos.stage }),
          lr,
          teacher: teacherM,
          ...(student && { student: { train: { loss: mean(m.sLoss), acc: mean(m.sAcc) }, ...(sVal && { val: sVal }) } }),
          ...(student && { agreement: mean(m.agree) }),
          ...(m.pseudo.count > 0 && { pseudoAcc: mean(m.pseudo) }),
          alphaEntropy: { normal: alphaEntropy(av.normal), reduce: alphaEntropy(av.reduce) },
          skipConnects: countSkipConnects(gj),
          seconds: (Date.now() - epochStart) / 1000,
          dataSeconds: dataMs / 1000,
          time: run.elapsed(),
        };
        run.log(rec);
        progress.epoch(rec);
        pos = { ...pos, epoch: pos.epoch + 1, stepInEpoch: 0 };
        checkpoint();
      }

      // stage end (P-DARTS): shrink the operations per edge, build the next stage's fresh networks
      if (pos.stage + 1 < stages) {
        const kept = cfg.pdarts.opsKept[pos.stage] as number;
        const av = archValues(teacher.supernet.arch);
        const next: StageOps = {
          normal: dropOps(av.normal, extra.ops.normal, (extra.ops.normal[0]?.length ?? 8) - kept, false),
          reduce: dropOps(av.reduce, extra.ops.reduce, (extra.ops.reduce[0]?.length ?? 8) - kept, false),
        };
        extra.stageGenotypes.push(toGenotypeFile(teacher.supernet.genotype()));
        extra.ops = next;
        teacher.dispose();
        teacher = onDevice(() => new TeacherSide(cfg, shape, pos.stage + 1, next));
        pos = { stage: pos.stage + 1, epoch: 0, stepInEpoch: 0, step: pos.step };
        run.log({
          kind: 'event',
          step: pos.step,
          event: 'stage',
          message: `stage ${pos.stage}: ${cfg.pdarts.layers[pos.stage]} cells, ${kept} ops per edge`,
          time: run.elapsed(),
        });
        progress.message(`stage ${pos.stage + 1}/${stages}: ${cfg.pdarts.layers[pos.stage]} cells, ${kept} ops per edge`);
        checkpoint();
      } else {
        pos = { ...pos, stage: pos.stage + 1 };
      }
    }
    const genotype = teacher.supernet.genotype();
    if (pd) {
      // P-DARTS logs one genotype per skip-connect cap M = 8..0; the configured M is the result
      const av = archValues(teacher.supernet.arch);
      const caps: Record<string, ReturnType<typeof toGenotypeFile>> = {};
      for (let M = 8; M >= 0; M--) {
        caps[M] = toGenotypeFile(
          derivePdarts(av.normal, av.reduce, { opsNormal: extra.ops.normal, opsReduce: extra.ops.reduce, maxSkip: M }),
        );
      }
      run.writeGenotypeCaps(caps);
    }
    run.log({ kind: 'event', step: pos.step, event: 'done', time: run.elapsed() });
    return { genotype, steps: pos.step, seconds: (Date.now() - started) / 1000 };
  } catch (err) {
    if (err instanceof NonFiniteError) {
      run.log({ kind: 'event', step: pos.step, event: 'nan', message: err.message, time: run.elapsed() });
      throw new SearchStopped(
        `${err.message} at stage ${pos.stage} epoch ${pos.epoch} step ${pos.step}; the last good checkpoint is ${run.path('checkpoint')}`,
        run.path('checkpoint'),
      );
    }
    throw err;
  } finally {
    teacher.dispose();
    student?.dispose();
    for (const s of Object.values(streams)) s.close();
  }
}
