// What a worker and the process it forks for one job say to each other over the IPC channel.
import type { JobData, JobProgress, ReportJobResult, SeedJobResult } from './jobs.js';

/**
 * How a job's run failed: bad input (config, data, directory) and a diverged run fail once;
 * a run stopped through its signal (checkpoint written) goes back to the queue; anything else
 * (a crash) is retried.
 */
export type FailureKind = 'input' | 'diverged' | 'interrupted' | 'error';

export type ToChild =
  /** Run this job with the runs root as this machine mounts it. */
  | {
      type: 'run';
      job: JobData;
      runs: string;
      /**
       * The job stalled before: the worker that had it is gone (a worker that cannot renew its
       * lock kills its job's process first), so a run lock left by its host is broken.
       */
      breakLock: boolean;
    }
  /** Stop at the next step with a checkpoint (the worker is stopping, or the job was cancelled). */
  | { type: 'stop' };

export type FromChild =
  /** Listening: the worker may send 'run'. */
  | { type: 'ready' }
  | { type: 'progress'; progress: Omit<JobProgress, 'slot'> }
  | { type: 'done'; value: SeedJobResult | ReportJobResult }
  | { type: 'failed'; kind: FailureKind; message: string };

/** Sorts a thrown error into a FailureKind with its one-line message (the CLI's error map does it). */
export type Classify = (err: unknown) => { kind: FailureKind; message: string };
