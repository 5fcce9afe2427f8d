import type { Tensor } from '../tensor.js';

/** Serialisable optimizer state: scalars plus named tensors (momentum and moment buffers). */
export interface OptimizerState {
  kind: 'sgd' | 'adam';
  step: number;
  lr: number;
  tensors: Map<string, Tensor>;
  /** Per-parameter step counts (Adam's bias correction). */
  counts?: number[];
}

export interface Optimizer {
  readonly params: Tensor[];
  lr: number;
  step(): void;
  zeroGrad(): void;
  stateDict(): OptimizerState;
  loadStateDict(s: OptimizerState): void;
  dispose(): void;
}
