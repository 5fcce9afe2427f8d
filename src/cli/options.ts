// Option helpers shared by the commands.

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
