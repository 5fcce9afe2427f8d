// The evaluation phase (paper §4.2; DARTS train.py, darts-family.md §4): a genotype's network
// trained from scratch on D_tr + D_val, then tested once on the test split. Per epoch e (0-based):
// lr = schedule(e), drop-path p = dropPath·e/epochs; per step: loss = CE(logits) + auxWeight·CE(aux),
// global-norm clip, SGD. Used by `lbt train` and by the short retrain after a search
// (retrain-run.ts builds the data and run directory around it).
import type { SearchData } from '../data/search-data.js';
import { DataConfigError } from '../data/errors.js';
import { deriveSeed } from '../data/rng.js';
import { BatchStream, type StreamState, type Subset } from '../data/stream.js';
import { makeTransform } from '../data/transforms.js';
import { countParametersNoAux, NetworkCIFAR, NetworkImageNet } from '../nas/eval-network.js';
import { dropPathSchedule } from '../nas/eval-cell.js';
import { type Genotype, toGenotypeFile } from '../nas/genotype.js';
import * as t from '../torch/index.js';
import {
  CheckpointError,
  captureRng,
  type LoadedCheckpoint,
  namespaced,
  restoreRng,
  saveCheckpoint,
  ungroup,
} from '../runs/checkpoint.js';
import type { RetrainConfig } from '../config/schema.js';
import type { Progress } from '../runs/progress.js';
import { evaluate, toDevice } from './evaluate.js';
import type { RunDir } from '../runs/run-dir.js';
import type { EpochRecord, RunResult } from '../runs/types.js';

/** The run settings around a retrain section; TrainConfig has them all, a search passes its own. */
export interface RetrainRunSettings {
  seed?: number;
  device?: string;
  deterministic?: boolean;
  /** Checkpoint every this many steps (and at every epoch end); 0 = epoch ends only. */
  checkpointEvery?: number;
  /** A step record in metrics.jsonl every this many steps. */
  logEvery?: number;
  dataset?: { augment?: boolean };
}
export type RetrainSettings = RetrainConfig & RetrainRunSettings;

/** The parts of the data a retrain reads: it trains on train ∪ valid and tests on test. */
export type RetrainData = Pick<SearchData, 'meta' | 'train' | 'valid' | 'test'>;

/** The run stopped on a NaN or infinite loss; `checkpoint` is the last good one (null if none was written). */
export class NonFiniteLossError extends Error {
  constructor(
    message: string,
    readonly checkpoint: string | null,
  ) {
    super(message);
    this.name = 'NonFiniteLossError';
  }
}

/** The run was stopped through its AbortSignal after saving a checkpoint at `step`. */
export class RetrainInterruptedError extends Error {
  constructor(
    readonly dir: string,
    readonly step: number,
    readonly epoch: number,
  ) {
    super(`interrupted at epoch ${epoch + 1}, step ${step}; checkpoint saved in ${dir}`);
    this.name = 'RetrainInterruptedError';
  }
}

/**
 * The learning rate of 0-based epoch `e` (set once per epoch, as the reference's scheduler.step()
 * at the start of each epoch). cosine: CosineAnnealingLR(epochs, lrMin); step: lr·γ^e; linear:
 * PC-DARTS train_imagenet.py adjust_lr (lr·(T−5−e)/(T−5), the last 5 epochs lr·(T−e)/(5(T−5)); for
 * T ≤ 5, lr·(T−e)/T). Warm-up multiplies the first `warmupEpochs` epochs by (e+1)/warmupEpochs.
 */
export function retrainLr(
  c: Pick<RetrainConfig, 'lr' | 'lrMin' | 'schedule' | 'lrGamma' | 'warmupEpochs' | 'epochs'>,
  e: number,
): number {
  const T = c.epochs;
  let lr: number;
  if (c.schedule === 'cosine') lr = t.optim.cosineLr(e, T, c.lr, c.lrMin);
  else if (c.schedule === 'step') lr = Math.max(c.lrMin, t.optim.stepLr(e, 1, c.lrGamma, c.lr));
  else if (T <= 5) lr = Math.max(c.lrMin, (c.lr * (T - e)) / T);
  else lr = Math.max(c.lrMin, T - e > 5 ? (c.lr * (T - 5 - e)) / (T - 5) : (c.lr * (T - e)) / ((T - 5) * 5));
  return t.optim.warmupLr(e, c.warmupEpochs, lr);
}

/** The drop-path probability of 0-based epoch e: dropPath·e/epochs (0 in the first epoch). */
export function retrainDropPath(c: Pick<RetrainConfig, 'dropPath' | 'epochs'>, e: number): number {
  return dropPathSchedule(c.dropPath, e, c.epochs);
}

export type EvalNetwork = NetworkCIFAR | NetworkImageNet;

/** NetworkImageNet for ImageNet, NetworkCIFAR (with the data's input channels) for everything else. */
export function buildEvalNetwork(
  c: Pick<RetrainConfig, 'layers' | 'channels' | 'auxiliary'>,
  g: Genotype,
  meta: RetrainData['meta'],
): EvalNetwork {
  const cfg = {
    genotype: g,
    C: c.channels,
    layers: c.layers,
    numClasses: meta.numClasses,
    auxiliary: c.auxiliary,
    inChannels: meta.shape[0],
  };
  if (meta.name === 'imagenet') return new NetworkImageNet(cfg);
  if (c.channels % 2 !== 0)
    throw new DataConfigError('channels', `NetworkCIFAR needs an even C (it doubles at reductions), got ${c.channels}`);
  return new NetworkCIFAR(cfg);
}

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

/** One optimisation step, scoped: nothing it makes outlives it. The weights are not touched when the loss is not finite. */
export function trainStep(
  model: EvalNetwork,
  opt: t.optim.SGD,
  x: t.Tensor,
  y: t.Tensor,
  c: Pick<RetrainConfig, 'auxWeight' | 'gradClip' | 'labelSmoothing'>,
): { loss: number; correct: number; gradNorm: number | null } {
  return t.scope(() => {
    opt.zeroGrad();
    const { logits, logitsAux } = model.forward(x);
    const ce = (z: t.Tensor) => t.crossEntropy(z, y, { labelSmoothing: c.labelSmoothing });
    const loss = logitsAux && c.auxWeight > 0 ? ce(logits).add(ce(logitsAux), c.auxWeight) : ce(logits);
    const value = loss.item();
    const correct = t.eq(logits.argmax(1), y).sum().item();
    if (!Number.isFinite(value)) return { loss: value, correct, gradNorm: null };
    loss.backward();
    const gradNorm = c.gradClip > 0 ? t.optim.clipGradNorm(opt.params, c.gradClip) : null;
    if (gradNorm === null || Number.isFinite(gradNorm)) opt.step();
    opt.zeroGrad();
    return { loss: value, correct, gradNorm };
  });
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

export interface RetrainPlan {
  totalSteps: number;
  totalEpochs: number;
  stepsPerEpoch: number;
  /** Steps already done (a resumed run). */
  startStep: number;
}

export interface RetrainOptions {
  config: RetrainSettings;
  genotype: Genotype;
  data: RetrainData;
  /** The run directory (RunDir.create, or RunDir.resume at the checkpoint's step). */
  run: RunDir;
  /** Default: the run's checkpoint.safetensors. */
  checkpointPath?: string;
  /** A checkpoint of this run to continue from (loadCheckpoint); its tensors are disposed here. */
  resume?: LoadedCheckpoint;
  /** Makes the progress display once the step count is known; default: none. */
  progress?: (plan: RetrainPlan) => Progress;
  /** Called after each epoch's record is written and its checkpoint saved. */
  onEpoch?: (rec: EpochRecord) => void;
  /** Aborting stops the run at the next step with a checkpoint (RetrainInterruptedError). */
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
  genotype: ReturnType<typeof toGenotypeFile>;
}

/**
 * Trains `genotype`'s evaluation network and tests it; writes metrics.jsonl, checkpoints and
 * result.json into `run`, and finishes the run (completed, failed on a NaN/inf loss, interrupted).
 */
export async function retrain(o: RetrainOptions): Promise<RetrainResult> {
  const c = o.config;
  const device = c.device ?? 'cpu';
  const seed = c.seed ?? 0;
  const logEvery = c.logEvery ?? 50;
  const ckEvery = c.checkpointEvery ?? 0;
  const ckPath = o.checkpointPath ?? o.run.path('checkpoint');
  const run = o.run;
  const t0 = Date.now();
  if (!o.data.test) throw new DataConfigError('test', `${o.data.meta.name} has no test split to evaluate on`);
  if (c.deterministic) t.setDeterministic(true);

  const sub = trainValidSubset(o.data);
  const transform = makeTransform(sub.source, o.data.meta, {
    train: c.dataset?.augment ?? true,
    cutout: c.cutout ? c.cutoutLength : 0,
  });
  const stream = new BatchStream(sub, transform, { batchSize: c.batchSize, seed: deriveSeed(seed, 1), mode: 'epoch' });
  t.manualSeed(seed);
  const model = t.withDefaultDevice(device as t.Device, () => buildEvalNetwork(c, o.genotype, o.data.meta));
  const opt = new t.optim.SGD(model.parameters(), { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay });
  let progress: Progress | undefined;
  try {
    const perEpoch = Math.min(c.stepsPerEpoch ?? Number.POSITIVE_INFINITY, stream.stepsPerEpoch);
    const params = countParametersNoAux(model);
    const genotypeFile = toGenotypeFile(o.genotype);

    let epoch = 0;
    let inEpoch = 0;
    let step = 0;
    let sums = { epoch: zero(), window: zero() };
    let savedStep = -1;
    if (o.resume) {
      const ck = o.resume;
      try {
        if (ck.meta.kind !== 'train')
          throw new CheckpointError(ckPath, `is a ${ck.meta.kind} checkpoint, not one of \`lbt train\``);
        model.loadStateDict(ungroup('model', ck.tensors));
        const w = ck.optimizers.weights;
        if (w) opt.loadStateDict(w);
        stream.restore((ck.meta.dataIterators as { train: StreamState }).train);
        restoreRng(ck.meta.rng);
        ({ epoch, stepInEpoch: inEpoch, step } = ck.meta);
        sums = structuredClone((ck.meta.extra as unknown as TrainExtra).sums);
        savedStep = step;
      } finally {
        for (const x of ck.tensors.values()) x.dispose();
        for (const s of Object.values(ck.optimizers)) for (const x of s.tensors.values()) x.dispose();
      }
    }
    progress = o.progress?.({
      totalSteps: c.epochs * perEpoch,
      totalEpochs: c.epochs,
      stepsPerEpoch: perEpoch,
      startStep: step,
    });
    run.log({ kind: 'event', step, event: o.resume ? 'resume' : 'start', message: `${params} parameters`, time: run.elapsed() });

    /** Saves the state from which the run continues at (nextEpoch, stepInEpoch). */
    const save = (nextEpoch = epoch, stepInEpoch = inEpoch) => {
      const extra: TrainExtra = { sums, genotype: genotypeFile };
      saveCheckpoint(ckPath, {
        tensors: namespaced('model', model.stateDict()),
        optimizers: { weights: opt.stateDict() },
        meta: {
          kind: 'train',
          config: c,
          epoch: nextEpoch,
          stepInEpoch,
          step,
          rng: captureRng(),
          dataIterators: { train: stream.state() },
          extra: extra as unknown as Record<string, unknown>,
        },
      });
      savedStep = step;
    };
    const stop = (event: 'nan' | 'stop', message: string, status: 'failed' | 'interrupted') => {
      run.log({ kind: 'event', step, event, message, time: run.elapsed() });
      run.addPhaseSeconds('retrain', (Date.now() - t0) / 1000);
      run.finish(status, message);
    };
    let lr = retrainLr(c, epoch);
    for (; epoch < c.epochs; epoch++) {
      lr = retrainLr(c, epoch);
      opt.lr = lr;
      model.dropPathProb = retrainDropPath(c, epoch);
      const e0 = Date.now();
      let dataMs = 0;
      for (; inEpoch < perEpoch; ) {
        await yieldToEventLoop(); // signal handlers (SIGINT → abort) and timers run only between macrotasks
        if (o.signal?.aborted) {
          if (savedStep !== step) save();
          const err = new RetrainInterruptedError(run.dir, step, epoch);
          stop('stop', err.message, 'interrupted');
          throw err;
        }
        const d0 = Date.now();
        const b = await stream.next();
        dataMs += Date.now() - d0;
        let r: ReturnType<typeof trainStep>;
        try {
          r = t.scope(() => trainStep(model, opt, toDevice(b.x, device), toDevice(b.y!, device), c));
        } finally {
          b.x.dispose();
          b.y?.dispose();
        }
        if (!Number.isFinite(r.loss) || (r.gradNorm !== null && !Number.isFinite(r.gradNorm))) {
          const what = !Number.isFinite(r.loss)
            ? `loss is ${Number.isNaN(r.loss) ? 'NaN' : 'infinite'}`
            : 'gradient norm is not finite';
          const kept =
            savedStep >= 0 ? `the last good checkpoint is ${ckPath} (step ${savedStep})` : 'no checkpoint was written yet';
          const msg = `${what} at epoch ${epoch + 1} step ${step + 1} (lr ${lr.toPrecision(3)}); stopped, ${kept}`;
          stop('nan', msg, 'failed');
          throw new NonFiniteLossError(msg, savedStep >= 0 ? ckPath : null);
        }
        const n = b.index.length;
        for (const s of [sums.epoch, sums.window]) {
          s.loss += r.loss * n;
          s.correct += r.correct;
          s.n += n;
        }
        step++;
        inEpoch++;
        progress?.step(step, { epoch, loss: r.loss, acc: r.correct / n });
        if (step % logEvery === 0) {
          run.log({ kind: 'step', epoch, step, lr, teacher: { train: meanOf(sums.window) }, time: run.elapsed() });
          sums.window = zero();
        }
        if (ckEvery > 0 && step % ckEvery === 0 && inEpoch < perEpoch) save();
      }
      const rec: EpochRecord = {
        kind: 'epoch',
        epoch,
        step,
        lr,
        teacher: { train: meanOf(sums.epoch) },
        seconds: (Date.now() - e0) / 1000,
        dataSeconds: dataMs / 1000,
        time: run.elapsed(),
      };
      run.log(rec);
      progress?.epoch(rec);
      inEpoch = 0;
      sums.epoch = zero();
      save(epoch + 1, 0);
      o.onEpoch?.(rec);
    }
    if (o.signal?.aborted) {
      const err = new RetrainInterruptedError(run.dir, step, epoch);
      stop('stop', err.message, 'interrupted');
      throw err;
    }
    const trainSeconds = (Date.now() - t0) / 1000;
    run.addPhaseSeconds('retrain', trainSeconds);
    const tt = Date.now();
    const ev = await evaluate(model, o.data, { batchSize: c.batchSize, seed, device, top5: o.data.meta.name === 'imagenet' });
    run.addPhaseSeconds('test', (Date.now() - tt) / 1000);
    const testError = 100 * (1 - ev.acc);
    const result: RunResult = {
      testError,
      ...(ev.top5 !== undefined && { top5Error: 100 * (1 - ev.top5) }),
      paramsM: params / 1e6,
      testExamples: ev.n,
      epochs: c.epochs,
      genotype: genotypeFile,
    };
    run.writeResult(result);
    const message = `test error ${testError.toFixed(2)}% on ${ev.n} images, ${(params / 1e6).toFixed(3)}M parameters`;
    run.log({ kind: 'event', step, event: 'done', message, time: run.elapsed() });
    progress?.message(message);
    run.finish('completed');
    return { ...result, testAcc: 100 * ev.acc, params, seconds: (Date.now() - t0) / 1000 };
  } catch (err) {
    if (!(err instanceof NonFiniteLossError || err instanceof RetrainInterruptedError)) {
      run.finish('failed', (err as Error).message);
    }
    throw err;
  } finally {
    progress?.stop();
    stream.close();
    opt.dispose();
    model.dispose();
  }
}
