// kill -9 at moments chosen to hurt (before the first checkpoint, while a checkpoint is being
// written) and at random moments, each followed by `lbt search --resume`: in the end every file of
// the run (config, splits, metrics, snapshots, genotype, checkpoints, run.json) equals that of an
// uninterrupted run, apart from wall-clock fields, the session count and the `resume` events.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertSameRun } from '../runs/run-files.js';

const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
const env = { ...process.env, LBT_NUM_THREADS: '1' };
/** Two epochs of two steps, a checkpoint after every step (mid-epoch ones carry the epoch's running sums). */
const tiny = [
  ...['--scale', 'smoke', '--set', 'epochs=2', '--set', 'stepsPerEpoch=null', '--set', 'batchSize=4'],
  ...['--set', 'dataset.trainSize=8', '--set', 'dataset.valSize=8', '--set', 'dataset.unlabeledSize=8'],
  ...['--set', 'checkpointEvery=1', '--set', 'deterministic=true', '--set', 'retrain=null', '--quiet', '--no-report'],
];
const base = mkdtempSync(join(tmpdir(), 'lbt-kill-'));

const exited = (c: ChildProcess) =>
  new Promise<number | null>((resolve) => (c.exitCode !== null ? resolve(c.exitCode) : c.on('exit', (code) => resolve(code))));

/** Runs `lbt search ARGS` and SIGKILLs it when `when()` first holds (polled every 2 ms), or lets it finish. */
async function runUntil(args: string[], when: () => boolean): Promise<'killed' | number | null> {
  const child = spawn(process.execPath, [CLI, 'search', ...args], { env, stdio: 'ignore' });
  const end = exited(child);
  let killed = false;
  const poll = setInterval(() => {
    if (!killed && when()) {
      killed = true;
      child.kill('SIGKILL');
    }
  }, 2);
  const code = await end;
  clearInterval(poll);
  return killed ? 'killed' : code;
}

/** Resumes with SIGKILL as soon as a checkpoint's temporary file appears (fs.watch reacts within the write). */
async function killDuringCheckpointWrite(dir: string): Promise<'killed' | number | null> {
  const child = spawn(process.execPath, [CLI, 'search', '--resume', dir, '--quiet', '--no-report'], { env, stdio: 'ignore' });
  const end = exited(child);
  const w = watch(dir, (_e, f) => {
    if (f && /^\.checkpoint\.safetensors\.tmp-/.test(f)) child.kill('SIGKILL');
  });
  const code = await end;
  w.close();
  return child.signalCode === 'SIGKILL' ? 'killed' : code;
}

const resume = (dir: string) =>
  spawnSync(process.execPath, [CLI, 'search', '--resume', dir, '--quiet', '--no-report'], { env, encoding: 'utf8' });

test('kill -9 before the first checkpoint, during a checkpoint write and at random moments, then --resume: the run equals an uninterrupted one', async () => {
  const a = join(base, 'a');
  const ref = spawnSync(process.execPath, [CLI, 'search', ...tiny, '--out', a], { env, encoding: 'utf8' });
  assert.equal(ref.status, 0, ref.stderr);

  const b = join(base, 'b');
  // 1. killed after the run directory exists and before its first checkpoint
  const ck = join(b, 'checkpoint.safetensors');
  const first = await runUntil([...tiny, '--out', b], () => existsSync(join(b, 'run.json')) && !existsSync(ck));
  assert.equal(first, 'killed');
  assert.equal(existsSync(ck), false, 'killed before the first checkpoint');
  assert.ok(existsSync(join(b, 'run.lock')), 'the killed writer left its lock');

  // 2. killed while a checkpoint is being written (the temporary file is left behind)
  let leftTemp = false;
  for (let i = 0; i < 4 && !leftTemp; i++) {
    const r = await killDuringCheckpointWrite(b);
    assert.equal(r, 'killed', 'the run was killed before it finished');
    leftTemp = readdirSync(b).some((f) => f.startsWith('.checkpoint.safetensors.tmp-'));
  }
  assert.ok(leftTemp, 'one kill landed while a checkpoint was being written');

  // 3. random moments (wall-clock: anywhere from start-up to the middle of a step)
  for (const ms of [300 + Math.random() * 2500, 300 + Math.random() * 2500]) {
    const t0 = Date.now();
    await runUntil(['--resume', b, '--quiet', '--no-report'], () => Date.now() - t0 > ms);
  }

  const last = resume(b);
  assert.equal(last.status, 0, last.stderr);
  assert.ok(!readdirSync(b).some((f) => f.includes('.tmp-')), 'the temporary files of killed writers are gone');
  assertSameRun(b, a);
  const summary = JSON.parse(readFileSync(join(b, 'run.json'), 'utf8'));
  assert.equal(summary.status, 'completed');
  assert.ok(summary.sessions >= 3, `${summary.sessions} sessions`);
});
