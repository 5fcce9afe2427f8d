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
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { loadSearchConfig } from '../config/load.js';
import { SearchConfig } from '../config/schema.js';
import { type Genotype, GenotypeFile, parseGenotype } from '../nas/genotype.js';
import { type GenotypeDrawer, writeReport } from '../report/report.js';
import { asRunFileError, readJson, writeJson } from '../runs/files.js';
import { acquireRunLock, LOCK_FILE, type RunLock } from '../runs/lock.js';
import { checkRunDirFree } from '../runs/run-dir.js';
import type { Progress } from '../runs/progress.js';
import { RUN_FILES, type RunResult, RunSummary } from '../runs/types.js';
import { checkRetrainData, type RetrainStart, retrainAfterSearch } from '../search/after.js';
import { createSearchRun, type Phase, resumeSearchRun, runSearchRun } from '../search/lifecycle.js';

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
  onPhase?: (seed: number, phase: Phase, how: RetrainStart, dir: string) => void;
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
  /** Aborting stops the current phase at the next step with a checkpoint (RunInterrupted). */
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

/** An ExperimentSpec as data (experiment.json, a queued seed's job). */
export const ExperimentSpecData = z.object({
  preset: z.string().optional(),
  file: z.string().optional(),
  scale: z.string().optional(),
  sets: z.array(z.string()),
  retrain: z.boolean(),
});

const ExperimentFile = ExperimentSpecData.extend({ format: z.literal(EXPERIMENT_FORMAT) });

/** Refuses to delete an experiment while one of its runs is written by a live process (a queue worker, say). */
function checkNoLiveRuns(dir: string): void {
  for (const f of readdirSync(dir).filter((n) => n.startsWith('seed-')))
    for (const run of [join(dir, f), join(dir, f, 'retrain')]) checkRunDirFree(run);
}

/** The experiment directory with nothing but its lock (for --force). */
function emptyExperiment(dir: string): void {
  checkNoLiveRuns(dir);
  for (const f of readdirSync(dir)) if (f !== LOCK_FILE) rmSync(join(dir, f), { recursive: true, force: true });
}

/** experiment.json of an existing directory must record the same request. */
function checkSameRequest(file: string, spec: ExperimentSpec): void {
  const old = readJson(file, ExperimentFile, 'experiment file');
  const diff = (['preset', 'file', 'scale', 'sets', 'retrain'] as const).filter(
    (k) => JSON.stringify(old[k] ?? null) !== JSON.stringify(spec[k] ?? null),
  );
  if (diff.length === 0) return;
  const show = (v: unknown) => JSON.stringify(v ?? null);
  const what = diff.map((k) => `${k} was ${show(old[k])}, now ${show(spec[k])}`).join('; ');
  throw new ExperimentError(
    file,
    `this directory holds another experiment (${what}): give another --out, or --force to start over`,
  );
}

/**
 * Creates the experiment directory, or checks that an existing one was made by the same request;
 * takes its lock (one `lbt experiment` per directory; the caller releases it).
 */
export function openExperiment(dir: string, spec: ExperimentSpec, force: boolean): RunLock {
  const file = join(dir, EXPERIMENT_FILE);
  const nonEmpty = existsSync(dir) && readdirSync(dir).some((f) => f !== LOCK_FILE);
  if (nonEmpty && !existsSync(file))
    throw new ExperimentError(dir, `exists and is not an experiment directory (no ${EXPERIMENT_FILE}); give another --out`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw asRunFileError(e, dir, 'cannot create the experiment directory');
  }
  const lock = acquireRunLock(dir);
  try {
    if (nonEmpty && !force) checkSameRequest(file, spec);
    else {
      if (nonEmpty) emptyExperiment(dir);
      writeJson(file, { format: EXPERIMENT_FORMAT, ...spec, createdAt: new Date().toISOString() });
    }
    return lock;
  } catch (e) {
    lock.release();
    throw e;
  }
}

/** Checks that `dir` is an experiment directory made by this request (a queued seed's, made when it was enqueued). */
export function checkExperiment(dir: string, spec: ExperimentSpec): void {
  const file = join(dir, EXPERIMENT_FILE);
  if (!existsSync(file))
    throw new ExperimentError(dir, `no ${EXPERIMENT_FILE}: not the experiment directory this seed was enqueued into`);
  checkSameRequest(file, spec);
}

const summaryOf = (dir: string): RunSummary | null =>
  existsSync(join(dir, RUN_FILES.summary)) ? readJson(join(dir, RUN_FILES.summary), RunSummary, 'run summary') : null;

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
  const d = firstDifference(readJson(file, SearchConfig, 'search config'), cfg);
  if (d !== null)
    throw new ExperimentError(
      file,
      `${d} differs from the requested config (was the preset edited?): give another --out, or --force`,
    );
}

/** The genotype of a seed whose search completed in an earlier invocation, else null. */
function searchedGenotype(dir: string): Genotype | null {
  const summary = summaryOf(dir);
  if (summary?.status !== 'completed' || !existsSync(join(dir, RUN_FILES.genotype))) return null;
  return parseGenotype(readJson(join(dir, RUN_FILES.genotype), GenotypeFile, 'genotype'));
}

/** What one seed's run needs of the experiment's options. */
export interface SeedOptions extends ExperimentCallbacks {
  preset?: string;
  signal?: AbortSignal;
  /** Take the seed's run locks even when another host holds them (a queue worker known to be lost). */
  breakLock?: boolean;
}

/** The search phase of a seed: skipped when completed, resumed from its checkpoint, else started (over). */
async function searchSeed(o: SeedOptions, seed: number, cfg: SearchConfig, dir: string): Promise<Genotype> {
  if (summaryOf(dir)) checkSameConfig(dir, cfg);
  const done = searchedGenotype(dir);
  if (done) {
    o.onPhase?.(seed, 'search', 'skip', dir);
    return done;
  }
  const resume = summaryOf(dir) !== null && existsSync(join(dir, RUN_FILES.checkpoint));
  const lock = o.breakLock ? { breakLock: true } : {};
  const sr = resume
    ? await resumeSearchRun(dir, lock)
    : await createSearchRun(cfg, { dir, force: true, ...(o.preset && { preset: o.preset }), ...lock });
  o.onPhase?.(seed, 'search', resume ? 'resume' : 'start', dir);
  const out = await runSearchRun(sr, {
    progress: (phase, plan) => o.progress?.({ seed, phase, ...plan }) ?? SILENT,
    ...(o.signal && { signal: o.signal }),
    retrain: false, // its own phase below: a seed's search and retrain resume independently
  });
  return out.genotype;
}

/**
 * One seed in its run directory (EXP/seed-<s>): its search, then (with a retrain section) the
 * retrain of its cell, each skipped when done and resumed from its checkpoint when interrupted.
 * The local experiment and a queued seed's job both run a seed through here.
 */
export async function runSeed(o: SeedOptions, seed: number, cfg: SearchConfig, dir: string): Promise<SeedOutcome> {
  const genotype = await searchSeed(o, seed, cfg, dir);
  if (!cfg.retrain) return { seed, dir, genotype, result: null };
  const r = await retrainAfterSearch({
    search: cfg,
    searchDir: dir,
    genotype,
    resume: true, // a completed retrain is skipped, an interrupted one continues from its checkpoint
    ...(o.breakLock && { breakLock: true }),
    progress: (plan) => o.progress?.({ seed, phase: 'retrain', ...plan }) ?? SILENT,
    ...(o.signal && { signal: o.signal }),
    onStart: (how, d) => o.onPhase?.(seed, 'retrain', how, d),
  });
  const { testAcc: _a, params: _p, seconds: _s, ...result } = r;
  return { seed, dir, genotype, result };
}

const SILENT: Progress = { step() {}, epoch() {}, message() {}, stop() {} };

/** A seed's run directory in an experiment directory. */
export const seedDir = (dir: string, seed: number): string => join(dir, `seed-${seed}`);

/** The sources of an experiment as experiment.json records them (the config file's path resolved). */
export function experimentSpec(o: ExperimentSpec): ExperimentSpec {
  return {
    ...(o.preset && { preset: o.preset }),
    ...(o.file && { file: resolve(o.file) }),
    ...(o.scale && { scale: o.scale }),
    sets: [...o.sets],
    retrain: o.retrain,
  };
}

/** Refuses an empty or repeating seed list. */
export function checkSeeds(seeds: readonly number[]): void {
  if (seeds.length === 0) throw new ExperimentError('--seeds', 'no seeds to run');
  if (new Set(seeds).size !== seeds.length) throw new ExperimentError('--seed-list', `repeats a seed (${seeds.join(',')})`);
}

export type ExperimentReportOptions = Exclude<ExperimentOptions['report'], false | undefined>;

/** The report's default title: the preset (or config file as given) and the number of seeds. */
export const experimentTitle = (o: { preset?: string; file?: string }, seeds: number): string =>
  `lbt experiment ${o.preset ?? o.file ?? ''} (${seeds} seeds)`.replace('  ', ' ');

/** Writes report.md and report.html over the seeds' run directories; returns the Markdown. */
export async function writeExperimentReport(dir: string, seeds: readonly number[], ro: ExperimentReportOptions): Promise<string> {
  const report = await writeReport(
    seeds.map((s) => seedDir(dir, s)),
    dir,
    { title: ro.title!, noCharts: ro.charts === false, ...(ro.drawGenotype && { drawGenotype: ro.drawGenotype }) },
  );
  return report.markdown;
}

/**
 * Runs the seeds in turn (search, then retrain), skipping what is finished, and writes the report
 * over this invocation's seeds. Throws ExperimentInterrupted on the signal, ExperimentError on a
 * directory or config that does not match the request; a failing run throws its own error.
 */
export async function runExperiment(o: ExperimentOptions): Promise<ExperimentResult> {
  checkSeeds(o.seeds);
  const spec = experimentSpec(o);
  const configs = o.seeds.map((s) => seedConfig(spec, s, o.configsDir)); // every config error before any work
  await checkRetrainData(configs[0]!); // and a retrain's other data set (the seeds share it)
  const dir = resolve(o.dir);
  const lock = openExperiment(dir, spec, o.force ?? false);
  try {
    const outcomes: SeedOutcome[] = [];
    for (const [i, seed] of o.seeds.entries()) {
      const outcome = await runSeed(o, seed, configs[i]!, seedDir(dir, seed));
      outcomes.push(outcome);
      o.onSeedDone?.(outcome);
    }
    return { dir, seeds: outcomes, markdown: await experimentReport(o, dir) };
  } finally {
    lock.release();
  }
}

/** report.md and report.html over this invocation's seeds; the Markdown, or null with the report off. */
async function experimentReport(o: ExperimentOptions, dir: string): Promise<string | null> {
  let markdown: string | null = null;
  if (o.report !== false) {
    const ro = o.report ?? {};
    markdown = await writeExperimentReport(dir, o.seeds, { ...ro, title: ro.title ?? experimentTitle(o, o.seeds.length) });
  }
  return markdown;
}
