// The one place where the failures of every layer become what the user sees: one line (`lbt: ...`)
// and an exit code. Each error class of the layers below names its file, key or field.
import { ConfigError } from '../config/errors.js';
import { DataConfigError, DataFileError, DatasetFormatError, DatasetNotFoundError } from '../data/errors.js';
import { ExperimentError } from '../experiment/experiment.js';
import { AlphasFormatError } from '../nas/alphas.js';
import { GenotypeFormatError } from '../nas/genotype.js';
import { CheckpointError } from '../runs/checkpoint.js';
import { DeviceError } from '../runs/device.js';
import { DoesNotFitError, RunDirError, RunInterrupted, RunLockedError } from '../runs/errors.js';
import { isOsError, osErrorText } from '../runs/files.js';
import { QueueError } from '../queue/connection.js';
import { QueuedJobFailed } from '../queue/enqueue.js';
import { NonFiniteError } from '../torch/index.js';
import { ServeRootError } from '../serve/roots.js';

/** An error caused by the user's input (file, flag, config): printed without a stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Every user-facing error class with its exit code: 2 bad input, 1 a run that diverged, 130 a run
 * stopped by a signal, 75 (EX_TEMPFAIL) a run directory that another process writes: try later.
 */
const USER_FACING: readonly (readonly [ErrorClass, number])[] = [
  [RunLockedError, 75],
  [ConfigError, 2],
  [ExperimentError, 2],
  [RunDirError, 2],
  [DoesNotFitError, 2],
  [CheckpointError, 2],
  [DeviceError, 2],
  [DatasetNotFoundError, 2],
  [DatasetFormatError, 2],
  [DataConfigError, 2],
  [DataFileError, 2],
  [GenotypeFormatError, 2],
  [AlphasFormatError, 2],
  [QueueError, 2],
  [NonFiniteError, 1],
  [QueuedJobFailed, 1],
  [RunInterrupted, 130],
  [ServeRootError, 2],
];

/**
 * A user-facing error of the layers below as a UserError (printed as `lbt: message`); an OS error
 * that no layer named (ENOSPC, EMFILE... from node:fs) as one line with its path and what to do;
 * anything else as is.
 */
export function asUserError(err: unknown): unknown {
  const hit = USER_FACING.find(([E]) => err instanceof E);
  if (hit) return new UserError((err as Error).message, hit[1]);
  if (isOsError(err)) {
    const { path, syscall } = err as NodeJS.ErrnoException;
    return new UserError(`${path ? `${path}: ` : ''}${syscall ? `${syscall} failed: ` : ''}${osErrorText(err)}`, 2);
  }
  return err;
}

/** A stopped run (interrupted, or a NaN/inf) as a UserError with the command that continues it on a second line. */
export function withResumeHint(err: unknown, hint: string): unknown {
  if (!(err instanceof RunInterrupted || err instanceof NonFiniteError)) return err;
  const e = asUserError(err) as UserError;
  return new UserError(`${e.message}\n${hint}`, e.exitCode);
}
