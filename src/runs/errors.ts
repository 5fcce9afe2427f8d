// The failures of a run that reach the user: each names the path it concerns; the CLI prints one line.

/** A run directory or one of its files that cannot be created, opened, read or parsed; names the path. */
export class RunDirError extends Error {
  constructor(
    readonly path: string,
    what: string,
  ) {
    super(`${path}: ${what}`);
    this.name = 'RunDirError';
  }
}

/**
 * A run stopped through its AbortSignal (Ctrl-C, SIGTERM) after writing a checkpoint in `dir`;
 * running the same command again (or `--resume dir`) continues it. The one "stopped" error of a
 * search, a retrain and an experiment.
 */
export class RunInterrupted extends Error {
  constructor(
    readonly dir: string,
    /** Global steps done when it stopped. */
    readonly step: number,
    what: string,
  ) {
    super(`interrupted ${what}; checkpoint saved in ${dir}`);
    this.name = 'RunInterrupted';
  }
}
