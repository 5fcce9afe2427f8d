// `lbt worker`: takes jobs from the queue, one per slot (a GPU, or a share of the CPU cores), and runs
// each in a process of its own (spawn.ts, child.ts). This process only holds the jobs' locks in Redis
// and passes progress on, so a long libtorch step never makes a job look stalled. BullMQ's stalled-job
// check gives the job of a worker that stopped renewing its lock (killed, machine lost) to another
// worker, whose run resumes from the run directory's last checkpoint. stop(): the running searches
// checkpoint and their jobs go back to the queue.
import { existsSync, statSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { resolve } from 'node:path';
import { DelayedError, type Job, Queue, QueueEvents, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { connectionOf, probeRedis, QUEUE_NAME, QueueError, redactUrl } from './connection.js';
import { CANCEL_EVENT, CANCELLED, JobData, type JobProgress, type ReportJobData } from './jobs.js';
import { type JobOutcome, type JobProcess, type Slot, spawnJob } from './spawn.js';

export interface WorkerOptions {
  url: string;
  /** The runs root as this machine mounts it (the shared directory). */
  runs: string;
  slots: readonly Slot[];
  /** The module a job's process runs (it calls serveJob with the CLI's error classes). */
  entry: string;
  /** A job whose worker stops renewing its lock is taken over after about 1-2x this (default 30). */
  stallSeconds?: number;
  /** Take-overs a job may have before it fails (default 5). */
  maxStalls?: number;
  /** How often a report job waiting for its seeds looks again (default 60; a finished seed wakes it too). */
  reportPollSeconds?: number;
  /** Shown as the worker of its active jobs (default host:pid). */
  name?: string;
  log?: (line: string) => void;
}

export interface LbtWorker {
  readonly name: string;
  /** Running jobs stop with a checkpoint and go back to the queue; resolves once the worker has closed. */
  stop(): Promise<void>;
}

/** One slot per GPU id (the job's process sees only that GPU; the cores are shared out among them). */
export function gpuSlots(ids: readonly string[], cores = cpus().length, env = process.env): Slot[] {
  const threads = env.LBT_NUM_THREADS ?? String(Math.max(1, Math.floor(cores / ids.length)));
  return ids.map((id) => ({ label: `gpu ${id}`, env: { CUDA_VISIBLE_DEVICES: id, LBT_NUM_THREADS: threads } }));
}

/** N CPU slots, each job's libtorch given cores/N threads (LBT_NUM_THREADS set by the user wins). */
export function cpuSlots(n: number, cores = cpus().length, env = process.env): Slot[] {
  const threads = env.LBT_NUM_THREADS ?? String(Math.max(1, Math.floor(cores / n)));
  return Array.from({ length: n }, (_, i) => ({ label: `cpu ${i}`, env: { LBT_NUM_THREADS: threads } }));
}

interface Context {
  o: WorkerOptions;
  runs: string;
  queue: Queue;
  free: Slot[];
  running: Map<string, JobProcess>;
  /** When each running job's lock was last known held (taken, or renewed). */
  lockHeld: Map<string, number>;
  /** Running jobs whose process was ended because their lock was lost, with why. */
  lost: Map<string, string>;
  stopping: boolean;
  log: (line: string) => void;
}

/** Active → waiting again: the worker is stopping (its run checkpointed, or it had not started). */
async function backToQueue(job: Job, token: string | undefined): Promise<never> {
  await job.moveToWait(token);
  throw new WaitingError();
}

const lastLine = (text: string) => text.trim().split('\n').pop() ?? '';

/** A job's result, or the error that sends it where it belongs: failed once, retried, or back to the queue. */
async function settle(job: Job, token: string | undefined, out: JobOutcome, c: Context, cancelled: boolean): Promise<unknown> {
  if (out.type === 'done') return out.value;
  if (c.lost.has(job.id ?? '')) return backToQueue(job, token); // only while the lock is still ours; else the stalled check
  if (cancelled) throw new UnrecoverableError(CANCELLED);
  const stopped = out.type === 'died' || out.kind === 'interrupted';
  if (c.stopping && stopped) return backToQueue(job, token);
  if (out.type === 'failed') {
    if (out.kind === 'input' || out.kind === 'diverged') throw new UnrecoverableError(out.message);
    throw new Error(out.message);
  }
  const how = out.signal ? `was killed (${out.signal})` : `exited with status ${out.code}`;
  throw new Error(`the job's process ${how}${out.stderr ? `: ${lastLine(out.stderr)}` : ''}`);
}

/** Runs a job in a process of its own on a free slot. */
async function runJob(job: Job, token: string | undefined, signal: AbortSignal | undefined, data: JobData, c: Context) {
  const slot = c.free.shift();
  if (!slot) throw new Error('no free slot (more jobs than slots)');
  const id = job.id ?? '?';
  let last = 0;
  const onProgress = (p: Omit<JobProgress, 'slot'>) => {
    const now = Date.now();
    if (now - last < 1000 && p.step < p.totalSteps) return;
    last = now;
    job.updateProgress({ ...p, slot: slot.label } satisfies JobProgress).catch(() => {});
  };
  const breakLock = job.stalledCounter > 0; // its last worker was lost: a run lock it left is stale
  const proc = spawnJob({
    entry: c.o.entry,
    slot,
    job: data,
    runs: c.runs,
    breakLock,
    onProgress,
    onLog: (l) => c.log(`[${id}] ${l}`),
  });
  c.running.set(id, proc);
  c.lockHeld.set(id, Date.now());
  const onAbort = () => proc.stop();
  signal?.addEventListener('abort', onAbort);
  c.log(`${id}: started on ${slot.label} (pid ${proc.pid})`);
  try {
    const out = await proc.outcome;
    return await settle(job, token, out, c, signal?.aborted ?? false);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    c.running.delete(id);
    c.lockHeld.delete(id);
    c.lost.delete(id);
    c.free.push(slot);
  }
}

/**
 * A report job runs once every seed job of its experiment has completed; until then it waits as a
 * delayed job. A failed or missing seed fails it with that seed's message.
 */
async function checkSeedsDone(job: Job, token: string | undefined, data: ReportJobData, c: Context): Promise<void> {
  const states = await Promise.all(data.seedJobs.map((id) => c.queue.getJobState(id)));
  for (const [i, state] of states.entries()) {
    const id = data.seedJobs[i]!;
    if (state === 'failed') {
      const seedJob = await c.queue.getJob(id);
      throw new UnrecoverableError(`seed ${data.seeds[i]} failed: ${seedJob?.failedReason ?? '?'}`);
    }
    if (state === 'unknown')
      throw new UnrecoverableError(
        `seed ${data.seeds[i]}: its job ${id} is not in the queue (cancelled?); enqueue the experiment again`,
      );
  }
  if (states.every((s) => s === 'completed')) return;
  await job.moveToDelayed(Date.now() + (c.o.reportPollSeconds ?? 60) * 1000, token);
  throw new DelayedError();
}

function processorOf(c: Context) {
  return async (job: Job, token?: string, signal?: AbortSignal): Promise<unknown> => {
    const parsed = JobData.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(
        `not an lbt job: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
      );
    if (c.stopping) return backToQueue(job, token);
    if (parsed.data.kind === 'report') {
      await checkSeedsDone(job, token, parsed.data, c);
      if (c.stopping) return backToQueue(job, token);
    }
    return runJob(job, token, signal, parsed.data, c);
  };
}

/** Wakes the experiment's report jobs that wait for their seeds (a seed of it has just completed). */
async function wakeReports(c: Context, experiment: string): Promise<void> {
  for (const j of await c.queue.getJobs(['delayed'])) {
    if (j.name === 'report' && (j.data as { experiment?: string }).experiment === experiment) await j.promote().catch(() => {});
  }
}

/** Ends a running job's process: its lock is lost or about to be, another worker may take the job over. */
function loseLock(c: Context, id: string, why: string): void {
  if (!c.running.has(id) || c.lost.has(id)) return;
  c.lost.set(id, why);
  c.log(`${id}: ${why}; its process is ended, another worker takes the job over`);
  c.running.get(id)?.kill();
}

/**
 * Nothing runs twice at once: a job whose lock was not renewed for 0.85 of its duration (Redis
 * unreachable or stuck, this machine cut off) has its process ended before the lock expires and
 * another worker's stalled-job check may take the job over.
 */
function watchLocks(c: Context, lockMs: number): NodeJS.Timeout {
  return setInterval(() => {
    const now = Date.now();
    for (const [id, at] of c.lockHeld)
      if (now - at > 0.85 * lockMs)
        loseLock(c, id, `its lock was not renewed for ${((now - at) / 1000).toFixed(1)} s (Redis unreachable?)`);
  }, lockMs / 20);
}

function checkRuns(runs: string): string {
  const dir = resolve(runs);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new QueueError(`--runs ${dir}: no such directory (the run directory every worker shares)`);
  return dir;
}

/** Connects and starts taking jobs; QueueError when Redis cannot be reached or --runs is missing. */
export async function startWorker(o: WorkerOptions): Promise<LbtWorker> {
  if (o.slots.length === 0) throw new QueueError('a worker needs at least one slot');
  const runs = checkRuns(o.runs);
  await probeRedis(o.url);
  const name = o.name ?? `${hostname()}:${process.pid}`;
  const log = o.log ?? (() => {});
  const stallMs = (o.stallSeconds ?? 30) * 1000;
  const queue = new Queue(QUEUE_NAME, { connection: connectionOf(o.url) });
  const events = new QueueEvents(QUEUE_NAME, { connection: connectionOf(o.url, { worker: true }) });
  const c: Context = {
    o,
    runs,
    queue,
    free: [...o.slots],
    running: new Map(),
    lockHeld: new Map(),
    lost: new Map(),
    stopping: false,
    log,
  };
  log(`worker ${name}: ${o.slots.map((s) => s.label).join(', ')}; queue ${redactUrl(o.url)}; runs ${runs}`);
  const worker = new Worker(QUEUE_NAME, processorOf(c), {
    connection: connectionOf(o.url, { worker: true }),
    name,
    concurrency: o.slots.length,
    lockDuration: stallMs,
    stalledInterval: stallMs,
    maxStalledCount: o.maxStalls ?? 5,
  });
  const onError = (err: Error) => log(`queue: ${err.message}`);
  queue.on('error', onError);
  events.on('error', onError);
  worker.on('error', onError);
  worker.on('lockRenewalFailed', (ids: string[]) => {
    for (const id of ids) loseLock(c, id, 'its lock could not be renewed (taken over after Redis was unreachable?)');
  });
  worker.on('locksRenewed', ({ jobIds }) => {
    const now = Date.now();
    for (const id of jobIds) if (c.lockHeld.has(id)) c.lockHeld.set(id, now);
  });
  worker.on('completed', (job) => {
    log(`${job.id}: done`);
    if (job.name === 'seed') wakeReports(c, (job.data as { experiment: string }).experiment).catch(() => {});
  });
  worker.on('failed', (job, err) => log(`${job?.id}: failed: ${err.message}`));
  events.on(CANCEL_EVENT as 'error', (args: unknown) => {
    const ids = JSON.parse((args as { jobIds?: string }).jobIds ?? '[]') as string[];
    for (const id of ids) if (worker.cancelJob(id, CANCELLED)) log(`${id}: cancelled`);
  });
  await Promise.all([worker.waitUntilReady(), events.waitUntilReady()]);
  const watchdog = watchLocks(c, stallMs);
  let closing: Promise<void> | null = null;
  return {
    name,
    stop() {
      if (!c.stopping) {
        c.stopping = true;
        for (const p of c.running.values()) p.stop();
      }
      closing ??= (async () => {
        await worker.close();
        clearInterval(watchdog);
        await Promise.all([events.close(), queue.close()]);
      })();
      return closing;
    },
  };
}
