// Finite-difference gradient checking (like torch.autograd.gradcheck), for float64 tests.
import { grad } from './autograd.js';
import { tensor } from './creation.js';
import { mul, sum } from './ops.js';
import { scope, type Tensor } from './tensor.js';

export interface GradcheckResult {
  ok: boolean;
  maxAbsErr: number;
  maxRelErr: number;
  /** Where the worst error was: input index and flat element index. */
  worst: { input: number; index: number; analytic: number; numeric: number };
}

/**
 * Compares autograd's gradient of f(inputs) with central differences, element by element.
 * Non-scalar outputs are reduced with a fixed random projection. Inputs must be float64.
 */
export function gradcheck(
  f: (...xs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  o: { eps?: number; atol?: number; rtol?: number } = {},
): GradcheckResult {
  const eps = o.eps ?? 1e-6;
  const atol = o.atol ?? 1e-5;
  const rtol = o.rtol ?? 1e-3;
  for (const [i, x] of inputs.entries()) {
    if (x.dtype !== 'float64') throw new TypeError(`gradcheck: input ${i} is ${x.dtype}; use float64`);
  }
  return scope(() => {
    const probe = f(...inputs);
    const proj = tensor(
      Array.from({ length: probe.numel }, (_, k) => Math.sin(k + 1)),
      probe.shape,
      { dtype: 'float64' },
    );
    const objective = (...xs: Tensor[]) => scope(() => sum(mul(f(...xs), proj)).item());
    const leaves = inputs.map((x) => x.detach().requiresGrad_(true));
    const analytic = grad(sum(mul(f(...leaves), proj)), leaves, { allowUnused: true }).map((g, i) =>
      g === null ? new Array<number>((inputs[i] as Tensor).numel).fill(0) : g.toArray(),
    );
    let res: GradcheckResult = { ok: true, maxAbsErr: 0, maxRelErr: 0, worst: { input: 0, index: 0, analytic: 0, numeric: 0 } };
    inputs.forEach((x, i) => {
      const base = x.toArray();
      for (let k = 0; k < base.length; k++) {
        const at = (delta: number) => {
          const v = base.slice();
          v[k] = (v[k] as number) + delta;
          return scope(() => objective(...inputs.map((y, j) => (j === i ? tensor(v, x.shape, { dtype: 'float64' }) : y))));
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        const a = (analytic[i] as number[])[k] as number;
        const abs = Math.abs(a - numeric);
        const rel = abs / Math.max(Math.abs(numeric), 1e-12);
        if (abs > res.maxAbsErr) res = { ...res, maxAbsErr: abs, worst: { input: i, index: k, analytic: a, numeric } };
        res.maxRelErr = Math.max(res.maxRelErr, abs > atol ? rel : 0);
        if (abs > atol + rtol * Math.abs(numeric)) res.ok = false;
      }
    });
    return res;
  });
}
