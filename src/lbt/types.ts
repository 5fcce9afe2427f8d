// What the LBT math needs from a network, an optimizer and the data: nothing more.
import type { Tensor } from '../torch/index.js';

/** A network as a function of its weights (and, for the teacher, its architecture). */
export interface Net {
  /** The live weights (leaf tensors). The architect never writes them. */
  readonly weights: readonly Tensor[];
  /** Running statistics and other buffers a forward pass may update (restored after an architect step). */
  readonly buffers: readonly Tensor[];
  /** Logits for x at substituted weights w (default: the live ones) and architecture arch. */
  forward(x: Tensor, w?: readonly Tensor[], arch?: readonly Tensor[]): Tensor;
}

/** The teacher: a supernet whose architecture parameters A are searched. */
export interface TeacherNet extends Net {
  /** The live architecture parameters (alphas, and PC-DARTS betas). */
  readonly arch: readonly Tensor[];
}

/** The part of an SGD optimizer the unrolled step reads (torch.optim.SGD semantics). */
export interface SgdView {
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  momentumBuffer(i: number): Tensor | null;
}

export interface Labeled {
  x: Tensor;
  y: Tensor;
}

/** One iteration's data: D_tr, D_val (shared by teacher and student, as in the paper) and D_u. */
export interface LbtBatches {
  train: Labeled;
  val: Labeled;
  unlabeled: Tensor;
}

/** How the hypergradient is formed (DESIGN §2). */
export interface HypergradConfig {
  /** λ: weight of the pseudo-label loss in the student's objective (Eq. 3). */
  lambda: number;
  /** γ: weight of the student's validation loss in the architecture objective (Eq. 3). */
  gamma: number;
  /** ξ_t = 0: no unrolled teacher step (DARTS-1st); the student term survives through u_A. */
  firstOrder: boolean;
  /** Drop the direct path A → p (u_A), as the paper's Eq. 11. */
  paperForm: boolean;
  /** Ablation 1: the teacher's own validation loss is off (drop a_v and g_v). */
  studentOnly: boolean;
  /** Ablation 2: the student trains on pseudo-labels only (drop L(S, D_tr)). */
  pseudoOnly: boolean;
  /** Finite-difference step scale r: ε = r/‖v‖ (DARTS uses 0.01). */
  fdScale: number;
  /** 'finite-difference' (Eq. 8) or 'exact' (double backward, for checks). */
  hvp: 'finite-difference' | 'exact';
  /** Bench only: the paper's literal form, one finite-difference pair per term (4 passes instead of 2). */
  separatePairs?: boolean;
}

export const DEFAULT_HYPERGRAD: HypergradConfig = {
  lambda: 1,
  gamma: 1,
  firstOrder: false,
  paperForm: false,
  studentOnly: false,
  pseudoOnly: false,
  fdScale: 0.01,
  hvp: 'finite-difference',
};
