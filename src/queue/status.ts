// `lbt queue status|retry|cancel`: the queue's jobs grouped by experiment (its directory relative
// to the runs root), each with its state: waiting, active (worker, slot and progress), delayed (a
// report waiting for its seeds, a crash waiting to be retried), done, failed (with its message).
import { type Job, Queue, QueueEventsProducer } from 'bullmq';
import { connectionOf, probeRedis, QUEUE_NAME, QueueError } from './connection.js';
import { CANCEL_EVENT, type JobKind, type JobProgress, type SeedJobResult } from './jobs.js';

const STATES = ['active', 'waiting', 'prioritized', 'delayed', 'waiting-children', 'failed', 'completed'] as const;
export type JobState = (typeof STATES)[number];

export interface JobRow {
  id: string;
  kind: JobKind;
  seed: number | null;
  state: JobState;
  /** The worker that runs it (active) or ran it last. */
  worker: string | null;
  progress: JobProgress | null;
  /** Why it failed (failed), or why its last attempt failed (waiting or delayed for a retry). */
  message: string | null;
  attempts: number;
  /** A done seed's retrained test error in percent (null without a retrain). */
  testError: number | null;
}

export interface ExperimentStatus {
  experiment: string;
  jobs: JobRow[];
}

interface LbtJobData {
  kind?: JobKind;
  experiment?: string;
  seed?: number;
}

function rowOf(job: Job, state: JobState): JobRow {
  const d = job.data as LbtJobData;
  const p = job.progress;
  return {
    id: job.id ?? '?',
    kind: d.kind ?? 'seed',
    seed: d.seed ?? null,
    state,
    worker: job.processedBy ?? null,
    progress: p && typeof p === 'object' && 'phase' in p ? (p as JobProgress) : null,
    message: job.failedReason || null,
    attempts: job.attemptsMade,
    testError: state === 'completed' ? ((job.returnvalue as SeedJobResult | null)?.testError ?? null) : null,
  };
}

async function withQueue<T>(url: string, fn: (q: Queue) => Promise<T>): Promise<T> {
  await probeRedis(url);
  const queue = new Queue(QUEUE_NAME, { connection: connectionOf(url) });
  try {
    return await fn(queue);
  } finally {
    await queue.close();
  }
}

/** Whether a job belongs to the experiment named on the command line (its name in the status, or a path ending in it). */
const matches = (job: Job, name: string): boolean => {
  const e = (job.data as LbtJobData).experiment;
  return e !== undefined && (e === name || name.replace(/\/+$/, '').endsWith(`/${e}`));
};

async function jobsByState(queue: Queue, experiment?: string): Promise<[Job, JobState][]> {
  const out: [Job, JobState][] = [];
  for (const state of STATES)
    for (const job of await queue.getJobs([state], 0, -1, true))
      if (job && (experiment === undefined || matches(job, experiment))) out.push([job, state]);
  return out;
}

const order = (a: JobRow, b: JobRow) =>
  (a.kind === 'report' ? 1 : 0) - (b.kind === 'report' ? 1 : 0) || (a.seed ?? 0) - (b.seed ?? 0) || a.id.localeCompare(b.id);

/** Every lbt job in the queue by experiment (or one experiment's). */
export function queueStatus(url: string, experiment?: string): Promise<ExperimentStatus[]> {
  return withQueue(url, async (queue) => {
    const groups = new Map<string, JobRow[]>();
    for (const [job, state] of await jobsByState(queue, experiment)) {
      const e = (job.data as LbtJobData).experiment ?? '(not an lbt job)';
      groups.set(e, [...(groups.get(e) ?? []), rowOf(job, state)]);
    }
    if (experiment !== undefined && groups.size === 0) throw new QueueError(`no jobs of experiment ${experiment} in the queue`);
    return [...groups.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([e, jobs]) => ({ experiment: e, jobs: jobs.sort(order) }));
  });
}

/** Failed jobs of the experiment (or the one job `jobId`) back to waiting, attempts counted afresh; returns their ids. */
export function retryJobs(url: string, experiment: string): Promise<string[]> {
  return withQueue(url, async (queue) => {
    const all = await jobsByState(queue, experiment);
    if (all.length === 0) throw new QueueError(`no jobs of experiment ${experiment} in the queue`);
    const failed = all.filter(([, s]) => s === 'failed').map(([j]) => j);
    for (const job of failed) await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return failed.map((j) => j.id ?? '?');
  });
}

export interface CancelResult {
  removed: string[];
  /** Active jobs whose worker did not stop them in time (they end failed, "cancelled", when it does). */
  stillActive: string[];
}

/**
 * Removes the experiment's unfinished jobs (and with `all` its finished ones too) from the queue:
 * running ones are stopped first (their runs checkpoint), so enqueueing the experiment again resumes them.
 */
export function cancelJobs(
  url: string,
  experiment: string,
  o: { all?: boolean; timeoutMs?: number } = {},
): Promise<CancelResult> {
  return withQueue(url, async (queue) => {
    const first = await jobsByState(queue, experiment);
    if (first.length === 0) throw new QueueError(`no jobs of experiment ${experiment} in the queue`);
    const removed: string[] = [];
    const deadline = Date.now() + (o.timeoutMs ?? 60_000);
    const producer = new QueueEventsProducer(QUEUE_NAME, { connection: connectionOf(url) });
    try {
      for (let round = 0; ; round++) {
        const jobs = round === 0 ? first : await jobsByState(queue, experiment);
        const active = jobs.filter(([, s]) => s === 'active').map(([j]) => j.id ?? '?');
        for (const [job, s] of jobs)
          if (s !== 'active' && (s !== 'completed' || o.all) && (await queue.remove(job.id ?? '')) === 1)
            removed.push(job.id ?? '?');
        if (active.length === 0 || Date.now() > deadline) return { removed, stillActive: active };
        if (round === 0) await producer.publishEvent({ eventName: CANCEL_EVENT, jobIds: JSON.stringify(active) });
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      await producer.close();
    }
  });
}

const pct = (x: number) => `${x.toFixed(2)}%`;

/** One line of a job for `lbt queue status`. */
export function formatJob(j: JobRow): string {
  const what = j.kind === 'report' ? 'report' : `seed ${j.seed}`;
  const p = j.progress;
  let detail = '';
  if (j.state === 'active')
    detail = `${j.worker ?? '?'}${p ? ` ${p.slot}, ${p.phase}${p.phase === 'report' ? '' : ` step ${p.step}/${p.totalSteps}`}` : ''}`;
  else if (j.state === 'completed') detail = j.testError !== null ? `test error ${pct(j.testError)}` : '';
  else if (j.state === 'failed') detail = `${j.message ?? '?'} (attempts ${j.attempts})`;
  else if (j.state === 'delayed')
    detail = j.kind === 'report' ? 'waits for its seeds' : `retried soon; last attempt: ${j.message ?? '?'}`;
  else if (p && j.kind === 'seed') detail = `stopped at ${p.phase} step ${p.step}/${p.totalSteps}; resumes from its checkpoint`;
  const state = j.state === 'completed' ? 'done' : j.state;
  const line = `  ${what.padEnd(8)} ${state.padEnd(8)} ${detail}`.trimEnd();
  return `${line}  [${j.id}]`;
}

/** The lines of `lbt queue status`: per experiment a count line, then one line per job. */
export function formatStatus(groups: readonly ExperimentStatus[]): string[] {
  if (groups.length === 0) return ['the queue holds no jobs'];
  const lines: string[] = [];
  for (const g of groups) {
    const counts = new Map<string, number>();
    for (const j of g.jobs) {
      const s = j.state === 'completed' ? 'done' : j.state;
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    lines.push(`${g.experiment}: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`);
    lines.push(...g.jobs.map(formatJob));
  }
  return lines;
}
