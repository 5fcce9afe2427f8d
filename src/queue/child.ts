// The process a worker forks for one job: the libtorch work happens here, never in the process that
// holds the job's lock in Redis (its event loop stays free to renew the lock). It runs one job and
// exits: a seed through the experiment's own runSeed (search, then retrain; resumed from the run's
// checkpoints), or the experiment's report through the local experiment's report writer.
// Stopping: a 'stop' message, SIGTERM or SIGINT stop the run at its next step with a checkpoint;
// losing the worker (the IPC channel closes: it was killed) exits at once, so that the job, taken
// over by another worker, never has two writers.
import { join } from 'node:path';
import { SearchConfig } from '../config/schema.js';
import {
  checkExperiment,
  ExperimentError,
  type ProgressPlan,
  runSeed,
  seedDir,
  writeExperimentReport,
} from '../experiment/experiment.js';
import { drawGenotype } from '../report/draw.js';
import type { Progress } from '../runs/progress.js';
import { JobData, type ReportJobData, type ReportJobResult, type SeedJobData, type SeedJobResult } from './jobs.js';
import type { Classify, FromChild, ToChild } from './protocol.js';

/** Exit status of a job process whose worker went away. */
export const EXIT_ORPHANED = 75;

const send = (m: FromChild): Promise<void> =>
  new Promise((done) => {
    if (!process.send || !process.connected) return done();
    process.send(m, undefined, {}, () => done());
  });

/** Progress of one phase as messages to the worker (at most one a second, and the last step). */
function progressSender(plan: ProgressPlan): Progress {
  let last = 0;
  const post = (step: number, epoch: number) => {
    const now = Date.now();
    if (now - last < 1000 && step < plan.totalSteps) return;
    last = now;
    void send({
      type: 'progress',
      progress: { phase: plan.phase, step, totalSteps: plan.totalSteps, epoch, totalEpochs: plan.totalEpochs },
    });
  };
  post(plan.startStep, 0);
  return { step: (done, info) => post(done, info.epoch), epoch() {}, message() {}, stop() {} };
}

async function runSeedJob(job: SeedJobData, runs: string, breakLock: boolean, signal: AbortSignal): Promise<SeedJobResult> {
  const dir = join(runs, job.experiment);
  checkExperiment(dir, job.spec);
  const parsed = SearchConfig.safeParse(job.config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ExperimentError(
      `${job.experiment} seed ${job.seed}`,
      `the queued config does not fit this lbt's schema at ${issue?.path.join('.') || '(root)'}: ${issue?.message} (another lbt version enqueued it?)`,
    );
  }
  const out = await runSeed(
    { ...(job.spec.preset && { preset: job.spec.preset }), signal, progress: progressSender, breakLock },
    job.seed,
    parsed.data,
    seedDir(dir, job.seed),
  );
  return { seed: job.seed, dir: join(job.experiment, `seed-${job.seed}`), testError: out.result?.testError ?? null };
}

async function runReportJob(job: ReportJobData, runs: string): Promise<ReportJobResult> {
  const dir = join(runs, job.experiment);
  checkExperiment(dir, job.spec);
  void send({ type: 'progress', progress: { phase: 'report', step: 0, totalSteps: 1, epoch: 0, totalEpochs: 1 } });
  await writeExperimentReport(dir, job.seeds, {
    title: job.title,
    charts: job.charts,
    ...(job.cells && { drawGenotype }),
  });
  return { report: join(job.experiment, 'report.md') };
}

async function run(m: Extract<ToChild, { type: 'run' }>, signal: AbortSignal): Promise<FromChild & { type: 'done' }> {
  const job = JobData.parse(m.job);
  const value = job.kind === 'seed' ? await runSeedJob(job, m.runs, m.breakLock, signal) : await runReportJob(job, m.runs);
  return { type: 'done', value };
}

/**
 * Serves one job in this process (a worker's fork): waits for its 'run' message, runs it, answers
 * 'done' or 'failed' (sorted by `classify`) and exits (0 done, 1 failed).
 */
export function serveJob(classify: Classify): void {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', () => process.exit(EXIT_ORPHANED));
  process.on('message', (m: ToChild) => {
    if (m.type === 'stop') return stop();
    run(m, ac.signal)
      .then(
        (done) => send(done).then(() => 0),
        (err: unknown) => {
          const c = classify(err);
          if (c.kind === 'error') process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
          return send({ type: 'failed', ...c }).then(() => 1);
        },
      )
      .then((code) => process.exit(code));
  });
  void send({ type: 'ready' });
}
