// The process `lbt worker` forks for one job (src/queue/child.ts), here so that its failures are
// sorted by the CLI's one map of error classes: bad input and a diverged run fail the job once,
// a stopped run goes back to the queue, anything else is retried.
import { serveJob } from '../queue/child.js';
import { asUserError, UserError } from './errors.js';

serveJob((err) => {
  const u = asUserError(err);
  if (!(u instanceof UserError)) return { kind: 'error', message: err instanceof Error ? err.message : String(err) };
  return { kind: u.exitCode === 130 ? 'interrupted' : u.exitCode === 1 ? 'diverged' : 'input', message: u.message };
});
