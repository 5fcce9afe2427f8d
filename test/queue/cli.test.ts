// `lbt worker`, `lbt queue` and `lbt experiment --queue` through the real command line: every
// mistake in their flags, a missing URL and a Redis that cannot be reached
// is one line (`lbt: ...`) and exit status 2, before anything is queued or started.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const { LBT_QUEUE: _, ...ENV } = process.env;
const lbt = (...args: string[]) => {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: ENV });
  return { code: r.status, err: r.stderr, out: r.stdout };
};

/** A loopback port nothing listens on (taken, then freed). */
const closedPort = (): Promise<number> =>
  new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });

const oneLine = (r: { code: number | null; err: string; out: string }, code: number, line: RegExp) => {
  assert.equal(r.code, code, r.err);
  assert.equal(r.err.split('\n').length, 2, `one line: ${r.err}`);
  assert.match(r.err, line);
  assert.equal(r.out, '');
};

test('lbt queue: no URL, a Redis that is not there: one line each', async () => {
  oneLine(lbt('queue', 'status'), 2, /^lbt: give --queue redis:\/\/HOST:PORT \(or set LBT_QUEUE\)$/m);
  const port = await closedPort();
  oneLine(
    lbt('queue', 'cancel', 'exp', '--queue', `redis://:secret@127.0.0.1:${port}`),
    2,
    new RegExp(`^lbt: Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/?: .*ECONNREFUSED`, 'm'),
  );
});

test('lbt worker: bad --gpus, --stall-seconds, --runs: one line each, nothing started', () => {
  const q = ['--queue', 'redis://127.0.0.1:1'];
  oneLine(lbt('worker', ...q, '--gpus', '0,0'), 2, /^lbt: --gpus: expected distinct GPU indices like 0,1, got "0,0"$/m);
  oneLine(lbt('worker', ...q, '--stall-seconds', 'x'), 2, /^lbt: --stall-seconds: expected a positive number, got "x"$/m);
  oneLine(
    lbt('worker', ...q, '--runs', '/nonexistent-lbt-runs'),
    2,
    /^lbt: --runs \/nonexistent-lbt-runs: no such directory \(the run directory every worker shares\)$/m,
  );
});

test('lbt experiment --queue: --force is refused; a config error is one line before Redis is asked', () => {
  const q = ['--queue', 'redis://127.0.0.1:1', '--seeds', '2'];
  oneLine(lbt('experiment', '--preset', 'default', ...q, '--force'), 2, /^lbt: --force with --queue: remove the queued/m);
  oneLine(lbt('experiment', '--preset', 'default', ...q, '--set', 'nosuchkey=1'), 2, /^lbt: .*nosuchkey/m);
});
