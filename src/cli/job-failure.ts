// How a queued job's run failed, sorted by the CLI's one map of error classes (errors.ts): bad input
// (exit code 2) and a diverged run (1) fail the job once, a run stopped through its signal (130)
// goes back to the queue, anything else (a crash) is retried.
import type { FailureKind } from '../queue/protocol.js';
import { asUserError, UserError } from './errors.js';

export function jobFailure(err: unknown): { kind: FailureKind; message: string } {
  const u = asUserError(err);
  if (!(u instanceof UserError)) return { kind: 'error', message: err instanceof Error ? err.message : String(err) };
  return { kind: u.exitCode === 130 ? 'interrupted' : u.exitCode === 1 ? 'diverged' : 'input', message: u.message };
}
