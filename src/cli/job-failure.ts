// How a queued job's run failed, sorted by the CLI's one map of error classes (errors.ts): bad input
// (exit code 2) and a diverged run (1) fail the job once, a run stopped through its signal (130)
// goes back to the queue; a run directory another live process writes (75, EX_TEMPFAIL: it may
// finish or die) and anything else (a crash) are retried.
import type { FailureKind } from '../queue/protocol.js';
import { asUserError, UserError } from './errors.js';

export function jobFailure(err: unknown): { kind: FailureKind; message: string } {
  const u = asUserError(err);
  if (!(u instanceof UserError)) return { kind: 'error', message: err instanceof Error ? err.message : String(err) };
  const kinds: Record<number, FailureKind> = { 130: 'interrupted', 1: 'diverged', 75: 'error' };
  return { kind: kinds[u.exitCode] ?? 'input', message: u.message };
}
