// Option helpers shared by the commands.
import { describeOwner } from '../runs/lock.js';
import type { RunDir } from '../runs/run-dir.js';
import { UserError } from './errors.js';

/** Commander collector for repeatable options such as --set key=value. */
export const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** A timestamp for default run-directory names: 2026-11-26-13-27-05. */
export const stamp = (): string => new Date().toISOString().replace(/[:T]/g, '-').replace(/\..*/, '');

/**
 * Runs fn with SIGINT/SIGTERM turned into an abort of the signal it gets (the run then stops at
 * its next step with a checkpoint); the handlers are removed when fn settles.
 */
export async function withInterrupt<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(ac.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Says (on stderr) when a run took over the stale lock of a process that is gone. */
export function noteTakeover(run: RunDir): void {
  const t = run.lock.tookOver;
  if (t) process.stderr.write(`lbt: note: ${run.dir}: took over the lock of ${describeOwner(t.owner)}: ${t.why}\n`);
}

/** `--resume DIR` continues a run with its own config: the flags that would change it are refused, not ignored. */
export function refuseWithResume(o: { resume?: string }, given: Record<string, unknown>, allowed: string): void {
  if (!o.resume) return;
  const bad = Object.entries(given)
    .filter(([, v]) => v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0))
    .map(([k]) => k);
  if (bad.length > 0)
    throw new UserError(
      `--resume continues a run with its own config and directory: ${bad.join(', ')} cannot be given with it (allowed: ${allowed})`,
    );
}
