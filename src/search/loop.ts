// The search loop (Algorithm 1 around the DARTS-family hosts), top to bottom:
//   open (streams, networks; a checkpoint restored or the first one written)
//   → per stage (P-DARTS: 3, others: 1) → per epoch (epoch.ts) → per step (step.ts)
//   → stage end (stage.ts) → the genotype.
// Metrics, per-epoch snapshots and atomic checkpoints that resume bit-exactly; nothing here prints.
import type { SearchConfig } from '../config/schema.js';
import { openStream, type SplitData } from '../data/load.js';
import type { Genotype } from '../nas/genotype.js';
import type { LoadedCheckpoint } from '../runs/checkpoint.js';
import { applyEngine, checkDevice } from '../runs/device.js';
import { RunInterrupted } from '../runs/errors.js';
import type { Progress } from '../runs/progress.js';
import type { RunDir } from '../runs/run-dir.js';
import * as t from '../torch/index.js';
import { logArch } from './arch-log.js';
import { beginEpoch, endEpoch, logStep } from './epoch.js';
import { dataShape } from './models.js';
import { afterStep, planSearch, START, weightLr } from './plan.js';
import { endStage, finishSearch } from './stage.js';
import {
  closeSearch,
  initialOps,
  restoreSearch,
  type SearchExtra,
  type Searching,
  StudentSide,
  saveSearchCheckpoint,
  splitExtra,
  type Streams,
  TeacherSide,
} from './state.js';
import { EpochTotals, nextBatches, searchStep } from './step.js';

export interface SearchIO {
  run: RunDir;
  progress: Progress;
  data: SplitData;
  /** A checkpoint of this run to continue from (its tensors are the caller's to dispose). */
  resume?: LoadedCheckpoint | null;
  /** Aborting stops the search before its next step with a checkpoint (RunInterrupted). */
  signal?: AbortSignal;
}

export interface SearchResult {
  genotype: Genotype;
  steps: number;
  seconds: number;
}

function openStreams(cfg: SearchConfig, data: SplitData): Streams {
  const o = { batchSize: cfg.batchSize, seed: cfg.seed, augment: cfg.dataset.augment };
  return {
    train: openStream(data, 'train', { ...o, cutout: cfg.dataset.cutout ? cfg.dataset.cutoutLength : 0 }),
    valid: openStream(data, 'valid', o),
    unlabeled: openStream(data, 'unlabeled', o),
  };
}

/** The networks and streams of a search, fresh (seeded, with a first checkpoint) or restored from a checkpoint. */
function openSearch(cfg: SearchConfig, io: SearchIO): Searching {
  const { run, data, progress } = io;
  const resume = io.resume ?? null;
  applyEngine(cfg.engine, cfg.deterministic);
  if (!resume) t.manualSeed(cfg.seed);
  const streams = openStreams(cfg, data);
  const pos = resume ? { stage: resume.meta.stage ?? 0, ...pickStep(resume) } : { ...START };
  const saved = resume ? splitExtra(resume) : null;
  const extra: SearchExtra = saved?.extra ?? { ops: initialOps(cfg.supernet.steps), stageGenotypes: [] };
  const device = checkDevice(cfg.device);
  const shape = dataShape(data.meta);
  const student = cfg.lbt ? t.withDefaultDevice(device, () => new StudentSide(cfg, shape)) : null;
  const teacher = t.withDefaultDevice(device, () => new TeacherSide(cfg, shape, pos.stage, extra.ops));
  const plan = planSearch(cfg, data.train.indices.length);
  const s: Searching = {
    ...{ cfg, plan, run, data, device, streams, teacher, student, extra, pos, progress },
    ...{ started: Date.now(), totals: null, savedStep: pos.step },
  };
  const planned = { totalSteps: plan.totalSteps, totalEpochs: plan.totalEpochs };
  if (resume) {
    restoreSearch(s, resume);
    if (saved?.totals) s.totals = new EpochTotals(weightLr(cfg, pos.epoch), saved.totals);
    const message = `stage ${pos.stage} epoch ${pos.epoch} step ${pos.stepInEpoch}`;
    run.log({ kind: 'event', step: pos.step, event: 'resume', message, plan: planned, time: run.elapsed() });
  } else {
    run.log({ kind: 'event', step: 0, event: 'start', plan: planned, time: run.elapsed() });
    logArch(s); // the architecture before the first step
    saveSearchCheckpoint(s); // a resumable state from the first step on
  }
  return s;
}

const pickStep = (c: LoadedCheckpoint) => ({ epoch: c.meta.epoch, stepInEpoch: c.meta.stepInEpoch, step: c.meta.step });

/** Between steps: lets signal handlers run, and stops with a checkpoint when asked to. */
async function stepBoundary(s: Searching, signal: AbortSignal | undefined, totals: EpochTotals): Promise<void> {
  await new Promise((r) => setImmediate(r)); // batches may resolve synchronously: give SIGINT a turn
  if (!signal?.aborted) return;
  totals.flush(); // a NaN since the last read stops here, before the checkpoint
  saveSearchCheckpoint(s);
  throw new RunInterrupted(s.run.dir, s.pos.step, `at step ${s.pos.step}`);
}

/** One step: batches, the update, the running totals, a step record, progress and a periodic checkpoint. */
async function runStep(s: Searching, totals: EpochTotals, archOn: boolean): Promise<void> {
  const batches = await nextBatches(s, totals);
  try {
    searchStep(s, batches, archOn, totals);
  } finally {
    t.disposeAll(batches.map((b) => [b.x, b.y]));
  }
  s.pos = afterStep(s.pos);
  logStep(s, totals);
  const stage = s.cfg.method === 'p-darts' ? { stage: s.pos.stage } : {};
  s.progress.step(s.pos.step, { epoch: s.pos.epoch, ...stage, loss: totals.teacherLoss.mean });
  const every = s.cfg.checkpointEvery;
  if (every > 0 && s.pos.step % every === 0 && s.pos.stepInEpoch < s.plan.stepsPerEpoch) {
    totals.flush(); // a NaN since the last read stops here, before the checkpoint
    saveSearchCheckpoint(s);
  }
}

async function runEpoch(s: Searching, signal: AbortSignal | undefined): Promise<void> {
  const totals = beginEpoch(s);
  const archOn = s.pos.epoch >= s.cfg.archWarmupEpochs;
  while (s.pos.stepInEpoch < s.plan.stepsPerEpoch) {
    await stepBoundary(s, signal, totals);
    await runStep(s, totals, archOn);
  }
  await endEpoch(s, totals);
}

/** A NaN or infinite value, with where it happened and the last good checkpoint; logged as a `nan` event. */
function atPosition(s: Searching, err: t.NonFiniteError): t.NonFiniteError {
  const { pos, run } = s;
  const path = run.path('checkpoint');
  const where = `at stage ${pos.stage} epoch ${pos.epoch} step ${pos.step}; stopped, the last good checkpoint is ${path} (step ${s.savedStep})`;
  const e = new t.NonFiniteError(`${err.what} ${where}`, path);
  run.log({ kind: 'event', step: pos.step, event: 'nan', message: e.message, time: run.elapsed() });
  return e;
}

/**
 * Runs a search in an open run directory to its end and returns the genotype. Throws RunInterrupted
 * when the signal aborts it (after a checkpoint), NonFiniteError on a NaN or infinite value.
 */
export async function runSearch(cfg: SearchConfig, io: SearchIO): Promise<SearchResult> {
  const s = openSearch(cfg, io);
  try {
    while (s.pos.stage < s.plan.stages) {
      if (s.pos.epoch < cfg.epochs) await runEpoch(s, io.signal);
      else endStage(s);
    }
    const genotype = finishSearch(s);
    return { genotype, steps: s.pos.step, seconds: (Date.now() - s.started) / 1000 };
  } catch (err) {
    throw err instanceof t.NonFiniteError ? atPosition(s, err) : err;
  } finally {
    closeSearch(s);
  }
}
