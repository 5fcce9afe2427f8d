import { noGrad } from '../autograd.js';
import { full } from '../creation.js';
import { clamp, div, mulInPlace, stack } from '../ops.js';
import { type Device, scope, type Tensor } from '../tensor.js';

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

/**
 * clipGradNorm without a host read, as torch ≥ 1.13 does it: every gradient is multiplied by
 * min(maxNorm/(total+1e-6), 1) on its device (by exactly 1 when not clipped). Returns the norm
 * before clipping as a 0-dim tensor (in the caller's scope), or null without gradients.
 */
export function clipGradNormOnDevice(params: readonly Tensor[], maxNorm: number): Tensor | null {
  return noGrad(() => {
    const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    if (grads.length === 0) return null;
    const total = stack(grads.map((g) => g.norm())).norm();
    const coef = scope(() => {
      const max = full([], maxNorm, { dtype: total.dtype, device: total.device as Device });
      return clamp(div(max, total.add(1e-6)), null, 1);
    });
    for (const g of grads) mulInPlace(g, coef);
    coef.dispose();
    return total;
  });
}
