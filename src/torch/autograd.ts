// Autograd: torch.autograd.grad, no-grad scopes.
import { native } from './native.js';
import { Tensor } from './tensor.js';

export interface GradOptions {
  /** Upstream gradients, one per output (default: ones for scalar outputs). */
  gradOutputs?: readonly Tensor[];
  retainGraph?: boolean;
  /** Build a graph of the gradient itself (for Hessian-vector products). */
  createGraph?: boolean;
  /** Return null for inputs the outputs do not depend on instead of throwing. */
  allowUnused?: boolean;
}

/** Gradients of outputs with respect to inputs, as torch.autograd.grad. */
export function grad(
  outputs: Tensor | readonly Tensor[],
  inputs: readonly Tensor[],
  o: GradOptions & { allowUnused: true },
): (Tensor | null)[];
export function grad(outputs: Tensor | readonly Tensor[], inputs: readonly Tensor[], o?: GradOptions): Tensor[];
export function grad(outputs: Tensor | readonly Tensor[], inputs: readonly Tensor[], o: GradOptions = {}): (Tensor | null)[] {
  const outs = outputs instanceof Tensor ? [outputs] : outputs;
  const createGraph = o.createGraph ?? false;
  const hs = native.autogradGrad(
    outs.map((t) => t.h),
    inputs.map((t) => t.h),
    o.gradOutputs ? o.gradOutputs.map((t) => t.h) : null,
    o.retainGraph ?? createGraph,
    createGraph,
    o.allowUnused ?? false,
  );
  return hs.map((h) => (h === null ? null : new Tensor(h)));
}

/** Runs fn with gradient recording off (like torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  const prev = native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

/** Runs fn with gradient recording on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  const prev = native.setGradEnabled(true);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}
