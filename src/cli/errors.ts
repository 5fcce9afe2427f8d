import { DataConfigError, DatasetFormatError, DatasetNotFoundError } from '../data/errors.js';
import { AlphasFormatError } from '../nas/alphas.js';
import { GenotypeFormatError } from '../nas/genotype.js';
import { CheckpointError } from '../runs/checkpoint.js';
import { ConfigError } from '../config/layers.js';
import { DeviceError } from '../runs/device.js';
import { RunDirError } from '../runs/run-dir.js';

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

/** Errors of the layers below that come from the user's input (each names its file, key or field). */
const INPUT_ERRORS = [
  ConfigError,
  RunDirError,
  CheckpointError,
  DeviceError,
  DatasetNotFoundError,
  DatasetFormatError,
  DataConfigError,
  GenotypeFormatError,
  AlphasFormatError,
];

/** An input error of the layers below as a UserError (printed as `lbt: message`, exit 2); anything else as is. */
export function asUserError(err: unknown): unknown {
  return INPUT_ERRORS.some((E) => err instanceof E) ? new UserError((err as Error).message) : err;
}
