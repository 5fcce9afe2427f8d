// The evaluation phase (paper §4.2; DARTS train.py, darts-family.md §4): a genotype's network
// trained from scratch on D_tr + D_val, then tested once on the test split. Per epoch e (0-based):
// lr = schedule(e), drop-path p = dropPath·e/epochs; per step: trainStep (network.ts). Used by
// `lbt train` and by the retrain after a search (run.ts builds the data and run directory around it).
import type { TrainConfig } from '../config/schema.js';
import { DataConfigError } from '../data/errors.js';
import type { SplitData } from '../data/load.js';
import { deriveSeed } from '../data/rng.js';
import { type Batch, BatchStream, type StreamState, type Subset } from '../data/stream.js';
import { makeTransform } from '../data/transforms.js';
import { countParametersNoAux } from '../nas/eval-network.js';
import { type Genotype, type GenotypeFile, toGenotypeFile } from '../nas/genotype.js';
import {
  CheckpointError,
  captureRng,
  disposeCheckpoint,
  type LoadedCheckpoint,
  namespaced,
  restoreRng,
  saveCheckpoint,
  ungroup,
} from '../runs/checkpoint.js';
import { applyEngine, autocastOf, batchToDevice, checkDevice } from '../runs/device.js';
import { RunInterrupted } from '../runs/errors.js';
import type { Progress } from '../runs/progress.js';
import type { RunDir } from '../runs/run-dir.js';
import type { EpochRecord, RunResult } from '../runs/types.js';
import * as t from '../torch/index.js';
import { evaluate } from './evaluate.js';
import { buildEvalNetwork, type EvalNetwork, trainStep } from './network.js';
import { retrainDropPath, retrainLr } from './schedule.js';

/** The parts of the data a retrain reads: it trains on train ∪ valid and tests on test. */
export type RetrainData = Pick<SplitData, 'meta' | 'train' | 'valid' | 'test'>;

/** D_tr ∪ D_val as one subset (both index the labelled training source). */
export function trainValidSubset(d: RetrainData): Subset {
  if (d.valid.source !== d.train.source)
    throw new DataConfigError('valid', 'train and valid must index one source to be trained on together');
  const indices = Int32Array.from([...d.train.indices, ...d.valid.indices]).sort();
  return { name: 'train+valid', source: d.train.source, indices, labelled: true };
}

interface Sums {
  loss: number;
  correct: number;
  n: number;
}
const zero = (): Sums => ({ loss: 0, correct: 0, n: 0 });
const meanOf = (s: Sums) => ({ loss: s.loss / s.n, acc: s.correct / s.n });
const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

export interface RetrainPlan {
  totalSteps: number;
  totalEpochs: number;
  stepsPerEpoch: number;
  /** Steps already done (a resumed run). */
  startStep: number;
}

export interface RetrainOptions {
  config: TrainConfig;
  genotype: Genotype;
  data: RetrainData;
  /** The run directory (RunDir.create, or RunDir.resume at the checkpoint's step). */
  run: RunDir;
  /** A checkpoint of this run to continue from (loadCheckpoint); its tensors are disposed here. */
  resume?: LoadedCheckpoint;
  /** Makes the progress display once the step count is known; default: none. */
  progress?: (plan: RetrainPlan) => Progress;
  /** Called after each epoch's record is written and its checkpoint saved. */
  onEpoch?: (rec: EpochRecord) => void;
  /** Aborting stops the run at the next step with a checkpoint (RunInterrupted). */
  signal?: AbortSignal;
}

export interface RetrainResult extends RunResult {
  /** Top-1 test accuracy in percent (100 − testError). */
  testAcc: number;
  /** Parameters without the auxiliary head (the count paramsM is in millions of). */
  params: number;
  /** Wall seconds of this session: training plus the test. */
  seconds: number;
}

/** What a train checkpoint's `extra` holds besides the tensors. */
interface TrainExtra {
  sums: { epoch: Sums; window: Sums };
  genotype: GenotypeFile;
}

/** A retrain between steps: what it trains, where it is, and its running sums. */
interface Retraining {
  readonly c: TrainConfig;
  readonly run: RunDir;
  readonly device: t.Device;
  readonly model: EvalNetwork;
  readonly opt: t.optim.SGD;
  readonly stream: BatchStream;
  readonly perEpoch: number;
  readonly genotype: GenotypeFile;
  readonly t0: number;
  epoch: number;
  inEpoch: number;
  step: number;
  lr: number;
  sums: { epoch: Sums; window: Sums };
  /** The step of the last checkpoint written (-1: none yet). */
  savedStep: number;
  progress?: Progress;
}

function openRetraining(o: RetrainOptions): Retraining {
  const c = o.config;
  if (!o.data.test) throw new DataConfigError('test', `${o.data.meta.name} has no test split to evaluate on`);
  const device = checkDevice(c.device);
  applyEngine(c.engine, c.deterministic);
  const sub = trainValidSubset(o.data);
  const transform = makeTransform(sub.source, o.data.meta, { train: c.dataset.augment, cutout: c.cutout ? c.cutoutLength : 0 });
  const stream = new BatchStream(sub, transform, { batchSize: c.batchSize, seed: deriveSeed(c.seed, 1), mode: 'epoch' });
  t.manualSeed(c.seed);
  const model = t.withDefaultDevice(device, () => buildEvalNetwork(c, o.genotype, o.data.meta));
  const opt = new t.optim.SGD(model.parameters(), { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay });
  const perEpoch = Math.min(c.stepsPerEpoch ?? Number.POSITIVE_INFINITY, stream.stepsPerEpoch);
  const s: Retraining = {
    ...{ c, run: o.run, device, model, opt, stream, perEpoch, genotype: toGenotypeFile(o.genotype), t0: Date.now() },
    ...{ epoch: 0, inEpoch: 0, step: 0, lr: retrainLr(c, 0), sums: { epoch: zero(), window: zero() }, savedStep: -1 },
  };
  if (o.resume) restoreRetraining(s, o.resume);
  return s;
}

/** Continues from a checkpoint of this run (its tensors are disposed here). */
function restoreRetraining(s: Retraining, ck: LoadedCheckpoint): void {
  try {
    if (ck.meta.kind !== 'train')
      throw new CheckpointError(s.run.path('checkpoint'), `is a ${ck.meta.kind} checkpoint, not one of \`lbt train\``);
    s.model.loadStateDict(ungroup('model', ck.tensors));
    const w = ck.optimizers.weights;
    if (w) s.opt.loadStateDict(w);
    s.stream.restore((ck.meta.dataIterators as { train: StreamState }).train);
    restoreRng(ck.meta);
    ({ epoch: s.epoch, stepInEpoch: s.inEpoch, step: s.step } = ck.meta);
    s.sums = structuredClone((ck.meta.extra as unknown as TrainExtra).sums);
    s.savedStep = s.step;
  } finally {
    disposeCheckpoint(ck);
  }
}

/**
 * Saves the state from which the run continues at (nextEpoch, stepInEpoch). A NaN or Inf in a
 * weight or buffer stops the run (NonFiniteError naming the last good checkpoint), nothing saved.
 */
function save(s: Retraining, nextEpoch = s.epoch, stepInEpoch = s.inEpoch): void {
  const extra: TrainExtra = { sums: s.sums, genotype: s.genotype };
  const path = s.run.path('checkpoint');
  try {
    saveCheckpoint(path, {
      tensors: namespaced('model', s.model.stateDict()),
      optimizers: { weights: s.opt.stateDict() },
      meta: {
        kind: 'train',
        config: s.c,
        epoch: nextEpoch,
        stepInEpoch,
        step: s.step,
        ...captureRng(),
        dataIterators: { train: s.stream.state() },
        extra: extra as unknown as Record<string, unknown>,
        records: s.run.records,
      },
    });
  } catch (e) {
    if (e instanceof t.NonFiniteError) nonFinite(s, `${e.what} after epoch ${s.epoch + 1} step ${s.step}`);
    throw e;
  }
  s.savedStep = s.step;
}

/** Stops the run on a NaN or infinite value: a `nan` event, run.json failed, NonFiniteError naming the last good checkpoint. */
function nonFinite(s: Retraining, what: string): never {
  const path = s.run.path('checkpoint');
  const kept = s.savedStep >= 0 ? `the last good checkpoint is ${path} (step ${s.savedStep})` : 'no checkpoint was written yet';
  const err = new t.NonFiniteError(`${what} (lr ${s.lr.toPrecision(3)}); stopped, ${kept}`, s.savedStep >= 0 ? path : null);
  stop(s, 'nan', err.message, 'failed');
  throw err;
}

/** Ends the run with `status`, an event record and the error on run.json. */
function stop(s: Retraining, event: 'nan' | 'stop', message: string, status: 'failed' | 'interrupted'): void {
  s.run.log({ kind: 'event', step: s.step, event, message, time: s.run.elapsed() });
  s.run.addPhaseSeconds('retrain', (Date.now() - s.t0) / 1000);
  s.run.finish(status, message);
}

function interrupt(s: Retraining): never {
  if (s.savedStep !== s.step) save(s);
  const err = new RunInterrupted(s.run.dir, s.step, `at epoch ${s.epoch + 1}, step ${s.step}`);
  stop(s, 'stop', err.message, 'interrupted');
  throw err;
}

/** One step on a batch: the update, the NaN stop, the running sums, records and checkpoints. */
function retrainStep(s: Retraining, b: Batch): void {
  const r = trainStep(s.model, s.opt, b.x, b.y as t.Tensor, s.c, autocastOf(s.c.engine, s.device));
  if (!Number.isFinite(r.loss) || (r.gradNorm !== null && !Number.isFinite(r.gradNorm))) {
    const what = !Number.isFinite(r.loss)
      ? `loss is ${Number.isNaN(r.loss) ? 'NaN' : 'infinite'}`
      : 'gradient norm is not finite';
    nonFinite(s, `${what} at epoch ${s.epoch + 1} step ${s.step + 1}`);
  }
  const n = b.index.length;
  for (const sum of [s.sums.epoch, s.sums.window]) {
    sum.loss += r.loss * n;
    sum.correct += r.correct;
    sum.n += n;
  }
  s.step++;
  s.inEpoch++;
  s.progress?.step(s.step, { epoch: s.epoch, loss: r.loss, acc: r.correct / n });
  if (s.step % s.c.logEvery === 0) {
    const { epoch, step, lr } = s;
    s.run.log({ kind: 'step', epoch, step, lr, teacher: { train: meanOf(s.sums.window) }, time: s.run.elapsed() });
    s.sums.window = zero();
  }
  if (s.c.checkpointEvery > 0 && s.step % s.c.checkpointEvery === 0 && s.inEpoch < s.perEpoch) save(s);
}

/** One epoch: its lr and drop-path, the steps, the epoch record and checkpoint. */
async function retrainEpoch(s: Retraining, o: RetrainOptions): Promise<void> {
  s.lr = retrainLr(s.c, s.epoch);
  s.opt.lr = s.lr;
  s.model.dropPathProb = retrainDropPath(s.c, s.epoch);
  const e0 = Date.now();
  let dataMs = 0;
  while (s.inEpoch < s.perEpoch) {
    await yieldToEventLoop(); // signal handlers (SIGINT → abort) and timers run only between macrotasks
    if (o.signal?.aborted) interrupt(s);
    const d0 = Date.now();
    const b = batchToDevice(await s.stream.next(), s.device);
    dataMs += Date.now() - d0;
    try {
      retrainStep(s, b);
    } finally {
      t.disposeAll([b.x, b.y]);
    }
  }
  const { epoch, step, lr, run } = s;
  const rec: EpochRecord = {
    ...{ kind: 'epoch', epoch, step, lr, teacher: { train: meanOf(s.sums.epoch) } },
    ...{ seconds: (Date.now() - e0) / 1000, dataSeconds: dataMs / 1000, time: run.elapsed() },
  };
  run.log(rec);
  s.progress?.epoch(rec);
  s.inEpoch = 0;
  s.sums.epoch = zero();
  save(s, s.epoch + 1, 0);
  o.onEpoch?.(rec);
}

/** Tests the trained network and writes result.json; finishes the run. */
async function testTrained(s: Retraining, data: RetrainData): Promise<RetrainResult> {
  const { run, c } = s;
  run.addPhaseSeconds('retrain', (Date.now() - s.t0) / 1000);
  const tt = Date.now();
  const top5 = data.meta.name === 'imagenet';
  const model = { logits: (x: t.Tensor) => s.model.forward(x).logits, module: s.model };
  const [ev] = await evaluate(data, 'test', [model], { batchSize: c.batchSize, seed: c.seed, device: s.device, top5 });
  run.addPhaseSeconds('test', (Date.now() - tt) / 1000);
  const params = countParametersNoAux(s.model);
  const testError = 100 * (1 - ev!.acc);
  const result: RunResult = {
    testError,
    ...(ev!.top5 !== undefined && { top5Error: 100 * (1 - ev!.top5) }),
    ...{ paramsM: params / 1e6, testExamples: ev!.n, epochs: c.epochs, genotype: s.genotype },
  };
  run.writeResult(result);
  const message = `test error ${testError.toFixed(2)}% on ${ev!.n} images, ${(params / 1e6).toFixed(3)}M parameters`;
  run.log({ kind: 'event', step: s.step, event: 'done', message, time: run.elapsed() });
  s.progress?.message(message);
  run.finish('completed');
  return { ...result, testAcc: 100 * ev!.acc, params, seconds: (Date.now() - s.t0) / 1000 };
}

/**
 * Trains `genotype`'s evaluation network and tests it; writes metrics.jsonl, checkpoints and
 * result.json into `run`, and finishes the run (completed; failed on a NaN/inf loss, with
 * NonFiniteError; interrupted through the signal, with RunInterrupted).
 */
export async function retrain(o: RetrainOptions): Promise<RetrainResult> {
  const s = openRetraining(o);
  const { c, run } = s;
  try {
    const plan = { totalSteps: c.epochs * s.perEpoch, totalEpochs: c.epochs, stepsPerEpoch: s.perEpoch, startStep: s.step };
    s.progress = o.progress?.(plan);
    const params = countParametersNoAux(s.model);
    run.log({
      kind: 'event',
      step: s.step,
      event: o.resume ? 'resume' : 'start',
      message: `${params} parameters`,
      plan: { totalSteps: plan.totalSteps, totalEpochs: plan.totalEpochs },
      time: run.elapsed(),
    });
    if (!o.resume) save(s); // a resumable state from the first step on (a run without one never trained)
    for (; s.epoch < c.epochs; s.epoch++) await retrainEpoch(s, o);
    if (o.signal?.aborted) interrupt(s);
    return await testTrained(s, o.data);
  } catch (err) {
    if (!(err instanceof t.NonFiniteError || err instanceof RunInterrupted)) run.finish('failed', (err as Error).message);
    throw err;
  } finally {
    s.progress?.stop();
    s.stream.close();
    s.opt.dispose();
    s.model.dispose();
  }
}
