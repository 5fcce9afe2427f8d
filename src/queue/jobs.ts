// The queue's jobs. A seed job is one seed of an experiment (its search, then the retrain of its
// cell, resumable from the run's checkpoints); a report job writes the experiment's report once all
// its seeds are done. Ids are derived from what the job does, so enqueueing twice adds nothing:
//   seed-<s>-<hash of (experiment directory, resolved config)>
//   report-<hash of (experiment directory, sources, seeds, report options)>
// The experiment directory is recorded relative to the runs root every worker is given (--runs),
// so that machines may mount the shared directory at different paths.
import { createHash } from 'node:crypto';
import { isAbsolute, normalize, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import type { SearchConfig } from '../config/schema.js';
import { ExperimentError, type ExperimentSpec, ExperimentSpecData } from '../experiment/experiment.js';

export type JobKind = 'seed' | 'report';

/** The custom queue event that asks workers to stop some active jobs (`lbt queue cancel`); payload {jobIds: JSON}. */
export const CANCEL_EVENT = 'lbt-cancel';
/** The failure message of a job stopped by `lbt queue cancel`. */
export const CANCELLED = 'cancelled (lbt queue cancel)';

/** A path below the runs root: relative, normalised, never leaving it. */
const UnderRuns = z
  .string()
  .min(1)
  .refine((p) => !isAbsolute(p) && normalize(p) === p && p !== '.' && !p.split(/[\\/]/).includes('..'), {
    message: 'must be a relative path inside the runs directory',
  });

export const SeedJobData = z.object({
  kind: z.literal('seed'),
  experiment: UnderRuns,
  seed: z.number().int().nonnegative(),
  spec: ExperimentSpecData,
  /** The resolved search config (seed included), as the enqueuing machine resolved it. */
  config: z.record(z.string(), z.unknown()),
});
export type SeedJobData = z.infer<typeof SeedJobData>;

export const ReportJobData = z.object({
  kind: z.literal('report'),
  experiment: UnderRuns,
  spec: ExperimentSpecData,
  seeds: z.array(z.number().int().nonnegative()).min(1),
  /** The seeds' job ids, in the order of `seeds`. */
  seedJobs: z.array(z.string()).min(1),
  title: z.string(),
  charts: z.boolean(),
  cells: z.boolean(),
});
export type ReportJobData = z.infer<typeof ReportJobData>;

export const JobData = z.discriminatedUnion('kind', [SeedJobData, ReportJobData]);
export type JobData = z.infer<typeof JobData>;

/** What a finished job returns (its returnvalue in the queue). */
export interface SeedJobResult {
  seed: number;
  /** The seed's run directory, relative to the runs root. */
  dir: string;
  testError: number | null;
}
export interface ReportJobResult {
  /** report.md, relative to the runs root. */
  report: string;
}

/** Where a job is, as the status and progress show it. */
export interface JobProgress {
  phase: 'search' | 'retrain' | 'report';
  step: number;
  totalSteps: number;
  epoch: number;
  totalEpochs: number;
  /** The worker slot running it (gpu 0, cpu 1). */
  slot: string;
}

/** JSON with object keys sorted at every level: the same value gives the same text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

const digest = (v: unknown): string => createHash('sha256').update(canonicalJson(v)).digest('hex').slice(0, 16);

/** A seed job's id: the seed, and a hash of the experiment directory and the resolved config (which holds the seed). */
export function seedJobId(experiment: string, config: SearchConfig): string {
  return `seed-${config.seed}-${digest({ experiment, config })}`;
}

/** A report job's id: a hash of the experiment directory, its sources, its seeds and the report's options. */
export function reportJobId(data: Omit<ReportJobData, 'kind' | 'seedJobs'>): string {
  return `report-${digest(data)}`;
}

/** The experiment directory relative to the runs root; an ExperimentError when it is not inside it. */
export function experimentUnder(runs: string, dir: string): string {
  const rel = relative(resolve(runs), resolve(dir));
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel))
    throw new ExperimentError(
      resolve(dir),
      `a queued experiment's directory must lie inside --runs ${resolve(runs)} (the directory every worker shares)`,
    );
  return rel;
}

/** The seed job's data (what its worker needs, and nothing of this machine but the resolved config). */
export function seedJob(experiment: string, spec: ExperimentSpec, config: SearchConfig): SeedJobData {
  return { kind: 'seed', experiment, seed: config.seed, spec: { ...spec }, config: config as unknown as Record<string, unknown> };
}
