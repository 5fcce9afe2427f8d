// Everything around retrain(): the data of an `lbt train` config (D_tr + D_val and the test split),
// creating and resuming train run directories, the short retrain after a search, and `lbt test`.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DataConfigError } from '../data/errors.js';
import { buildSearchData, DataConfig, loadDataset, type SearchData } from '../data/search-data.js';
import { SplitIndices } from '../data/splits.js';
import { type Genotype, type GenotypeFile, parseGenotype, toGenotypeFile } from '../nas/genotype.js';
import * as t from '../torch/index.js';
import { CheckpointError, type LoadedCheckpoint, loadCheckpoint, ungroup } from '../runs/checkpoint.js';
import { type SearchConfig, TrainConfig, trainDatasetFields } from '../config/schema.js';
import type { Progress } from '../runs/progress.js';
import { buildEvalNetwork, type RetrainPlan, type RetrainResult, retrain } from './loop.js';
import { type EvalResult, evaluate } from './evaluate.js';
import { isRunDir, RunDir, RunDirError } from '../runs/run-dir.js';
import { RUN_FILES, type RunResult, type RunSummary } from '../runs/types.js';

/** A subset size of the config (null, a count or a fraction) as a count out of `total`. */
function sizeOf(v: number | null, dflt: number, total: number): number {
  if (v === null) return dflt;
  return v < 1 ? Math.floor(v * total) : v;
}

/**
 * The data of an `lbt train` run: D_tr and D_val (null sizes: the two halves of the labelled
 * training set, so together all of it; fractions are of the training set), no D_u, and the test
 * split (null: all of it). `saved` reuses a run's splits (resume).
 */
export async function loadTrainData(cfg: TrainConfig, saved?: SplitIndices): Promise<SearchData> {
  const d = cfg.dataset;
  const ds = await loadDataset({ dataset: d.name, ...(d.dir !== null && { dir: d.dir }) });
  const held = d.testFromTrain ?? 0; // training images held out as the test split (the search's, same sample)
  const n = ds.train.n - held;
  const nTest = held || (ds.test?.n ?? 0);
  const half = Math.floor(n / 2);
  const base = { dataset: d.name, seed: cfg.seed, unlabeledSize: 0, ...(held && { testFromTrain: held }) };
  let dc: DataConfig;
  if (ds.train.kind === 'folder') {
    for (const k of ['trainSize', 'valSize'] as const) {
      const v = d[k];
      if (v !== null && v >= 1) throw new DataConfigError(`dataset.${k}`, `image folders take a fraction in (0, 1), got ${v}`);
    }
    // per class round(f·m) images; 0.5 and just under 0.5 never sum past m
    dc = DataConfig.parse({
      ...base,
      trainFraction: d.trainSize ?? 0.5,
      validFraction: d.valSize ?? 0.5 - 1e-9,
      unlabeledFraction: 0,
    });
  } else {
    const trainSize = sizeOf(d.trainSize, half, n);
    const validSize = Math.min(sizeOf(d.valSize, n - half, n), Math.max(0, n - trainSize));
    dc = DataConfig.parse({ ...base, trainSize, validSize, testSize: sizeOf(d.testSize, nTest, nTest) });
  }
  const data = buildSearchData(ds, null, dc, saved);
  if (ds.train.kind === 'folder' && d.testSize !== null && data.test) {
    const keep = sizeOf(d.testSize, data.test.indices.length, data.test.indices.length);
    return { ...data, test: { ...data.test, indices: data.test.indices.slice(0, keep) } };
  }
  return data;
}

/** splits.json of a train run: D_tr, D_val and the test indices (no D_u). */
export function trainSplits(data: SearchData): SplitIndices {
  return { ...data.splits, unlabeledFrom: 'train', unlabeled: [] };
}

function readSplits(dir: string): SplitIndices | undefined {
  const p = join(dir, RUN_FILES.splits);
  if (!existsSync(p)) return undefined;
  try {
    return SplitIndices.parse(JSON.parse(readFileSync(p, 'utf8')));
  } catch (e) {
    throw new RunDirError(p, `not a valid splits file: ${(e as Error).message}`);
  }
}

/** The genotype a train run trains: from its checkpoint, else its genotype.json. */
function runGenotype(dir: string, ck: LoadedCheckpoint | null): Genotype {
  const fromCk = (ck?.meta.extra as { genotype?: GenotypeFile } | undefined)?.genotype;
  if (fromCk) return parseGenotype(fromCk);
  const p = join(dir, RUN_FILES.genotype);
  if (!existsSync(p)) throw new RunDirError(dir, 'has no genotype.json and its checkpoint names no genotype');
  return parseGenotype(JSON.parse(readFileSync(p, 'utf8')));
}

function checkpointOf(dir: string): LoadedCheckpoint {
  const p = join(dir, RUN_FILES.checkpoint);
  if (!existsSync(p)) throw new RunDirError(dir, `has no ${RUN_FILES.checkpoint} to continue from or evaluate`);
  const ck = loadCheckpoint(p);
  if (ck.meta.kind !== 'train') {
    for (const x of ck.tensors.values()) x.dispose();
    throw new CheckpointError(p, `is a ${ck.meta.kind} checkpoint, not one of \`lbt train\``);
  }
  return ck;
}

/** A train run's config.json, validated (a search run's retrain/ directory holds one too). */
function readTrainConfig(dir: string): TrainConfig {
  if (!isRunDir(dir)) throw new RunDirError(dir, 'not a run directory (no run.json)');
  const p = join(dir, RUN_FILES.config);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new RunDirError(p, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const r = TrainConfig.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new RunDirError(p, `not an \`lbt train\` config: ${i.path.join('.') || 'config'}: ${i.message}`);
  }
  return r.data;
}

export interface ResumedTrainRun {
  run: RunDir;
  config: TrainConfig;
  genotype: Genotype;
  data: SearchData;
  /** Pass to retrain({resume}); retrain disposes its tensors. */
  checkpoint: LoadedCheckpoint;
}

/** Reopens a train run at its last checkpoint, with its own config, genotype and splits. */
export async function resumeTrainRun(dir: string): Promise<ResumedTrainRun> {
  const summary = join(dir, RUN_FILES.summary);
  if (existsSync(summary) && (JSON.parse(readFileSync(summary, 'utf8')) as RunSummary).status === 'completed')
    throw new RunDirError(dir, 'the run has completed: nothing to resume (`lbt test --run` evaluates it again)');
  const config = readTrainConfig(dir);
  const saved = readSplits(dir);
  const data = await loadTrainData(config, saved);
  const checkpoint = checkpointOf(dir);
  try {
    const genotype = runGenotype(dir, checkpoint);
    const run = RunDir.resume(dir, checkpoint.meta.step);
    return { run, config, genotype, data, checkpoint };
  } catch (e) {
    for (const x of checkpoint.tensors.values()) x.dispose();
    throw e;
  }
}

/**
 * The `lbt train` config equivalent to a search's retrain section: its data set (retrain.dataset,
 * else the search's), the search's seed and device.
 */
export function trainConfigFromSearch(search: SearchConfig, genotypeRef: string): TrainConfig {
  if (!search.retrain) throw new DataConfigError('retrain', 'the search config has no retrain section');
  const { dataset: own, ...retrainSettings } = search.retrain;
  const dataset = own ?? trainDatasetFields(search.dataset);
  return TrainConfig.parse({
    genotype: genotypeRef,
    seed: search.seed,
    device: search.device,
    deterministic: search.deterministic,
    checkpointEvery: search.checkpointEvery,
    logEvery: search.logEvery,
    dataset,
    ...retrainSettings,
  });
}

/**
 * Checks, before a search starts, that the data of its retrain can be loaded when that is another
 * data set (retrain.dataset): a missing ImageNet is reported before the search, not after it.
 */
export async function checkRetrainData(search: SearchConfig): Promise<void> {
  if (!search.retrain?.dataset) return;
  const data = await loadTrainData(trainConfigFromSearch(search, '(check)'));
  if (!data.test)
    throw new DataConfigError('retrain.dataset', `${data.meta.name} has no test split to evaluate the retrained cell on`);
}

export interface RetrainAfterSearchOptions {
  search: SearchConfig;
  /** The search run directory (its genotype.json is what is trained). */
  searchDir: string;
  genotype: Genotype;
  /** The retrain's own run directory; default SEARCH_DIR/retrain. */
  dir?: string;
  /** Continue a retrain left unfinished in `dir` (its checkpoint, config and splits) instead of starting over. */
  resume?: boolean;
  /** The search's RunDir: when given, the retrain's result.json is written there too (for `lbt report`). */
  searchRun?: RunDir;
  progress?: (plan: RetrainPlan) => Progress;
  signal?: AbortSignal;
  /** Told whether the retrain starts afresh, continues a checkpoint, or had completed (its result stands). */
  onStart?: (how: 'start' | 'resume' | 'skip', dir: string) => void;
}

/**
 * The retrain after a search: a train run in SEARCH_DIR/retrain (kind "train", searchRun pointing
 * back, config.json a full TrainConfig so `lbt test --run` and `lbt train --resume` work on it). Its
 * data are `lbt train`'s for that config: D_tr ∪ D_val of the retrain's data set (the search's unless
 * retrain.dataset names another; with null sizes the whole training set, as paper §4.2 evaluates)
 * and its test split.
 */
export async function retrainAfterSearch(o: RetrainAfterSearchOptions): Promise<RetrainResult> {
  const dir = o.dir ?? join(o.searchDir, 'retrain');
  const done = o.resume ? completedResult(dir) : null;
  if (done) {
    // finished in an earlier session (e.g. the search was stopped after it): its result stands
    o.onStart?.('skip', dir);
    return reported(o, done);
  }
  if (o.resume && existsSync(join(dir, RUN_FILES.checkpoint))) {
    const { run, config, genotype, data, checkpoint } = await resumeTrainRun(dir);
    o.onStart?.('resume', dir);
    return reported(o, await retrain({ config, genotype, data, run, resume: checkpoint, ...pass(o) }).finally(() => run.close()));
  }
  const config = trainConfigFromSearch(o.search, o.searchDir);
  const data = await loadTrainData(config);
  const run = RunDir.create(dir, {
    kind: 'train',
    config,
    force: true,
    device: config.device,
    searchRun: relative(dir, o.searchDir) || '.',
  });
  run.writeGenotype(toGenotypeFile(o.genotype));
  run.writeSplits(trainSplits(data));
  o.onStart?.('start', dir);
  return reported(o, await retrain({ config, genotype: o.genotype, data, run, ...pass(o) }).finally(() => run.close()));
}

/** A completed train run's result (as retrain() returned it, seconds 0), or null. */
function completedResult(dir: string): RetrainResult | null {
  const summary = join(dir, RUN_FILES.summary);
  const result = join(dir, RUN_FILES.result);
  if (!existsSync(summary) || !existsSync(result)) return null;
  if ((JSON.parse(readFileSync(summary, 'utf8')) as RunSummary).status !== 'completed') return null;
  const r = JSON.parse(readFileSync(result, 'utf8')) as RunResult;
  return { ...r, testAcc: 100 - r.testError, params: Math.round(r.paramsM * 1e6), seconds: 0 };
}

function reported(o: RetrainAfterSearchOptions, r: RetrainResult): RetrainResult {
  const { testAcc: _a, params: _p, seconds: _s, ...result } = r;
  o.searchRun?.writeResult(result);
  return r;
}

const pass = (o: { progress?: RetrainAfterSearchOptions['progress']; signal?: AbortSignal }) => ({
  ...(o.progress && { progress: o.progress }),
  ...(o.signal && { signal: o.signal }),
});

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
  const saved = readSplits(dir);
  const data = await loadTrainData(config, saved);
  const ck = checkpointOf(dir);
  let model: ReturnType<typeof buildEvalNetwork> | null = null;
  try {
    const genotype = runGenotype(dir, ck);
    model = t.withDefaultDevice(config.device as t.Device, () => buildEvalNetwork(config, genotype, data.meta));
    model.loadStateDict(ungroup('model', ck.tensors));
    const ev = await evaluate(model, data, {
      batchSize: o.batchSize ?? config.batchSize,
      seed: config.seed,
      device: config.device,
      top5: data.meta.name === 'imagenet',
    });
    const params = model.numParameters((n) => !n.includes('auxiliary'));
    return { ...ev, dir, params, epochsDone: ck.meta.epoch, epochs: config.epochs };
  } finally {
    model?.dispose();
    for (const x of ck.tensors.values()) x.dispose();
    for (const s of Object.values(ck.optimizers)) for (const x of s.tensors.values()) x.dispose();
  }
}
