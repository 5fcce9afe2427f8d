// The run lock: one writer per run directory, taken atomically, released at exit (also on a signal
// nothing else handles), a stale lock of this host taken over, another host's lock only with breakLock.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RunLockedError } from '../../src/runs/errors.js';
import { acquireRunLock, LOCK_FILE, type LockOwner, lockHolder, whyStale } from '../../src/runs/lock.js';

const dir = () => mkdtempSync(join(tmpdir(), 'lbt-lock-'));
const LOCK_JS = join(process.cwd(), 'dist', 'src', 'runs', 'lock.js');
const owner = (o: Partial<LockOwner>): LockOwner => ({
  format: 'lbt-lock/1',
  pid: 1,
  host: hostname(),
  bootId: null,
  procStart: null,
  since: '2030-01-01T00:00:00Z',
  ...o,
});
const deadPid = () => spawnSync('true').pid!;

/** A node process that takes the lock of `d`, prints "got" or the error's name, then runs `then` (JS). */
function child(d: string, then: string) {
  const code = `import(${JSON.stringify(LOCK_JS)}).then((m) => { try { m.acquireRunLock(${JSON.stringify(d)}); console.log('got'); } catch (e) { console.log(e.name); process.exit(0); } ${then} });`;
  return spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
}
const outputOf = (c: ReturnType<typeof child>) =>
  new Promise<{ out: string; code: number | null; signal: string | null }>((resolve) => {
    let out = '';
    c.stdout.on('data', (b) => {
      out += String(b);
    });
    c.on('exit', (code, signal) => resolve({ out: out.trim(), code, signal }));
  });

test('taken once: the owner is recorded, a second taker is refused naming it, release removes it', () => {
  const d = dir();
  const lock = acquireRunLock(d, { command: ['search', '--out', d] });
  const rec = JSON.parse(readFileSync(join(d, LOCK_FILE), 'utf8'));
  assert.deepEqual([rec.pid, rec.host, rec.command], [process.pid, hostname(), ['search', '--out', d]]);
  assert.equal(lockHolder(d)?.pid, process.pid);
  assert.throws(
    () => acquireRunLock(d),
    (e: unknown) =>
      e instanceof RunLockedError &&
      e.owner?.pid === process.pid &&
      new RegExp(`^${d}: is in use by pid ${process.pid} on this host since .* \\(lbt search --out ${d}\\): wait for it`).test(
        e.message,
      ),
  );
  lock.release();
  assert.equal(existsSync(join(d, LOCK_FILE)), false);
  acquireRunLock(d).release(); // free again
});

test('processes racing for one lock: exactly one gets it', async () => {
  const d = dir();
  const racers = Array.from({ length: 4 }, () => child(d, 'setTimeout(() => {}, 2000);'));
  const results = await Promise.all(racers.map(outputOf));
  assert.deepEqual(results.map((r) => r.out).sort(), ['RunLockedError', 'RunLockedError', 'RunLockedError', 'got']);
  assert.equal(existsSync(join(d, LOCK_FILE)), false, 'released when the winner exited');
});

test('released on exit and on a SIGTERM nothing handles (the process still dies of it); a SIGKILL leaves a stale lock', async () => {
  const d = dir();
  assert.deepEqual(await outputOf(child(d, 'process.exit(3);')), { out: 'got', code: 3, signal: null });
  assert.equal(existsSync(join(d, LOCK_FILE)), false);
  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    const c = child(d, 'setTimeout(() => {}, 30000);');
    const done = outputOf(c);
    await new Promise((r) => c.stdout.once('data', r)); // "got": it holds the lock
    c.kill(sig);
    assert.deepEqual(await done, { out: 'got', code: null, signal: sig });
    assert.equal(existsSync(join(d, LOCK_FILE)), sig === 'SIGKILL');
  }
  const lock = acquireRunLock(d); // the killed owner's lock is stale: taken over
  assert.match(lock.tookOver?.why ?? '', /^pid \d+ is not running$/);
  lock.release();
});

test('stale on this host: a dead pid, a pid that names a later process, a restarted machine', () => {
  const dead = deadPid();
  assert.equal(whyStale(owner({ pid: dead })), `pid ${dead} is not running`);
  assert.equal(whyStale(owner({ pid: process.pid, procStart: '1' })), `pid ${process.pid} is now another process`);
  assert.equal(whyStale(owner({ pid: process.pid, bootId: 'another-boot' })), 'the machine has restarted since');
  assert.equal(whyStale(owner({ pid: process.pid })), null, 'running');
  assert.equal(whyStale(owner({ pid: dead, host: `not-${hostname()}` })), null, 'another host: never assumed stale');
});

test("another host's lock (or one that is not lbt's) is refused; breakLock takes it; release leaves a newer owner's lock", () => {
  const d = dir();
  const path = join(d, LOCK_FILE);
  writeFileSync(path, JSON.stringify(owner({ host: 'elsewhere', pid: 42 })));
  assert.throws(
    () => acquireRunLock(d),
    /is in use by pid 42 on host elsewhere since .*: if that process is gone, continue with --break-lock/,
  );
  const broken = acquireRunLock(d, { breakLock: true });
  assert.deepEqual([broken.tookOver?.owner.host, broken.tookOver?.why], ['elsewhere', 'broken with --break-lock']);
  writeFileSync(path, JSON.stringify(owner({ pid: process.pid, since: 'later' }))); // someone broke ours meanwhile
  broken.release();
  assert.ok(existsSync(path), "the newer owner's lock stays");
  writeFileSync(path, 'garbage');
  assert.throws(() => acquireRunLock(d), /has a lock file that is not lbt's \(.*run\.lock\): if no lbt uses this run, remove it/);
  acquireRunLock(d, { breakLock: true }).release();
  assert.equal(existsSync(path), false);
});
