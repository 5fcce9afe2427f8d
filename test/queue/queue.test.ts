// The queue's parts in seconds: job ids, paths, URLs, slots and the status lines as pure functions;
// then, on a Redis of the test's own (with a password), enqueueing (idempotent, config errors before
// anything is queued), and a worker whose job processes are stand-ins (fake-child.ts): bad input fails
// once, a crash and a killed process are retried, a stop puts the job back, cancel removes it, a
// report waits for its seeds and fails with a failed seed's message.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { jobFailure } from '../../src/cli/job-failure.js';
import { ConfigError } from '../../src/config/errors.js';
import { DatasetNotFoundError } from '../../src/data/errors.js';
import { loadSearchConfig } from '../../src/config/load.js';
import { ExperimentError } from '../../src/experiment/experiment.js';
import { checkRedisUrl, probeRedis, QUEUE_NAME, QueueError, redactUrl } from '../../src/queue/connection.js';
import { enqueueExperiment, QueuedJobFailed, waitForReport } from '../../src/queue/enqueue.js';
import { canonicalJson, experimentUnder, type JobData, reportJobId, SeedJobData, seedJobId } from '../../src/queue/jobs.js';
import { cancelJobs, formatJob, type JobRow, queueStatus, retryJobs } from '../../src/queue/status.js';
import { cpuSlots, gpuSlots, type LbtWorker, startWorker } from '../../src/queue/worker.js';
import { RunInterrupted, RunLockedError } from '../../src/runs/errors.js';
import { NonFiniteError } from '../../src/torch/index.js';
import { alive, startRedis, type TestRedis } from './redis.js';

async function until(what: string, ok: () => Promise<boolean>, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !(await ok()); await new Promise((r) => setTimeout(r, 50)))
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

describe('job ids, paths, URLs, slots', () => {
  test('a seed job id is its seed and a hash of (experiment, resolved config): key order does not matter', () => {
    const cfg = loadSearchConfig({ preset: 'default', scale: 'smoke', sets: ['seed=4'] });
    const id = seedJobId('exp/a', cfg);
    assert.match(id, /^seed-4-[0-9a-f]{16}$/);
    const reordered = Object.fromEntries(Object.entries(cfg).reverse()) as typeof cfg;
    assert.equal(seedJobId('exp/a', reordered), id);
    assert.notEqual(seedJobId('exp/b', cfg), id, 'another experiment directory');
    assert.notEqual(seedJobId('exp/a', { ...cfg, lambda: cfg.lambda + 1 }), id, 'another config');
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }], u: undefined }), '{"a":[{"c":3,"d":2}],"b":1}');
    const r = { experiment: 'e', spec: { sets: [], retrain: true }, seeds: [0, 1], title: 't', charts: true, cells: true };
    assert.match(reportJobId(r), /^report-[0-9a-f]{16}$/);
    assert.notEqual(reportJobId({ ...r, seeds: [0, 1, 2] }), reportJobId(r));
  });

  test('an experiment lies inside the runs root; job data never points outside it', () => {
    assert.equal(experimentUnder('/r', '/r/a/b'), join('a', 'b'));
    assert.throws(() => experimentUnder('/r', '/r'), ExperimentError);
    assert.throws(() => experimentUnder('/r', '/s/a'), /must lie inside --runs \/r/);
    const data = { kind: 'seed', seed: 0, spec: { sets: [], retrain: false }, config: {} };
    assert.ok(SeedJobData.safeParse({ ...data, experiment: 'a/b' }).success);
    for (const bad of ['../x', '/abs', 'a/../b', '.', ''])
      assert.equal(SeedJobData.safeParse({ ...data, experiment: bad }).success, false, bad);
  });

  test('Redis URLs: redis:// or rediss://, a database number; the password never shown', () => {
    assert.equal(redactUrl('redis://:s3cret@h:6379/2'), 'redis://:***@h:6379/2');
    assert.equal(redactUrl('redis://user:s3cret@h:6379'), 'redis://user:***@h:6379');
    checkRedisUrl('rediss://:p@h:6380/0');
    assert.throws(() => checkRedisUrl('http://h:6379'), /expected a redis:\/\/ or rediss:\/\/ URL, got http:/);
    assert.throws(
      () => checkRedisUrl('redis://:s3cret@h:6379/x'),
      /redis:\/\/:\*\*\*@h:6379\/x: the path must be a database number/,
    );
    assert.throws(() => checkRedisUrl('h:6379'), QueueError);
  });

  test('slots: one GPU each with the cores shared out; CPU slots split the cores; LBT_NUM_THREADS wins', () => {
    assert.deepEqual(gpuSlots(['0', '3'], 16, {}), [
      { label: 'gpu 0', env: { CUDA_VISIBLE_DEVICES: '0', LBT_NUM_THREADS: '8' } },
      { label: 'gpu 3', env: { CUDA_VISIBLE_DEVICES: '3', LBT_NUM_THREADS: '8' } },
    ]);
    assert.deepEqual(
      cpuSlots(3, 2, {}).map((s) => s.env.LBT_NUM_THREADS),
      ['1', '1', '1'],
    );
    assert.deepEqual(
      cpuSlots(2, 16, {}).map((s) => [s.label, s.env.LBT_NUM_THREADS]),
      [
        ['cpu 0', '8'],
        ['cpu 1', '8'],
      ],
    );
    assert.equal(cpuSlots(2, 16, { LBT_NUM_THREADS: '3' })[1]!.env.LBT_NUM_THREADS, '3');
  });

  test("a job's failure, sorted by the CLI's error map: bad input and a diverged run fail once, a stop goes back, a crash is retried", () => {
    assert.deepEqual(jobFailure(new ConfigError('c.yaml', 'lambda', 'expected a number')), {
      kind: 'input',
      message: 'c.yaml: lambda: expected a number',
    });
    assert.equal(jobFailure(new ExperimentError('/r/e', 'no experiment.json')).kind, 'input');
    assert.equal(jobFailure(new DatasetNotFoundError('fashion-mnist directory /d', [], 'see lbt data check')).kind, 'input');
    assert.deepEqual(jobFailure(new NonFiniteError('architect loss')), {
      kind: 'diverged',
      message: 'non-finite value: architect loss',
    });
    assert.deepEqual(jobFailure(new RunInterrupted('/r/e/seed-0', 3, 'search')), {
      kind: 'interrupted',
      message: 'interrupted search; checkpoint saved in /r/e/seed-0',
    });
    assert.equal(
      jobFailure(new RunLockedError('/r/e/seed-0', 'is in use by pid 7 on host h')).kind,
      'error',
      'a busy run is retried',
    );
    assert.deepEqual(jobFailure(new TypeError('x is undefined')), { kind: 'error', message: 'x is undefined' });
    assert.deepEqual(jobFailure('a string'), { kind: 'error', message: 'a string' });
  });

  test('status lines: waiting, active with worker and progress, delayed, done, failed with its message', () => {
    const row = (r: Partial<JobRow>): JobRow => ({
      id: 'seed-1-abc',
      kind: 'seed',
      seed: 1,
      state: 'waiting',
      worker: null,
      progress: null,
      message: null,
      attempts: 0,
      testError: null,
      ...r,
    });
    const progress = { phase: 'search' as const, step: 3, totalSteps: 8, epoch: 1, totalEpochs: 2, slot: 'gpu 1' };
    assert.equal(formatJob(row({})), '  seed 1   waiting  [seed-1-abc]');
    assert.equal(
      formatJob(row({ state: 'active', worker: 'h:12', progress })),
      '  seed 1   active   h:12 gpu 1, search step 3/8  [seed-1-abc]',
    );
    assert.equal(
      formatJob(row({ progress })),
      '  seed 1   waiting  stopped at search step 3/8; resumes from its checkpoint  [seed-1-abc]',
    );
    assert.equal(formatJob(row({ state: 'completed', testError: 5.125 })), '  seed 1   done     test error 5.13%  [seed-1-abc]');
    assert.equal(
      formatJob(row({ state: 'failed', message: 'x: not found', attempts: 1 })),
      '  seed 1   failed   x: not found (attempts 1)  [seed-1-abc]',
    );
    assert.equal(
      formatJob(row({ kind: 'report', seed: null, state: 'delayed', id: 'report-x' })),
      '  report   delayed  waits for its seeds  [report-x]',
    );
  });
});

describe('on a Redis of our own, with a password', () => {
  let redis: TestRedis;
  let tmp: string;
  let runs: string;
  before(async () => {
    redis = await startRedis({ password: 'pa ss/word' });
    tmp = mkdtempSync(join(tmpdir(), 'lbt-queue-'));
    runs = join(tmp, 'runs');
    mkdirSync(runs);
  });
  after(async () => {
    await redis?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('the URL with its password connects; a wrong, missing password or a closed port is one line', async () => {
    assert.match(redis.url, /^redis:\/\/:pa%20ss%2Fword@127\.0\.0\.1:\d+$/);
    await probeRedis(redis.url);
    const at = `127.0.0.1:${redis.port}`;
    await assert.rejects(probeRedis(`redis://:wrong@${at}`), /^QueueError: Redis at redis:\/\/:\*\*\*@127.*: WRONGPASS/);
    await assert.rejects(probeRedis(`redis://${at}`), /NOAUTH/);
    const closed = redis.port === 1 ? 2 : 1;
    await assert.rejects(probeRedis(`redis://127.0.0.1:${closed}`, 2000), /ECONNREFUSED/);
  });

  const spec = { preset: 'default', scale: 'smoke', sets: [], retrain: false };
  const report = { charts: false, cells: false };

  test('enqueueing: a job per seed and a report; again: nothing added; a config error queues nothing', async () => {
    const dir = join(runs, 'e1');
    const first = await enqueueExperiment({ url: redis.url, runs, dir, seeds: [0, 1], ...spec, report });
    assert.equal(first.experiment, 'e1');
    assert.deepEqual(
      first.jobs.map((j) => [j.kind, j.seed, j.added]),
      [
        ['seed', 0, true],
        ['seed', 1, true],
        ['report', null, true],
      ],
    );
    const again = await enqueueExperiment({ url: redis.url, runs, dir, seeds: [0, 1], ...spec, report });
    assert.deepEqual(
      again.jobs.map((j) => [j.id, j.added, j.state]),
      first.jobs.map((j) => [j.id, false, 'waiting']),
    );
    const more = await enqueueExperiment({ url: redis.url, runs, dir, seeds: [0, 1, 2], ...spec, report });
    assert.deepEqual(
      more.jobs.map((j) => j.added),
      [false, false, true, true],
      'seed 2 and a report over three seeds',
    );
    await assert.rejects(
      enqueueExperiment({ url: redis.url, runs, dir: join(runs, 'e2'), seeds: [0], ...spec, sets: ['nosuchkey=1'], report }),
      ConfigError,
    );
    await assert.rejects(
      enqueueExperiment({ url: redis.url, runs, dir: join(tmp, 'elsewhere'), seeds: [0], ...spec, report }),
      /must lie inside --runs/,
    );
    const status = await queueStatus(redis.url);
    assert.deepEqual(
      status.map((g) => [g.experiment, g.jobs.map((j) => `${j.kind}${j.seed ?? ''}:${j.state}`)]),
      [['e1', ['seed0:waiting', 'seed1:waiting', 'seed2:waiting', 'report:waiting', 'report:waiting']]],
    );
    assert.deepEqual(await retryJobs(redis.url, 'e1'), [], 'nothing failed');
    const c = await cancelJobs(redis.url, 'e1');
    assert.equal(c.removed.length, 5);
    await assert.rejects(queueStatus(redis.url, 'e1'), /no jobs of experiment e1 in the queue/);
    const back = await enqueueExperiment({ url: redis.url, runs, dir, seeds: [0, 1], ...spec, report });
    assert.deepEqual(
      back.jobs.map((j) => j.added),
      [true, true, true],
      'cancelled jobs can be enqueued again',
    );
    await cancelJobs(redis.url, 'e1');
  });

  describe('a worker (stand-in job processes)', () => {
    const entry = fileURLToPath(new URL('./fake-child.js', import.meta.url));
    let queue: Queue;
    let worker: LbtWorker | null = null;
    const start = (log?: (line: string) => void) =>
      startWorker({
        url: redis.url,
        runs,
        slots: cpuSlots(2, 2, {}),
        entry,
        stallSeconds: 2,
        reportPollSeconds: 1,
        name: 'w1',
        ...(log && { log }),
      });
    const seedData = (seed: number): JobData => ({
      kind: 'seed',
      experiment: 'fake',
      seed,
      spec: { sets: [], retrain: false },
      config: {},
    });
    const settled = async (id: string, states = ['completed', 'failed']) => {
      for (let i = 0; i < 600; i++) {
        const s = await queue.getJobState(id);
        if (states.includes(s)) return (await queue.getJob(id))!;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`job ${id} did not reach ${states.join('/')}`);
    };
    before(async () => {
      queue = new Queue(QUEUE_NAME, { connection: { url: redis.url } });
    });
    after(async () => {
      await worker?.stop();
      await queue.close();
    });

    test('bad input fails once; a crash and a killed process are retried; a finished job returns its result', async () => {
      worker = await start();
      const opts = { attempts: 2, backoff: 0 };
      for (const s of [0, 1, 2, 4]) await queue.add('seed', seedData(s), { ...opts, jobId: `f-${s}` });
      const [input, crash, killed, done] = await Promise.all([0, 1, 2, 4].map((s) => settled(`f-${s}`)));
      assert.deepEqual([input!.failedReason, input!.attemptsMade], ['/nowhere: no such dataset', 1]);
      assert.deepEqual([crash!.failedReason, crash!.attemptsMade], ['flaky', 2]);
      assert.deepEqual([killed!.failedReason, killed!.attemptsMade], ["the job's process was killed (SIGKILL): about to die", 2]);
      assert.deepEqual(done!.returnvalue, { seed: 4, dir: 'fake/seed-4', testError: 12.5 });
      assert.equal(done!.processedBy, 'w1');
    });

    test('a report waits for its seeds, then runs; a failed seed fails it with that seed`s message', async () => {
      const r = { experiment: 'fake', spec: { sets: [], retrain: false }, title: 't', charts: false, cells: false };
      await queue.add('report', { kind: 'report', ...r, seeds: [4], seedJobs: ['f-4'] }, { jobId: 'r-ok' });
      await queue.add('report', { kind: 'report', ...r, seeds: [4, 0], seedJobs: ['f-4', 'f-0'] }, { jobId: 'r-bad' });
      await queue.add('seed', seedData(5), { jobId: 'f-5', delay: 1500 });
      await queue.add('report', { kind: 'report', ...r, seeds: [5], seedJobs: ['f-5'] }, { jobId: 'r-wait' });
      assert.deepEqual((await settled('r-ok')).returnvalue, { report: 'fake/report.md' });
      assert.equal((await settled('r-bad')).failedReason, 'seed 0 failed: /nowhere: no such dataset');
      assert.equal(await queue.getJobState('r-wait'), 'delayed', 'its seed is not done yet');
      const waited = await settled('r-wait');
      assert.equal(await waited.getState(), 'completed');
      assert.ok(waited.finishedOn! >= (await queue.getJob('f-5'))!.finishedOn!, 'after its seed');
    });

    test('waiting for a report (--wait): its result, or the failed job with its message', async () => {
      assert.deepEqual(await waitForReport({ url: redis.url, reportJob: 'r-ok', everyMs: 50 }), { report: 'fake/report.md' });
      await assert.rejects(
        waitForReport({ url: redis.url, reportJob: 'r-bad', everyMs: 50 }),
        (e: Error) => e instanceof QueuedJobFailed && e.message === 'job r-bad failed: seed 0 failed: /nowhere: no such dataset',
      );
      await assert.rejects(waitForReport({ url: redis.url, reportJob: 'r-none' }), /job r-none is no longer in the queue/);
    });

    test('retry: the failed jobs run again, their attempts counted afresh', async () => {
      const before = (await queue.getJob('f-0'))!.finishedOn!;
      const ids = await retryJobs(redis.url, 'fake');
      assert.deepEqual(ids.sort(), ['f-0', 'f-1', 'f-2', 'r-bad']);
      const again = await settled('f-0');
      assert.ok(again.finishedOn! > before, 'it ran again');
      assert.deepEqual([again.failedReason, again.attemptsMade], ['/nowhere: no such dataset', 1]);
      assert.equal((await settled('f-1')).attemptsMade, 2);
    });

    test('stop(): a running job goes back to the queue with its progress; cancel removes a running job', async () => {
      await queue.add('seed', seedData(3), { jobId: 'f-3' });
      await settled('f-3', ['active']);
      for (let i = 0; i < 50 && (await queue.getJob('f-3'))!.progress === 0; i++) await new Promise((r) => setTimeout(r, 100));
      await worker!.stop();
      worker = null;
      const j = (await queue.getJob('f-3'))!;
      assert.equal(await j.getState(), 'waiting');
      const { slot, ...progress } = j.progress as { slot: string };
      assert.deepEqual(progress, { phase: 'search', step: 2, totalSteps: 9, epoch: 0, totalEpochs: 3 });
      assert.match(slot, /^cpu [01]$/);
      assert.equal(j.attemptsMade, 0, 'a stop is not a failed attempt');

      worker = await start();
      await settled('f-3', ['active']);
      const c = await cancelJobs(redis.url, 'fake');
      assert.ok(c.removed.includes('f-3'));
      assert.deepEqual(c.stillActive, []);
      assert.equal(await queue.getJobState('f-3'), 'unknown');
    });

    // Redis frozen (SIGSTOP) until the job's process is ended, and then 0 s or 1.5 s more: the lock is
    // still ours (the job goes back to the queue) or has expired (the stalled-job check takes it back).
    for (const [n, holdMs] of [
      [1, 0],
      [2, 1500],
    ] as const)
      test(`Redis stops answering (${holdMs} ms more): the job's process is ended once its lock goes unrenewed for 0.85 of its duration; the job is taken over again`, async () => {
        await worker!.stop();
        const lines: string[] = [];
        worker = await start((l) => lines.push(l));
        const id = `f-lock-${n}`;
        await queue.add('seed', seedData(3), { jobId: id });
        await settled(id, ['active']);
        const pid = Number(new RegExp(`${id}: started on cpu \\d \\(pid (\\d+)\\)`).exec(lines.join('\n'))?.[1]);
        assert.ok(alive(pid), 'its process runs');
        process.kill(redis.pid, 'SIGSTOP');
        try {
          await until('its process to be ended', async () => !alive(pid), 10_000);
          await new Promise((r) => setTimeout(r, holdMs));
        } finally {
          process.kill(redis.pid, 'SIGCONT');
        }
        const why = new RegExp(
          `${id}: its lock was not renewed for ([\\d.]+) s \\(Redis unreachable\\?\\); its process is ended`,
        );
        const unrenewed = Number(why.exec(lines.join('\n'))?.[1]);
        assert.ok(unrenewed >= 1.7, `after 0.85 x 2 s: ${lines.join('\n')}`);
        const starts = () => lines.filter((l) => l.startsWith(`${id}: started`)).length;
        await until('the job taken over again', async () => starts() === 2, 60_000);
        const j = (await queue.getJob(id))!;
        assert.deepEqual([await j.getState(), j.attemptsMade, j.failedReason ?? ''], ['active', 0, ''], 'not a failed attempt');
        // taken back by the stalled-job check, its worker counts as lost: the run lock it left is broken
        await until(
          'the second process to start',
          async () => lines.filter((l) => l.startsWith(`[${id}] run: `)).length === 2,
          10_000,
        );
        assert.deepEqual(
          lines.filter((l) => l.startsWith(`[${id}] run: `)),
          [`[${id}] run: breakLock=false`, `[${id}] run: breakLock=${j.stalledCounter > 0}`],
        );
        assert.equal(
          j.stalledCounter > 0,
          holdMs > 0,
          'the job went back through the stalled-job check only when its lock expired',
        );
        await cancelJobs(redis.url, 'fake');
      });
  });
});
