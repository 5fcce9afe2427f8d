// The overhead the queue adds per job, next to a search step's time.
//   node dist/bench/queue.js [--jobs 5] [--steps 3]
// A Redis on a free loopback port; one seed of the default preset searched here (its step time);
// then a worker with one CPU slot and the real job process takes `--jobs` jobs of that finished
// seed, each of which does everything a job does but the computation (fork, imports and libtorch,
// the experiment and config checks, the finished search and retrain found and skipped, result.json
// written, the result back in Redis). Then a report job that waits for a seed: how long after the
// seed is done the report starts. Each number: median over the jobs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { experimentSpec, openExperiment, runSeed, seedConfig, seedDir } from '../src/experiment/experiment.js';
import { QUEUE_NAME } from '../src/queue/connection.js';
import { seedJob } from '../src/queue/jobs.js';
import { cpuSlots, startWorker } from '../src/queue/worker.js';
import { startRedis } from '../test/queue/redis.js';
import { median } from './median.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const nJobs = arg('jobs', 5);
const steps = arg('steps', 3);
const line = (label: string, ms: number, step: number) =>
  process.stdout.write(
    `${label.padEnd(58)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${(ms / step).toFixed(3).padStart(6)} steps\n`,
  );

const redis = await startRedis();
const tmp = mkdtempSync(join(tmpdir(), 'lbt-bench-queue-'));
const queue = new Queue(QUEUE_NAME, { connection: { url: redis.url } });
const events = new QueueEvents(QUEUE_NAME, { connection: { url: redis.url } });
await events.waitUntilReady();
try {
  const runs = join(tmp, 'runs');
  const spec = experimentSpec({
    preset: 'default',
    sets: [`stepsPerEpoch=${steps}`, 'epochs=1', 'logEvery=1', 'checkpointEvery=0'],
    retrain: false,
  });
  const exp = join(runs, 'exp');
  openExperiment(exp, spec, false);
  const cfg = seedConfig(spec, 0);
  await runSeed({}, 0, cfg, seedDir(exp, 0));
  const times = readFileSync(join(seedDir(exp, 0), 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; time: number })
    .filter((r) => r.kind === 'step')
    .map((r) => r.time);
  const stepMs = ((times.at(-1)! - times[0]!) / (times.length - 1)) * 1000;
  process.stdout.write(`default preset (LBT, DARTS-2nd, Fashion-MNIST), ${steps} steps here; per job, median of ${nJobs}:\n`);
  line('search step (the unit of the right column)', stepMs, stepMs);

  const entry = fileURLToPath(new URL('../src/cli/queue-child.js', import.meta.url));
  const worker = await startWorker({ url: redis.url, runs, slots: cpuSlots(1), entry, stallSeconds: 30, reportPollSeconds: 60 });
  const data = seedJob('exp', spec, cfg);
  const pickUp: number[] = [];
  const run: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < nJobs; i++) {
    const job = await queue.add('seed', data, { jobId: `bench-${i}` });
    await job.waitUntilFinished(events);
    const done = (await queue.getJob(`bench-${i}`))!;
    pickUp.push(done.processedOn! - done.timestamp);
    run.push(done.finishedOn! - done.processedOn!);
    total.push(done.finishedOn! - done.timestamp);
  }
  line('enqueue → a worker takes the job', median(pickUp), stepMs);
  line('job process: fork, imports, checks, skip, result (no search)', median(run), stepMs);
  line('enqueue → done, in all', median(total), stepMs);

  const report = { experiment: 'exp', spec, seeds: [0], title: 'bench', charts: false, cells: false };
  await queue.add('seed', data, { jobId: 'bench-late', delay: 3000 }); // not done when the report first looks
  const waiting = await queue.add('report', { kind: 'report', ...report, seedJobs: ['bench-late'] }, { jobId: 'bench-report' });
  await waiting.waitUntilFinished(events);
  const [seed, rep] = [(await queue.getJob('bench-late'))!, (await queue.getJob('bench-report'))!];
  line('seed done → its report job starts (woken, not polled)', rep.processedOn! - seed.finishedOn!, stepMs);
  line('report job: fork, imports, report.md/html (no charts)', rep.finishedOn! - rep.processedOn!, stepMs);
  await worker.stop();
} finally {
  await Promise.all([queue.close(), events.close()]);
  await redis.stop();
  rmSync(tmp, { recursive: true, force: true });
}
