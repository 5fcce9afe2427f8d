// The run lock: one writer per run directory. DIR/run.lock holds its owner (pid, host, boot id, the
// process's start tick, when it took the lock, its command). It is taken atomically: the complete
// file is written under a temporary name and hard-linked into place, which fails when a lock exists
// (link is atomic on local file systems and over NFS, unlike O_EXCL on old NFS clients), so no
// reader ever sees a half-written lock. It is removed when its owner exits, also on SIGINT, SIGTERM
// and SIGHUP when nothing else handles them.
//
// A lock is stale when its owner is gone: on this host, its pid is not running, the pid now names
// a process started later, or the machine has rebooted since. A stale lock of this host is taken
// over (the caller is told whose it was); a lock of another host is never assumed stale: only
// `breakLock` (the CLI's --break-lock) takes it, for a worker known to be lost.
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RunDirError, RunLockedError } from './errors.js';
import { errnoOf, osErrorText, tempPathFor } from './files.js';

export const LOCK_FILE = 'run.lock';
const LOCK_FORMAT = 'lbt-lock/1';

/** Who holds a lock: what run.lock records. */
export interface LockOwner {
  format: typeof LOCK_FORMAT;
  pid: number;
  host: string;
  /** /proc/sys/kernel/random/boot_id of the owner's machine (Linux), to tell a reboot. */
  bootId: string | null;
  /** The owner's start time in clock ticks since boot (/proc/PID/stat field 22), to tell a reused pid. */
  procStart: string | null;
  /** When it took the lock (ISO). */
  since: string;
  command?: string[];
}

export interface AcquireOptions {
  /** Take a lock held by another host (or any lock not known to be stale): for a writer known to be lost. */
  breakLock?: boolean;
  /** Recorded in the lock, to say who holds it. */
  command?: string[];
}

const readText = (p: string): string | null => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return null;
  }
};

function bootId(): string | null {
  return readText('/proc/sys/kernel/random/boot_id')?.trim() || null;
}

/** Field 22 of /proc/PID/stat (starttime): the fields after the parenthesised command name. */
function procStart(pid: number): string | null {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === null) return null;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
}

function me(command?: string[]): LockOwner {
  return {
    format: LOCK_FORMAT,
    pid: process.pid,
    host: hostname(),
    bootId: bootId(),
    procStart: procStart(process.pid),
    since: new Date().toISOString(),
    ...(command && { command }),
  };
}

function parseOwner(text: string): LockOwner | null {
  try {
    const o = JSON.parse(text) as LockOwner;
    return o.format === LOCK_FORMAT && Number.isInteger(o.pid) && typeof o.host === 'string' ? o : null;
  } catch {
    return null;
  }
}

/** Why the owner of a lock of this host is known to be gone, or null while it may be running. */
export function whyStale(o: LockOwner): string | null {
  if (o.host !== hostname()) return null;
  const boot = bootId();
  if (o.bootId && boot && o.bootId !== boot) return 'the machine has restarted since';
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    if (errnoOf(e) === 'ESRCH') return `pid ${o.pid} is not running`;
    return null; // EPERM: running, as another user
  }
  const start = procStart(o.pid);
  if (o.procStart && start && start !== o.procStart) return `pid ${o.pid} is now another process`;
  return null;
}

export function describeOwner(o: LockOwner): string {
  const cmd = o.command?.length ? ` (lbt ${o.command.join(' ')})` : '';
  return `pid ${o.pid} on ${o.host === hostname() ? 'this host' : `host ${o.host}`} since ${o.since}${cmd}`;
}

const held = new Set<RunLock>();

/** A held lock. release() removes it (only while it is still ours); it is also released when the process exits. */
export class RunLock {
  constructor(
    readonly path: string,
    private readonly text: string,
    /** The stale lock this one replaced (its owner was gone), or null. */
    readonly tookOver: { owner: LockOwner; why: string } | null,
  ) {
    held.add(this);
    installHandlers();
  }

  get released(): boolean {
    return !held.has(this);
  }

  release(): void {
    if (!held.delete(this)) return;
    if (readText(this.path) === this.text) rmSync(this.path, { force: true });
  }
}

function releaseAll(): void {
  for (const l of [...held]) l.release();
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

/**
 * Releases the locks when the process exits. A signal that nothing else handles would end the
 * process without an 'exit' event: then the locks are released and the signal raised again, so it
 * still ends the process as it would have. Runs first among the signal's listeners, so that a
 * once-listener (the CLI's Ctrl-C → checkpoint) still counts as a handler.
 */
function installHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', releaseAll);
  for (const sig of SIGNALS) {
    const onSignal = () => {
      if (process.listenerCount(sig) > 1) return;
      releaseAll();
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.prependListener(sig, onSignal);
  }
}

/** Links the complete lock file into place (O_EXCL where the file system has no hard links); false when a lock exists. */
function tryLink(tmp: string, path: string): boolean {
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw e;
  }
  try {
    writeFileSync(path, readFileSync(tmp), { flag: 'wx' });
    return true;
  } catch (e) {
    if (errnoOf(e) === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Replaces the lock whose text is `seen` by ours, under a second lock (LOCK.break) so that two
 * processes taking over the same stale lock cannot both win; false when the lock changed meanwhile.
 */
function takeOver(path: string, tmp: string, seen: string): boolean {
  const breaker = `${path}.break`;
  if (!tryLink(tmp, breaker))
    throw new RunDirError(
      breaker,
      'another process is taking over this lock (if none is, one died doing so: remove this file and try again)',
    );
  try {
    if ((readText(path) ?? seen) !== seen) return false;
    rmSync(path, { force: true });
    return tryLink(tmp, path);
  } finally {
    rmSync(breaker, { force: true });
  }
}

/**
 * Takes DIR/run.lock for this process, or throws RunLockedError naming the owner. A stale lock of
 * this host is taken over (RunLock.tookOver says whose it was); with breakLock, any lock is.
 */
export function acquireRunLock(dir: string, o: AcquireOptions = {}): RunLock {
  const path = join(dir, LOCK_FILE);
  const current = readText(path);
  const currentOwner = current === null ? null : parseOwner(current);
  if (current !== null && !o.breakLock && !(currentOwner && whyStale(currentOwner))) throw lockedError(dir, path, currentOwner); // before writing anything in the directory
  const text = `${JSON.stringify(me(o.command), null, 2)}\n`;
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, text, { flag: 'wx' });
  } catch (e) {
    throw new RunDirError(dir, `cannot take the run's lock: ${osErrorText(e)}`);
  }
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (tryLink(tmp, path)) return new RunLock(path, text, null);
      const seen = readText(path);
      if (seen === null) continue; // released meanwhile: try again
      const owner = parseOwner(seen);
      const why = owner ? whyStale(owner) : null;
      if (!why && !o.breakLock) throw lockedError(dir, path, owner);
      if (takeOver(path, tmp, seen)) {
        const prev = owner ?? { ...me(), pid: -1, host: '(unreadable lock file)' };
        return new RunLock(path, text, { owner: prev, why: why ?? 'broken with --break-lock' });
      }
    }
    throw new RunDirError(path, 'the lock keeps changing hands: is another lbt starting in this directory?');
  } finally {
    rmSync(tmp, { force: true });
  }
}

function lockedError(dir: string, path: string, owner: LockOwner | null): RunLockedError {
  if (!owner) return new RunLockedError(dir, `has a lock file that is not lbt's (${path}): if no lbt uses this run, remove it`);
  const other = owner.host !== hostname();
  const how = other
    ? `if that process is gone, continue with --break-lock (or remove ${path})`
    : 'wait for it to finish, or stop it (Ctrl-C saves a checkpoint)';
  return new RunLockedError(dir, `is in use by ${describeOwner(owner)}: ${how}`, owner);
}

/** The owner of DIR's lock when one is held by a live process (or one of another host), else null. */
export function lockHolder(dir: string): LockOwner | null {
  const text = readText(join(dir, LOCK_FILE));
  const owner = text === null ? null : parseOwner(text);
  return owner && !whyStale(owner) ? owner : null;
}
