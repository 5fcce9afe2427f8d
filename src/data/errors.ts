// Errors from dataset loading: each names the file or directory and what was expected.

/** A file exists but its content is not what the format requires. */
export class DatasetFormatError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'DatasetFormatError';
  }
}

/** A dataset, file or directory is not where it was looked for; `hint` says how to get it there. */
export class DatasetNotFoundError extends Error {
  constructor(
    readonly what: string,
    readonly looked: readonly string[],
    readonly hint: string,
  ) {
    super(`${what} not found${looked.length ? ` (looked in: ${looked.join(', ')})` : ''}. ${hint}`);
    this.name = 'DatasetNotFoundError';
  }
}

/** A data configuration that cannot be satisfied (split sizes larger than the data, bad saved splits). */
export class DataConfigError extends Error {
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`data config ${field}: ${detail}`);
    this.name = 'DataConfigError';
  }
}

/**
 * A data file or directory that cannot be read as one: no permission, a directory or FIFO where a
 * file belongs, larger than can be read. Names the path and says what to do.
 */
export class DataFileError extends Error {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'DataFileError';
  }
}
