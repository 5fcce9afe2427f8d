// A queued experiment against the same experiment run locally (issue 13's done-when), through the
// `lbt` command: two workers take a 3-seed smoke experiment from a Redis of the test's own (with a
// password, given as LBT_QUEUE); one is SIGKILLed in the middle of a search (its job's process exits,
// another worker takes the job over from the run's last checkpoint), another gets SIGTERM in the
// middle of a search (its run checkpoints, its job goes back to the queue). Every seed's genotype,
// architecture parameters and retrain result are bit-identical to the local run's (deterministic);
// enqueueing again adds nothing; a seed with bad input fails once with its message; `lbt queue
// status` shows waiting, active (worker, progress), done and failed (message).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { formatStatus, type JobRow, queueStatus } from '../../src/queue/status.js';
import { loadCheckpoint } from '../../src/runs/checkpoint.js';
import type { RunSummary } from '../../src/runs/types.js';
import * as t from '../../src/torch/index.js';
import { alive, startRedis, type TestRedis } from './redis.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const FLAGS = [
  ...['--preset', 'default', '--scale', 'smoke', '--no-charts', '--no-cells', '--quiet'],
  ...['lbt=false', 'order=first', 'supernet.channels=4', 'epochs=2', 'stepsPerEpoch=2', 'deterministic=true'].flatMap((s) => [
    '--set',
    s,
  ]),
];
const SEEDS = [0, 1, 2];

let redis: TestRedis;
let tmp: string;
let runs: string;
const env = () => ({ ...process.env, LBT_NUM_THREADS: '1', LBT_QUEUE: redis.url });
const json = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function lbt(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: env() });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface Proc {
  p: ChildProcess;
  log: string;
  exit: Promise<number | null>;
}

/** `lbt ARGS` in the background, its stdout and stderr to a log file. */
function background(name: string, args: string[]): Proc {
  const log = join(tmp, `${name}.log`);
  const fd = openSync(log, 'w');
  const p = spawn(process.execPath, [MAIN, ...args], { env: env(), stdio: ['ignore', fd, fd] });
  closeSync(fd);
  return { p, log, exit: new Promise((done) => p.on('exit', (code) => done(code))) };
}

const worker = (name: string) =>
  background(`worker-${name}`, [
    'worker',
    '--runs',
    runs,
    '--slots',
    '1',
    '--stall-seconds',
    '2',
    '--poll-seconds',
    '2',
    '--name',
    name,
  ]);

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** An active seed job of experiment `exp` on one of `workers`, in the middle of its search. */
async function midSearch(workers: string[]): Promise<{ job: JobRow; lines: string[] } | null> {
  const groups = await queueStatus(redis.url).catch(() => []);
  const job = groups
    .find((g) => g.experiment === 'exp')
    ?.jobs.find(
      (j) =>
        j.state === 'active' &&
        workers.includes(j.worker ?? '') &&
        j.progress?.phase === 'search' &&
        j.progress.step >= 1 &&
        j.progress.step < j.progress.totalSteps,
    );
  return job ? { job, lines: formatStatus(groups) } : null;
}

/** The architecture parameters in a run's last checkpoint. */
function archOf(dir: string): Map<string, number[]> {
  const c = loadCheckpoint(join(dir, 'checkpoint.safetensors'));
  const out = new Map<string, number[]>();
  for (const [k, v] of c.tensors) if (k.startsWith('arch/')) out.set(k, v.toArray());
  t.disposeAll(c.tensors);
  return out;
}

const lastSnapshot = (dir: string) => {
  const files = readdirSync(join(dir, 'genotypes')).sort();
  const { time: _wallClock, ...snapshot } = json<{ step: number; weights: unknown; time?: number }>(
    join(dir, 'genotypes', files.at(-1)!),
  );
  return snapshot;
};

before(async () => {
  redis = await startRedis({ password: 'queue-test' });
  tmp = mkdtempSync(join(tmpdir(), 'lbt-queue-exp-'));
  runs = join(tmp, 'runs');
  mkdirSync(runs);
});

const procs: Proc[] = [];
after(async () => {
  for (const w of procs) if (w.p.exitCode === null && w.p.signalCode === null) w.p.kill('SIGKILL');
  await Promise.all(procs.map((w) => w.exit));
  await redis?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('lbt experiment --queue with two workers, against the local run', () => {
  test('a worker killed and one stopped in mid-search: every seed bit-identical to the local run', async () => {
    const local = background('local', ['experiment', ...FLAGS, '--seeds', '3', '--out', join(tmp, 'local')]);
    const [a, b] = [worker('A'), worker('B')];
    procs.push(local, a, b);
    const enq = lbt('experiment', ...FLAGS, '--seeds', '3', '--queue', redis.url, '--runs', runs, '--out', join(runs, 'exp'));
    assert.equal(enq.code, 0, enq.err);
    assert.match(enq.out, /^experiment exp: 4 job\(s\) added to redis:\/\/:\*\*\*@127\.0\.0\.1:\d+; runs in /);
    const badArgs = ['--seeds', '1', '--queue', redis.url, '--runs', runs, '--out', join(runs, 'bad')];
    const bad = lbt('experiment', ...FLAGS, ...badArgs, '--set', 'dataset.dir=/nonexistent-lbt');
    assert.equal(bad.code, 0, 'the data are checked where the seed runs');

    // A holds a seed in the middle of its search: the status line shows it; SIGKILL A
    const atKill = await until('a seed in mid-search on worker A', () => midSearch(['A']), 300_000);
    const text = atKill.lines.join('\n');
    assert.match(text, new RegExp(`seed ${atKill.job.seed} +active +A cpu 0, search step [123]/4 `));
    assert.match(text, /seed \d +waiting /, 'three seeds on two workers: one waits');
    const started = new RegExp(`${atKill.job.id}: started on cpu 0 \\(pid (\\d+)\\)`).exec(readFileSync(a.log, 'utf8'));
    assert.ok(started, 'the worker logs its job process');
    a.p.kill('SIGKILL');
    await a.exit;
    await until('the killed worker`s job process to exit', async () => !alive(Number(started[1])), 60_000);
    const c = worker('C');
    procs.push(c);

    // B or C holds a seed in the middle of its search: SIGTERM it; its run checkpoints, the job goes back
    const atTerm = await until('a seed in mid-search on B or C', () => midSearch(['B', 'C']), 300_000);
    const stopped = atTerm.job.worker === 'B' ? b : c;
    stopped.p.kill('SIGTERM');
    assert.equal(await stopped.exit, 0, 'a stopped worker exits 0');
    assert.match(readFileSync(stopped.log, 'utf8'), /stopping: running searches checkpoint and go back to the queue/);
    procs.push(worker('D'));

    const groups = await until(
      'the report of the queued experiment',
      async () => {
        const g = (await queueStatus(redis.url)).find((x) => x.experiment === 'exp');
        // the report job is listed too (between two states, a job is briefly in no list)
        const ended = g?.jobs.every((j) => j.state === 'completed' || j.state === 'failed');
        return ended && g?.jobs.some((j) => j.kind === 'report') ? g : null;
      },
      600_000,
    );
    assert.deepEqual(
      groups.jobs.map((j) => `${j.kind}${j.seed ?? ''} ${j.state} ${j.message ?? ''}`),
      ['seed0 completed ', 'seed1 completed ', 'seed2 completed ', 'report completed '],
    );
    assert.equal(await local.exit, 0, readFileSync(local.log, 'utf8'));

    for (const s of SEEDS) {
      const [L, Q] = [join(tmp, 'local', `seed-${s}`), join(runs, 'exp', `seed-${s}`)];
      assert.deepEqual(json(join(Q, 'genotype.json')), json(join(L, 'genotype.json')), `seed ${s}: genotype`);
      assert.deepEqual(archOf(Q), archOf(L), `seed ${s}: architecture parameters, bit for bit`);
      assert.deepEqual(lastSnapshot(Q), lastSnapshot(L), `seed ${s}: the last architecture snapshot`);
      assert.deepEqual(json(join(Q, 'result.json')), json(join(L, 'result.json')), `seed ${s}: retrain result`);
    }
    const sessions = (s: number | null, phase = '') =>
      json<RunSummary>(join(runs, 'exp', `seed-${s}`, phase, 'run.json')).sessions;
    assert.ok(sessions(atKill.job.seed) >= 2, 'the killed seed resumed from its checkpoint');
    // a stop that lands on the search's last step stops the retrain that follows it: that one resumes
    const resumed = sessions(atTerm.job.seed) >= 2 || sessions(atTerm.job.seed, 'retrain') >= 2;
    assert.ok(resumed, 'the stopped seed resumed from its checkpoint (its search, or its retrain)');
    const row = (md: string) => /\| DARTS-1st \| ([\d.]+±[\d.]+) \| ([\d.]+) \|/.exec(md)?.slice(1);
    const [lmd, qmd] = [join(tmp, 'local', 'report.md'), join(runs, 'exp', 'report.md')].map((p) => readFileSync(p, 'utf8'));
    assert.ok(row(qmd!), 'the report has the row');
    assert.deepEqual(row(qmd!), row(lmd!), 'the same error mean±std and parameters');
  });

  test('enqueueing the finished experiment again adds no job', () => {
    const again = lbt('experiment', ...FLAGS, '--seeds', '3', '--queue', redis.url, '--runs', runs, '--out', join(runs, 'exp'));
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /^experiment exp: 0 job\(s\) added/);
  });

  test('a seed with bad input failed once with its message; lbt queue status shows done and failed', async () => {
    await until(
      'the bad experiment to fail',
      async () => (await queueStatus(redis.url, 'bad')).every((g) => g.jobs.every((j) => j.state === 'failed')),
      300_000,
    );
    const r = lbt('queue', 'status');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^bad: 2 failed$/m);
    assert.match(
      r.out,
      /^ {2}seed 0 +failed +fashion-mnist directory \/nonexistent-lbt not found\..* \(attempts 1\) {2}\[seed-0-/m,
    );
    assert.match(r.out, /^ {2}report +failed +seed 0 failed: fashion-mnist directory \/nonexistent-lbt not found/m);
    assert.match(r.out, /^exp: 4 done$/m);
    assert.match(r.out, /^ {2}seed 2 +done +test error [\d.]+% {2}\[seed-2-/m);
    assert.ok(!existsSync(join(runs, 'bad', 'seed-0', 'run.json')), 'nothing was made for the bad seed');
  });
});
