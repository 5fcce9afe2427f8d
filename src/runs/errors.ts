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

/** What run.lock says about its owner (lock.ts's LockOwner, as far as an error needs it). */
export interface LockHolder {
  pid: number;
  host: string;
  since: string;
}

/**
 * A run directory that another process writes (its run.lock is held): a second writer is refused,
 * `--force` included. The queue tells "busy, try later" from a failure by this class.
 */
export class RunLockedError extends Error {
  constructor(
    readonly dir: string,
    what: string,
    readonly owner: LockHolder | null = null,
  ) {
    super(`${dir}: ${what}`);
    this.name = 'RunLockedError';
  }
}

/**
 * A run whose sizes cannot work: a batch larger than a split, or activations that cannot fit in
 * the memory there is. Checked before anything is allocated; says what fits.
 */
export class DoesNotFitError extends Error {
  constructor(
    readonly key: string,
    what: string,
  ) {
    super(`${key} ${what}`);
    this.name = 'DoesNotFitError';
  }
}
