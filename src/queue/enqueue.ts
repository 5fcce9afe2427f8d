// `lbt experiment --queue URL`: the experiment as jobs, one per seed (search + retrain) and one for
// its report, written by a worker once every seed is done, exactly as the local experiment writes
// it. The configs are resolved here (every config error before anything is queued) and the
// experiment directory is made here, under the runs root the workers share; enqueueing the same
// experiment again adds nothing (job ids are hashes of what the jobs do).
import { resolve } from 'node:path';
import { Queue } from 'bullmq';
import {
  checkSeeds,
  type ExperimentSpec,
  experimentSpec,
  experimentTitle,
  openExperiment,
  seedConfig,
} from '../experiment/experiment.js';
import { checkRedisUrl, connectionOf, probeRedis, QUEUE_NAME, QueueError } from './connection.js';
import {
  experimentUnder,
  type JobKind,
  type ReportJobData,
  type ReportJobResult,
  reportJobId,
  seedJob,
  seedJobId,
} from './jobs.js';

export interface EnqueueOptions extends ExperimentSpec {
  url: string;
  /** The runs root every worker shares (workers get it as --runs). */
  runs: string;
  /** The experiment directory, inside `runs`. */
  dir: string;
  seeds: readonly number[];
  configsDir?: string;
  report: { title?: string; charts: boolean; cells: boolean };
}

export interface EnqueuedJob {
  id: string;
  kind: JobKind;
  seed: number | null;
  /** False when the job was already in the queue (its state then). */
  added: boolean;
  state: string;
}

export interface EnqueueResult {
  dir: string;
  /** The experiment directory relative to the runs root: its name in `lbt queue`. */
  experiment: string;
  jobs: EnqueuedJob[];
}

/** Crashes (not bad input, not a stop) are retried this many times in all, 30 s, 60 s apart. */
const SEED_ATTEMPTS = 3;

async function addOnce(
  queue: Queue,
  kind: JobKind,
  id: string,
  seed: number | null,
  data: object,
  attempts: number,
): Promise<EnqueuedJob> {
  const state = await queue.getJobState(id);
  if (state !== 'unknown') return { id, kind, seed, added: false, state };
  await queue.add(kind, data, { jobId: id, attempts, backoff: { type: 'exponential', delay: 30_000 } });
  return { id, kind, seed, added: true, state: 'waiting' };
}

/** Resolves the seeds' configs, makes (or checks) the experiment directory and adds the jobs not yet queued. */
export async function enqueueExperiment(o: EnqueueOptions): Promise<EnqueueResult> {
  checkRedisUrl(o.url);
  checkSeeds(o.seeds);
  const spec = experimentSpec(o);
  const configs = o.seeds.map((s) => seedConfig(spec, s, o.configsDir));
  const dir = resolve(o.dir);
  const experiment = experimentUnder(o.runs, dir);
  await probeRedis(o.url);
  openExperiment(dir, spec, false).release(); // made or checked; the seeds' runs take their own locks
  const queue = new Queue(QUEUE_NAME, { connection: connectionOf(o.url) });
  try {
    const jobs: EnqueuedJob[] = [];
    for (const cfg of configs)
      jobs.push(
        await addOnce(queue, 'seed', seedJobId(experiment, cfg), cfg.seed, seedJob(experiment, spec, cfg), SEED_ATTEMPTS),
      );
    const report: Omit<ReportJobData, 'kind' | 'seedJobs'> = {
      experiment,
      spec,
      seeds: [...o.seeds],
      title: o.report.title ?? experimentTitle(o, o.seeds.length),
      charts: o.report.charts,
      cells: o.report.cells,
    };
    const data: ReportJobData = { kind: 'report', ...report, seedJobs: jobs.map((j) => j.id) };
    jobs.push(await addOnce(queue, 'report', reportJobId(report), null, data, SEED_ATTEMPTS));
    return { dir, experiment, jobs };
  } finally {
    await queue.close();
  }
}

/** A queued experiment that ended with a failed job; the message is that job's. */
export class QueuedJobFailed extends Error {
  constructor(
    readonly jobId: string,
    reason: string,
  ) {
    super(`job ${jobId} failed: ${reason}`);
    this.name = 'QueuedJobFailed';
  }
}

export interface WaitOptions {
  url: string;
  reportJob: string;
  /** Polling interval (default 2 s). */
  everyMs?: number;
  signal?: AbortSignal;
  /** Called with the report job's state whenever it changes. */
  onState?: (state: string) => void;
}

/** Waits until the report job has completed (its result) or failed (QueuedJobFailed with its message). */
export async function waitForReport(o: WaitOptions): Promise<ReportJobResult> {
  const queue = new Queue(QUEUE_NAME, { connection: connectionOf(o.url) });
  try {
    let seen = '';
    for (;;) {
      const job = await queue.getJob(o.reportJob);
      if (!job) throw new QueueError(`job ${o.reportJob} is no longer in the queue (cancelled?)`);
      const state = await job.getState();
      if (state !== seen) o.onState?.((seen = state));
      if (state === 'completed') return job.returnvalue as ReportJobResult;
      if (state === 'failed') throw new QueuedJobFailed(o.reportJob, job.failedReason);
      if (o.signal?.aborted) throw new QueueError('stopped waiting; the jobs go on (lbt queue status)');
      await new Promise((r) => setTimeout(r, o.everyMs ?? 2000));
    }
  } finally {
    await queue.close();
  }
}
