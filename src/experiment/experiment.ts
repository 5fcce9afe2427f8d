// `lbt experiment`: one preset, N seeds, each a search and then the retrain of its cell, as the paper
// reports its rows (mean±std of ten runs). Layout:
//
//   EXP/experiment.json      what was asked (preset, file, scale, --set, retrain on/off); checked on re-runs
//   EXP/seed-<s>/            the search run of seed s (a run directory; result.json copied from its retrain)
//   EXP/seed-<s>/retrain/    the retrain of its genotype (a train run directory, searchRun "..")
//   EXP/report.md, .html     the `lbt report` table over the seeds of this invocation
//
// Re-running the same command skips finished seeds and resumes an interrupted search or retrain from
// its checkpoint. Nothing here prints: progress goes through the callbacks.
import { existsSync, readdirSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SearchData } from '../data/index.js';
import { type Genotype, parseGenotype, toGenotypeFile } from '../nas/genotype.js';
import { buildReport, type GenotypeDrawer } from '../report/report.js';
import { writeFileAtomic } from '../runs/atomic.js';
import { type LoadedCheckpoint, loadCheckpoint } from '../runs/checkpoint.js';
import { SearchConfig } from '../config/schema.js';
import { loadSearchConfig } from '../config/load.js';
import { createProgress, type Progress } from '../runs/progress.js';
import { type RetrainPlan, type RetrainResult, RetrainInterruptedError } from '../retrain/loop.js';
import { checkRetrainData, retrainAfterSearch } from '../retrain/run.js';
import { RunDir } from '../runs/run-dir.js';
import { RUN_FILES, type RunResult, type RunSummary } from '../runs/types.js';
import { runSearch, SearchStopped, stageCount } from '../search/loop.js';
import { loadDataFor, readSplits } from '../search/data.js';

export const EXPERIMENT_FILE = 'experiment.json';
const EXPERIMENT_FORMAT = 'lbt-experiment/1';

/** A bad experiment request or directory; names the path or key. */
export class ExperimentError extends Error {
  constructor(
    readonly path: string,
    what: string,
  ) {
    super(`${path}: ${what}`);
    this.name = 'ExperimentError';
  }
}

/** The experiment stopped through its signal; re-running the same command continues it. */
export class ExperimentInterrupted extends Error {
  constructor(
    readonly dir: string,
    readonly seed: number,
    readonly phase: Phase,
  ) {
    super(`interrupted in the ${phase} of seed ${seed}; its checkpoint is in ${dir}`);
    this.name = 'ExperimentInterrupted';
  }
}

export type Phase = 'search' | 'retrain';

/** What experiment.json records: the config sources (seeds excluded: more can be added later). */
export interface ExperimentSpec {
  preset?: string;
  file?: string;
  scale?: string;
  sets: string[];
  retrain: boolean;
}

export interface ProgressPlan {
  seed: number;
  phase: Phase;
  totalSteps: number;
  totalEpochs: number;
  startStep: number;
}

export interface ExperimentCallbacks {
  /** A seed's phase starts fresh, resumes from its checkpoint, or is skipped as finished. */
  onPhase?: (seed: number, phase: Phase, how: 'start' | 'resume' | 'skip', dir: string) => void;
  /** Makes the progress display of one phase; default: silent. */
  progress?: (plan: ProgressPlan) => Progress;
  onSeedDone?: (outcome: SeedOutcome) => void;
}

export interface ExperimentOptions extends ExperimentSpec, ExperimentCallbacks {
  dir: string;
  seeds: readonly number[];
  /** Remove an existing experiment directory (one holding experiment.json) and start over. */
  force?: boolean;
  configsDir?: string;
  /** Aborting stops the current phase at the next step with a checkpoint (ExperimentInterrupted). */
  signal?: AbortSignal;
  /** The report: cell drawings (the CLI passes its drawer) and charts (default on). */
  report?: { drawGenotype?: GenotypeDrawer; charts?: boolean; title?: string } | false;
}

export interface SeedOutcome {
  seed: number;
  dir: string;
  genotype: Genotype;
  /** Null with the retrain off. */
  result: RunResult | null;
}

export interface ExperimentResult {
  dir: string;
  seeds: SeedOutcome[];
  /** report.md's text (null with the report off). */
  markdown: string | null;
}

/** `--seeds N` → 0..N-1. */
export function seedRange(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** The search config of one seed: the sources, then `seed=<s>`; the retrain section dropped when off. */
export function seedConfig(spec: ExperimentSpec, seed: number, configsDir?: string): SearchConfig {
  if (spec.sets.some((s) => /^\s*seed\s*=/.test(s)))
    throw new ExperimentError('--set seed', 'an experiment sets the seed of each run itself (use --seeds or --seed-list)');
  const cfg = loadSearchConfig({
    ...(spec.preset && { preset: spec.preset }),
    ...(spec.file && { file: spec.file }),
    ...(spec.scale && { scale: spec.scale }),
    sets: [...spec.sets, `seed=${seed}`],
    ...(configsDir && { configsDir }),
  });
  return spec.retrain ? cfg : { ...cfg, retrain: null };
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new ExperimentError(path, `cannot read: ${(e as Error).message}`);
  }
}

/** Creates the experiment directory, or checks that an existing one was made by the same request. */
function openExperiment(dir: string, spec: ExperimentSpec, force: boolean): void {
  const file = join(dir, EXPERIMENT_FILE);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    if (!existsSync(file))
      throw new ExperimentError(dir, `exists and is not an experiment directory (no ${EXPERIMENT_FILE}); give another --out`);
    if (force) rmSync(dir, { recursive: true });
    else {
      const old = readJson<ExperimentSpec & { format: string }>(file);
      const diff = (['preset', 'file', 'scale', 'sets', 'retrain'] as const).filter(
        (k) => JSON.stringify(old[k] ?? null) !== JSON.stringify(spec[k] ?? null),
      );
      if (diff.length > 0) {
        const show = (v: unknown) => JSON.stringify(v ?? null);
        const what = diff.map((k) => `${k} was ${show(old[k])}, now ${show(spec[k])}`).join('; ');
        throw new ExperimentError(
          file,
          `this directory holds another experiment (${what}): give another --out, or --force to start over`,
        );
      }
      return;
    }
  }
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(
    file,
    `${JSON.stringify({ format: EXPERIMENT_FORMAT, ...spec, createdAt: new Date().toISOString() }, null, 2)}\n`,
    {
      fsync: false,
    },
  );
}

const summaryOf = (dir: string): RunSummary | null =>
  existsSync(join(dir, RUN_FILES.summary)) ? readJson<RunSummary>(join(dir, RUN_FILES.summary)) : null;

/** The first dotted key where two configs differ, or null. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d !== null) return d;
    }
    return null;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? null : path || '(root)';
}

function checkSameConfig(dir: string, cfg: SearchConfig): void {
  const file = join(dir, RUN_FILES.config);
  const parsed = SearchConfig.safeParse(readJson(file));
  if (!parsed.success) throw new ExperimentError(file, `not a search config: ${parsed.error.issues[0]?.message ?? ''}`);
  const d = firstDifference(parsed.data, cfg);
  if (d !== null)
    throw new ExperimentError(
      file,
      `${d} differs from the requested config (was the preset edited?): give another --out, or --force`,
    );
}

const silent = () => createProgress({ totalSteps: 0, totalEpochs: 0, stream: process.stderr, quiet: true });

/** The search of one seed: skipped when finished, resumed from its checkpoint, else started (over). */
async function searchSeed(o: ExperimentOptions, seed: number, cfg: SearchConfig, dir: string): Promise<Genotype> {
  const summary = summaryOf(dir);
  if (summary) checkSameConfig(dir, cfg);
  if (summary?.status === 'completed' && existsSync(join(dir, RUN_FILES.genotype))) {
    o.onPhase?.(seed, 'search', 'skip', dir);
    return parseGenotype(readJson(join(dir, RUN_FILES.genotype)));
  }
  let resume: LoadedCheckpoint | null = null;
  let run: RunDir;
  let data: SearchData;
  if (summary && existsSync(join(dir, RUN_FILES.checkpoint))) {
    resume = loadCheckpoint(join(dir, RUN_FILES.checkpoint));
    run = RunDir.resume(dir, resume.meta.step);
    data = await loadDataFor(cfg, readSplits(run.path('splits')));
    o.onPhase?.(seed, 'search', 'resume', dir);
  } else {
    data = await loadDataFor(cfg); // before the run directory: a missing dataset leaves nothing behind
    run = RunDir.create(dir, {
      kind: 'search',
      config: cfg,
      force: true,
      ...(o.preset && { preset: o.preset }),
      device: cfg.device,
    });
    run.writeSplits(data.splits);
    o.onPhase?.(seed, 'search', 'start', dir);
  }
  const perEpoch = Math.min(Math.ceil(data.splits.train.length / cfg.batchSize), cfg.stepsPerEpoch ?? Number.POSITIVE_INFINITY);
  const epochs = cfg.epochs * stageCount(cfg);
  const plan = {
    seed,
    phase: 'search' as const,
    totalSteps: perEpoch * epochs,
    totalEpochs: epochs,
    startStep: resume?.meta.step ?? 0,
  };
  const progress = o.progress?.(plan) ?? silent();
  try {
    const res = await runSearch(cfg, { run, progress, data, resume, shouldStop: () => o.signal?.aborted ?? false });
    run.addPhaseSeconds('search', res.seconds);
    run.writeGenotype(toGenotypeFile(res.genotype));
    run.finish('completed');
    return res.genotype;
  } catch (err) {
    if (err instanceof SearchStopped) {
      const stopped = o.signal?.aborted ?? false;
      run.finish(stopped ? 'interrupted' : 'failed', err.message);
      if (stopped) throw new ExperimentInterrupted(dir, seed, 'search');
    } else run.finish('failed', (err as Error).message);
    throw err;
  } finally {
    progress.stop();
    run.close();
  }
}

/** The retrain of one seed's genotype in SEED/retrain (retrainAfterSearch: lbt train's data for the retrain config; skipped when done). */
async function retrainSeed(
  o: ExperimentOptions,
  seed: number,
  cfg: SearchConfig,
  searchDir: string,
  g: Genotype,
): Promise<RunResult> {
  const dir = join(searchDir, 'retrain');
  const progress = (plan: RetrainPlan) => o.progress?.({ seed, phase: 'retrain', ...plan }) ?? silent();
  let r: RetrainResult;
  try {
    r = await retrainAfterSearch({
      search: cfg,
      searchDir,
      genotype: g,
      dir,
      resume: true, // a completed retrain is skipped, an interrupted one continues from its checkpoint
      progress,
      ...(o.signal && { signal: o.signal }),
      onStart: (how) => o.onPhase?.(seed, 'retrain', how, dir),
    });
  } catch (err) {
    if (err instanceof RetrainInterruptedError) throw new ExperimentInterrupted(dir, seed, 'retrain');
    throw err;
  }
  const { testAcc: _a, params: _p, seconds: _s, ...result } = r;
  return result;
}

/**
 * Runs the seeds in turn (search, then retrain), skipping what is finished, and writes the report
 * over this invocation's seeds. Throws ExperimentInterrupted on the signal, ExperimentError on a
 * directory or config that does not match the request; a failing run throws its own error.
 */
export async function runExperiment(o: ExperimentOptions): Promise<ExperimentResult> {
  if (o.seeds.length === 0) throw new ExperimentError('--seeds', 'no seeds to run');
  if (new Set(o.seeds).size !== o.seeds.length) throw new ExperimentError('--seed-list', `repeats a seed (${o.seeds.join(',')})`);
  const spec: ExperimentSpec = {
    ...(o.preset && { preset: o.preset }),
    ...(o.file && { file: resolve(o.file) }),
    ...(o.scale && { scale: o.scale }),
    sets: [...o.sets],
    retrain: o.retrain,
  };
  const configs = o.seeds.map((s) => seedConfig(spec, s, o.configsDir)); // every config error before any work
  await checkRetrainData(configs[0] as SearchConfig); // and a retrain's other data set (the seeds share it)
  const dir = resolve(o.dir);
  openExperiment(dir, spec, o.force ?? false);
  const outcomes: SeedOutcome[] = [];
  for (const [i, seed] of o.seeds.entries()) {
    const cfg = configs[i] as SearchConfig;
    const seedDir = join(dir, `seed-${seed}`);
    const genotype = await searchSeed(o, seed, cfg, seedDir);
    let result: RunResult | null = null;
    if (cfg.retrain) {
      result = await retrainSeed(o, seed, cfg, seedDir, genotype);
      // the search run carries its retrain's result, so `lbt report EXP` has one row per seed
      writeFileAtomic(join(seedDir, RUN_FILES.result), `${JSON.stringify(result, null, 2)}\n`, { fsync: false });
    }
    const outcome = { seed, dir: seedDir, genotype, result };
    outcomes.push(outcome);
    o.onSeedDone?.(outcome);
  }
  let markdown: string | null = null;
  if (o.report !== false) {
    const ro = o.report ?? {};
    const report = await buildReport(
      outcomes.map((s) => s.dir),
      {
        title: ro.title ?? `lbt experiment ${o.preset ?? o.file ?? ''} (${o.seeds.length} seeds)`.replace('  ', ' '),
        noCharts: ro.charts === false,
        ...(ro.drawGenotype && { drawGenotype: ro.drawGenotype }),
      },
    );
    writeFileSync(join(dir, 'report.md'), report.markdown);
    writeFileSync(join(dir, 'report.html'), report.html);
    markdown = report.markdown;
  }
  return { dir, seeds: outcomes, markdown };
}
