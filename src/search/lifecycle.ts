// The life of a search run, the one sequence `lbt search` and `lbt experiment` both go through:
//   open (a new run directory after its data have loaded, or an interrupted one at its checkpoint)
//   → plan the progress → run the loop → write the genotype → retrain the found cell (when the
//   config has a retrain section) → finish run.json (completed, interrupted or failed).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SearchConfig } from '../config/schema.js';
import { loadData, type SplitData } from '../data/load.js';
import { type Genotype, toGenotypeFile } from '../nas/genotype.js';
import type { RetrainPlan, RetrainResult } from '../retrain/loop.js';
import { CheckpointError, disposeCheckpoint, type LoadedCheckpoint, loadCheckpoint } from '../runs/checkpoint.js';
import { checkDevice } from '../runs/device.js';
import { RunDirError, RunInterrupted } from '../runs/errors.js';
import { readJson } from '../runs/files.js';
import type { Progress } from '../runs/progress.js';
import { checkRunDirFree, RunDir, readSplits } from '../runs/run-dir.js';
import { RUN_FILES, RunSummary } from '../runs/types.js';
import { checkRetrainData, type RetrainStart, retrainAfterSearch } from './after.js';
import { checkSearchFits } from './fits.js';
import { runSearch } from './loop.js';
import { planSearch, type SearchPlan } from './plan.js';

/** A search run, open and ready to run. */
export interface SearchRun {
  run: RunDir;
  config: SearchConfig;
  data: SplitData;
  /** Set when resumed (its tensors are disposed by runSearchRun). */
  checkpoint: LoadedCheckpoint | null;
}

export interface CreateSearchRunOptions {
  dir: string;
  /** Replace an existing run directory (only one that holds a run). */
  force?: boolean;
  preset?: string;
  command?: string[];
  /** Take the run directory's lock even when another host holds it. */
  breakLock?: boolean;
}

/** The data of a search config (a resumed run passes its saved splits). */
export function loadSearchData(cfg: SearchConfig, saved?: SplitData['splits']): Promise<SplitData> {
  return loadData(cfg.dataset, { seed: cfg.seed, purpose: 'search', ...(saved && { saved }) });
}

/**
 * Starts a search run. The device, the data and a retrain's other data set are checked before the
 * run directory is made, so a missing dataset leaves nothing behind.
 */
export async function createSearchRun(config: SearchConfig, o: CreateSearchRunOptions): Promise<SearchRun> {
  checkDevice(config.device);
  if (!o.breakLock) checkRunDirFree(o.dir); // before the data load: a busy directory is refused at once
  const data = await loadSearchData(config);
  checkSearchFits(config, data);
  await checkRetrainData(config);
  const run = RunDir.create(o.dir, {
    kind: 'search',
    config,
    force: o.force ?? false,
    ...(o.breakLock && { breakLock: true }),
    device: config.device,
    ...(o.preset && { preset: o.preset }),
    ...(o.command && { command: o.command }),
  });
  run.writeSplits(data.splits);
  return { run, config, data, checkpoint: null };
}

export interface ResumeSearchOptions {
  /** Take the run's lock even when another host holds it (a writer known to be lost). */
  breakLock?: boolean;
  command?: string[];
}

/**
 * Reopens an interrupted search run at its last checkpoint, with its own config and splits; a run
 * killed before its first checkpoint starts again from the beginning. The run's lock is taken
 * first: a run that another process writes is refused before anything is read.
 */
export async function resumeSearchRun(dir: string, o: ResumeSearchOptions = {}): Promise<SearchRun> {
  dir = resolve(dir);
  const lock = RunDir.lock(dir, o);
  try {
    const summary = readJson(join(dir, RUN_FILES.summary), RunSummary, 'run summary');
    if (summary.kind !== 'search')
      throw new RunDirError(dir, `is a ${summary.kind} run: continue it with lbt ${summary.kind} --resume`);
    const config = readJson(join(dir, RUN_FILES.config), SearchConfig, 'search config');
    checkDevice(config.device);
    const ckPath = join(dir, RUN_FILES.checkpoint);
    const started = existsSync(ckPath);
    const saved = started || existsSync(join(dir, RUN_FILES.splits)) ? readSplits(dir) : undefined;
    const data = await loadSearchData(config, saved);
    const checkpoint = started ? loadCheckpoint(ckPath) : null;
    try {
      if (checkpoint && checkpoint.meta.kind !== 'search')
        throw new CheckpointError(ckPath, `is a ${checkpoint.meta.kind} checkpoint, not one of a search`);
      const at = checkpoint && {
        step: checkpoint.meta.step,
        ...(checkpoint.meta.records !== undefined && { records: checkpoint.meta.records }),
      };
      const run = RunDir.resume(dir, at, { lock });
      if (!saved) run.writeSplits(data.splits);
      return { run, config, data, checkpoint };
    } catch (e) {
      if (checkpoint) disposeCheckpoint(checkpoint);
      throw e;
    }
  } catch (e) {
    lock.release();
    throw e;
  }
}

export type Phase = 'search' | 'retrain';

export interface SearchRunOptions {
  /** Makes the progress display of a phase; default: none. */
  progress?: (phase: Phase, plan: { totalSteps: number; totalEpochs: number; startStep: number }) => Progress;
  /** Aborting stops the search (or its retrain) at the next step with a checkpoint (RunInterrupted). */
  signal?: AbortSignal;
  /** Called with the genotype when the search is done, before the retrain. */
  onSearched?: (genotype: Genotype) => void;
  onRetrain?: (how: RetrainStart, dir: string) => void;
  /** Retrain the found cell when the config has a retrain section (default true; an experiment runs it as its own phase). */
  retrain?: boolean;
}

export interface SearchOutcome {
  genotype: Genotype;
  /** The retrain's result; null when the config has no retrain section. */
  retrain: RetrainResult | null;
  plan: SearchPlan;
}

const SILENT: Progress = { step() {}, epoch() {}, message() {}, stop() {} };

/** Runs an open search run to its end (search, then the retrain of its cell) and finishes run.json. */
export async function runSearchRun(sr: SearchRun, o: SearchRunOptions = {}): Promise<SearchOutcome> {
  const { run, config: cfg, data, checkpoint } = sr;
  const plan = planSearch(cfg, data.train.indices.length);
  const startStep = checkpoint?.meta.step ?? 0;
  const progress = o.progress?.('search', { totalSteps: plan.totalSteps, totalEpochs: plan.totalEpochs, startStep }) ?? SILENT;
  const signal = o.signal ? { signal: o.signal } : {};
  try {
    const res = await runSearch(cfg, { run, progress, data, resume: checkpoint, ...signal }).finally(() => progress.stop());
    run.addPhaseSeconds('search', res.seconds);
    run.writeGenotype(toGenotypeFile(res.genotype));
    o.onSearched?.(res.genotype);
    let retrain: RetrainResult | null = null;
    if (cfg.retrain && o.retrain !== false) {
      const retrainProgress = (p: RetrainPlan) => o.progress?.('retrain', p) ?? SILENT;
      const onStart = o.onRetrain ? { onStart: o.onRetrain } : {};
      const resume = checkpoint !== null;
      retrain = await retrainAfterSearch({
        search: cfg,
        searchDir: run.dir,
        genotype: res.genotype,
        resume,
        progress: retrainProgress,
        ...signal,
        ...onStart,
      });
    }
    run.finish('completed');
    return { genotype: res.genotype, retrain, plan };
  } catch (err) {
    run.finish(err instanceof RunInterrupted ? 'interrupted' : 'failed', (err as Error).message);
    throw err;
  } finally {
    if (checkpoint) disposeCheckpoint(checkpoint);
    run.close();
  }
}
