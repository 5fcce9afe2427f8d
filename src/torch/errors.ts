// Errors of computations on tensors.

/**
 * A loss, gradient or value became NaN or infinite. The math throws it with `what`; a run that
 * catches it throws it again with where it happened and its last good checkpoint.
 */
export class NonFiniteError extends Error {
  constructor(
    readonly what: string,
    readonly checkpoint: string | null = null,
  ) {
    super(`non-finite value: ${what}`);
    this.name = 'NonFiniteError';
  }
}
