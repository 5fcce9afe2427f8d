// The retrain after a search: the found cell trained as `lbt train` would (a train run in
// SEARCH_DIR/retrain, kind "train", searchRun pointing back, config.json a full TrainConfig so that
// `lbt test --run` and `lbt train --resume` work on it). Its data are D_tr ∪ D_val of the retrain's
// data set (the search's unless retrain.dataset names another; null sizes: the whole training set,
// as paper §4.2 evaluates) and its test split.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { retrainConfigOf } from '../config/retrain.js';
import type { SearchConfig } from '../config/schema.js';
import { DataConfigError } from '../data/errors.js';
import type { Genotype } from '../nas/genotype.js';
import { type RetrainPlan, type RetrainResult, retrain } from '../retrain/loop.js';
import { completedResult, createTrainRun, loadTrainData, resumeTrainRun, type TrainRun } from '../retrain/run.js';
import type { Progress } from '../runs/progress.js';
import { writeJson } from '../runs/files.js';
import { RUN_FILES } from '../runs/types.js';

/**
 * Checks, before a search starts, that the data of its retrain can be loaded when that is another
 * data set (retrain.dataset): a missing ImageNet is reported before the search, not after it.
 */
export async function checkRetrainData(search: SearchConfig): Promise<void> {
  if (!search.retrain?.dataset) return;
  const data = await loadTrainData(retrainConfigOf(search, '(check)'));
  if (!data.test)
    throw new DataConfigError('retrain.dataset', `${data.meta.name} has no test split to evaluate the retrained cell on`);
}

export type RetrainStart = 'start' | 'resume' | 'skip';

export interface RetrainAfterSearchOptions {
  search: SearchConfig;
  /** The search's run directory; its result.json gets the retrain's result (a report row per search). */
  searchDir: string;
  genotype: Genotype;
  /** Continue a retrain left unfinished in SEARCH_DIR/retrain (or keep a completed one) instead of starting over. */
  resume?: boolean;
  progress?: (plan: RetrainPlan) => Progress;
  signal?: AbortSignal;
  /** Told whether the retrain starts afresh, continues a checkpoint, or had completed (its result stands). */
  onStart?: (how: RetrainStart, dir: string) => void;
  /** Take the retrain run's lock even when another host holds it (a writer known to be lost). */
  breakLock?: boolean;
}

async function openRetrainRun(o: RetrainAfterSearchOptions, dir: string): Promise<TrainRun> {
  const lock = o.breakLock ? { breakLock: true } : {};
  if (o.resume && existsSync(join(dir, RUN_FILES.checkpoint))) return resumeTrainRun(dir, lock);
  const config = retrainConfigOf(o.search, o.searchDir);
  const searchRun = relative(dir, o.searchDir) || '.';
  return createTrainRun(config, { dir, genotype: o.genotype, force: true, searchRun, ...lock });
}

/** Trains the found cell in SEARCH_DIR/retrain (skipped when a resumed one had completed); its result goes to the search run too. */
export async function retrainAfterSearch(o: RetrainAfterSearchOptions): Promise<RetrainResult> {
  const dir = join(o.searchDir, 'retrain');
  const done = o.resume ? completedResult(dir) : null;
  let r: RetrainResult;
  if (done) {
    o.onStart?.('skip', dir); // finished in an earlier session (e.g. the search was stopped after it): its result stands
    r = done;
  } else {
    const tr = await openRetrainRun(o, dir);
    o.onStart?.(tr.checkpoint ? 'resume' : 'start', dir);
    const pass = { ...(o.progress && { progress: o.progress }), ...(o.signal && { signal: o.signal }) };
    const resume = tr.checkpoint ? { resume: tr.checkpoint } : {};
    r = await retrain({ config: tr.config, genotype: tr.genotype, data: tr.data, run: tr.run, ...resume, ...pass }).finally(() =>
      tr.run.close(),
    );
  }
  const { testAcc: _a, params: _p, seconds: _s, ...result } = r;
  writeJson(join(o.searchDir, RUN_FILES.result), result);
  return r;
}
