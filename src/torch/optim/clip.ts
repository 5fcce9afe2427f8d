import { noGrad } from '../autograd.js';
import { mulInPlace, stack } from '../ops.js';
import { scope, type Tensor } from '../tensor.js';

/**
 * Scales gradients so that their global L2 norm is at most maxNorm (torch clip_grad_norm_:
 * coefficient maxNorm/(total+1e-6), applied when below 1). Returns the norm before clipping.
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  return noGrad(() =>
    scope(() => {
      const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
      if (grads.length === 0) return 0;
      const total = stack(grads.map((g) => g.norm()))
        .norm()
        .item();
      const coef = maxNorm / (total + 1e-6);
      if (coef < 1) for (const g of grads) mulInPlace(g, coef);
      return total;
    }),
  );
}
