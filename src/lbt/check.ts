// `lbt gradcheck`'s comparison: each architect's hypergradient against brute-force central
// differences of the one-step unrolled objective O_v(A) (objective.ts). Pure: no printing.
import { disposeAll } from '../torch/index.js';
import { hypergradient } from './hypergradient.js';
import { numericHypergradient, type ObjectiveInput } from './objective.js';
import { DEFAULT_HYPERGRAD, type HypergradConfig } from './types.js';

export interface GradcheckCase {
  name: string;
  /** Uses the student (LBT) or not (DARTS). */
  student: boolean;
  cfg: Partial<HypergradConfig>;
}

/** The architects `lbt gradcheck` checks: DARTS-1st/2nd and LBT with each switch. */
export const GRADCHECK_CASES: readonly GradcheckCase[] = [
  { name: 'darts-1st', student: false, cfg: { firstOrder: true } },
  { name: 'darts-2nd', student: false, cfg: {} },
  { name: 'lbt', student: true, cfg: {} },
  { name: 'lbt-first-order', student: true, cfg: { firstOrder: true } },
  { name: 'lbt-paper-form', student: true, cfg: { paperForm: true } },
  { name: 'lbt-student-only', student: true, cfg: { studentOnly: true } },
  { name: 'lbt-pseudo-only', student: true, cfg: { pseudoOnly: true } },
];

export interface GradcheckResult {
  name: string;
  /** ‖analytic − numeric‖ / ‖numeric‖ over every architecture parameter. */
  relError: number;
  numericNorm: number;
  components: number;
}

/**
 * Compares for one case. fdScale is the hypergradient's own finite-difference scale (r in
 * ε = r/‖v‖); step is the central-difference step on A for the brute force.
 */
export function checkCase(
  base: Omit<ObjectiveInput, 'cfg'>,
  c: GradcheckCase,
  o: { fdScale: number; step: number },
): GradcheckResult {
  const cfg: HypergradConfig = { ...DEFAULT_HYPERGRAD, ...c.cfg, fdScale: o.fdScale };
  const inp: ObjectiveInput = {
    ...base,
    student: c.student ? base.student : null,
    studentOpt: c.student ? base.studentOpt : null,
    cfg,
  };
  const { grads, stats } = hypergradient(inp);
  const analytic = grads.flatMap((g) => g.toArray());
  disposeAll([grads, stats]);
  const numeric = numericHypergradient(inp, { step: o.step }).flat();
  let num = 0;
  let den = 0;
  numeric.forEach((v, i) => {
    num += ((analytic[i] as number) - v) ** 2;
    den += v * v;
  });
  return { name: c.name, relError: Math.sqrt(num / den), numericNorm: Math.sqrt(den), components: numeric.length };
}
