// Everything around retrain() for a train run directory: its data (D_tr + D_val and the test split
// of an `lbt train` config), creating and resuming it, its result when it has completed, and `lbt test`.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TrainConfig } from '../config/schema.js';
import { loadData, type SplitData } from '../data/load.js';
import type { SplitIndices } from '../data/splits.js';
import { type Genotype, GenotypeFile, parseGenotype, toGenotypeFile } from '../nas/genotype.js';
import { CheckpointError, disposeCheckpoint, type LoadedCheckpoint, loadCheckpoint, ungroup } from '../runs/checkpoint.js';
import { checkDevice } from '../runs/device.js';
import { checkBatchFitsMemory, checkBatchFitsSplits } from '../runs/memory.js';
import { RunDirError } from '../runs/errors.js';
import { readJson } from '../runs/files.js';
import { checkRunDirFree, isRunDir, RunDir, readSplits } from '../runs/run-dir.js';
import { RUN_FILES, RunResult, RunSummary } from '../runs/types.js';
import * as t from '../torch/index.js';
import { type EvalResult, evaluate } from './evaluate.js';
import type { RetrainResult } from './loop.js';
import { buildEvalNetwork, evalNetworkFloorBytes } from './network.js';

/**
 * The data of an `lbt train` config: D_tr and D_val (null sizes: the two halves of the labelled
 * training set, so together all of it), no D_u, and the test split. `saved` reuses a run's splits.
 */
export function loadTrainData(cfg: TrainConfig, saved?: SplitIndices): Promise<SplitData> {
  return loadData(cfg.dataset, { seed: cfg.seed, purpose: 'train', ...(saved && { saved }) });
}

/** A train run, open and ready for retrain(): its config, genotype, data and (resumed) checkpoint. */
export interface TrainRun {
  run: RunDir;
  config: TrainConfig;
  genotype: Genotype;
  data: SplitData;
  /** Set when resumed: pass to retrain({resume}), which disposes its tensors. */
  checkpoint?: LoadedCheckpoint;
}

export interface CreateTrainRunOptions {
  dir: string;
  genotype: Genotype;
  /** The genotype's name in genotype.json. */
  genotypeName?: string;
  /** Replace an existing run directory. */
  force?: boolean;
  preset?: string;
  command?: string[];
  /** The search run the genotype came from (run.json's searchRun). */
  searchRun?: string;
  /** Take the run directory's lock even when another host holds it. */
  breakLock?: boolean;
}

/** Starts a train run: the data are loaded first (a missing dataset leaves nothing behind), then the directory. */
export async function createTrainRun(config: TrainConfig, o: CreateTrainRunOptions): Promise<TrainRun> {
  checkDevice(config.device);
  if (!o.breakLock) checkRunDirFree(o.dir); // before the data load: a busy directory is refused at once
  const data = await loadTrainData(config);
  checkTrainFits(config, o.genotype, data);
  const run = RunDir.create(o.dir, {
    kind: 'train',
    config,
    force: o.force ?? false,
    ...(o.breakLock && { breakLock: true }),
    device: config.device,
    ...(o.preset && { preset: o.preset }),
    ...(o.command && { command: o.command }),
    ...(o.searchRun && { searchRun: o.searchRun }),
  });
  run.writeGenotype(toGenotypeFile(o.genotype, o.genotypeName));
  run.writeSplits(data.splits);
  return { run, config, genotype: o.genotype, data };
}

/** Refuses a batch size larger than D_tr ∪ D_val, or one whose activations cannot fit in memory. */
function checkTrainFits(config: TrainConfig, g: Genotype, data: SplitData): void {
  checkBatchFitsSplits(config.batchSize, [['D_tr + D_val', data.train.indices.length + data.valid.indices.length]]);
  const perExample = evalNetworkFloorBytes(config, g, data.meta);
  checkBatchFitsMemory('batchSize', config.batchSize, perExample, 'the evaluation network', config.device, 'channels or layers');
}

/** The genotype a train run trains: from its checkpoint, else its genotype.json. */
function runGenotype(dir: string, ck: LoadedCheckpoint | null): Genotype {
  const fromCk = (ck?.meta.extra as { genotype?: GenotypeFile } | undefined)?.genotype;
  if (fromCk) return parseGenotype(fromCk);
  const p = join(dir, RUN_FILES.genotype);
  if (!existsSync(p)) throw new RunDirError(dir, 'has no genotype.json and its checkpoint names no genotype');
  return parseGenotype(readJson(p, GenotypeFile, 'genotype'));
}

function checkpointOf(dir: string): LoadedCheckpoint {
  const p = join(dir, RUN_FILES.checkpoint);
  if (!existsSync(p)) throw new RunDirError(dir, `has no ${RUN_FILES.checkpoint} to continue from or evaluate`);
  const ck = loadCheckpoint(p);
  if (ck.meta.kind !== 'train') {
    disposeCheckpoint(ck);
    throw new CheckpointError(p, `is a ${ck.meta.kind} checkpoint, not one of \`lbt train\``);
  }
  return ck;
}

/** A train run's config.json, validated (a search run's retrain/ directory holds one too). */
function readTrainConfig(dir: string): TrainConfig {
  if (!isRunDir(dir)) throw new RunDirError(dir, 'not a run directory (no run.json)');
  const kind = readJson(join(dir, RUN_FILES.summary), RunSummary, 'run summary').kind;
  if (kind !== 'train')
    throw new RunDirError(dir, `is a ${kind} run, not one of \`lbt train\` (a search's retrain is its retrain/ directory)`);
  return readJson(join(dir, RUN_FILES.config), TrainConfig, '`lbt train` config');
}

export interface ResumeTrainOptions {
  /** Take the run's lock even when another host holds it (a writer known to be lost). */
  breakLock?: boolean;
  command?: string[];
}

/**
 * Reopens a train run at its last checkpoint, with its own config, genotype and splits; a run killed
 * before its first checkpoint starts again from the beginning. Its lock is taken first.
 */
export async function resumeTrainRun(dir: string, o: ResumeTrainOptions = {}): Promise<TrainRun> {
  dir = resolve(dir);
  if (completedResult(dir))
    throw new RunDirError(dir, 'the run has completed: nothing to resume (`lbt test --run` evaluates it again)');
  const lock = RunDir.lock(dir, o);
  try {
    const config = readTrainConfig(dir);
    checkDevice(config.device);
    const started = existsSync(join(dir, RUN_FILES.checkpoint));
    const saved = started || existsSync(join(dir, RUN_FILES.splits)) ? readSplits(dir) : undefined;
    const data = await loadTrainData(config, saved);
    const checkpoint = started ? checkpointOf(dir) : null;
    try {
      const genotype = runGenotype(dir, checkpoint);
      const m = checkpoint?.meta;
      const run = RunDir.resume(dir, m ? { step: m.step, ...(m.records !== undefined && { records: m.records }) } : null, {
        lock,
      });
      if (!saved) run.writeSplits(data.splits);
      return { run, config, genotype, data, ...(checkpoint && { checkpoint }) };
    } catch (e) {
      if (checkpoint) disposeCheckpoint(checkpoint);
      throw e;
    }
  } catch (e) {
    lock.release();
    throw e;
  }
}

/** A completed train run's result (as retrain() returned it, seconds 0), or null. */
export function completedResult(dir: string): RetrainResult | null {
  const summary = join(dir, RUN_FILES.summary);
  const result = join(dir, RUN_FILES.result);
  if (!existsSync(summary) || !existsSync(result)) return null;
  if (readJson(summary, RunSummary, 'run summary').status !== 'completed') return null;
  const r = readJson(result, RunResult, 'result');
  return { ...r, testAcc: 100 - r.testError, params: Math.round(r.paramsM * 1e6), seconds: 0 };
}

export interface TestRunResult extends EvalResult {
  dir: string;
  params: number;
  /** Epochs the checkpoint had finished, of `epochs`. */
  epochsDone: number;
  epochs: number;
}

/** `lbt test --run DIR`: the run's last checkpoint on its test split (eval mode). */
export async function testRun(dir: string, o: { batchSize?: number } = {}): Promise<TestRunResult> {
  const config = readTrainConfig(dir);
  const device = checkDevice(config.device);
  const data = await loadTrainData(config, readSplits(dir));
  const ck = checkpointOf(dir);
  let model: ReturnType<typeof buildEvalNetwork> | null = null;
  try {
    const genotype = runGenotype(dir, ck);
    model = t.withDefaultDevice(device, () => buildEvalNetwork(config, genotype, data.meta));
    model.loadStateDict(ungroup('model', ck.tensors));
    const net = model;
    const classifier = { logits: (x: t.Tensor) => net.forward(x).logits, module: net };
    const top5 = data.meta.name === 'imagenet';
    const [ev] = await evaluate(data, 'test', [classifier], {
      batchSize: o.batchSize ?? config.batchSize,
      seed: config.seed,
      device,
      top5,
    });
    const params = model.numParameters((n) => !n.includes('auxiliary'));
    return { ...ev!, dir, params, epochsDone: ck.meta.epoch, epochs: config.epochs };
  } finally {
    model?.dispose();
    disposeCheckpoint(ck);
  }
}
