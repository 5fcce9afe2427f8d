// PyTorch's default initialisations, so results compare with the reference code.
import { noGrad } from '../autograd.js';
import { uniformInPlace } from '../ops.js';
import type { Tensor } from '../tensor.js';

/** fan_in of a weight [out, in, ...kernel]: in · prod(kernel). */
export function fanIn(w: Tensor): number {
  const [, inp = 1, ...k] = w.shape;
  return inp * k.reduce((a, b) => a * b, 1);
}

/**
 * nn.Conv2d / nn.Linear default: kaiming_uniform_(a=√5) on the weight, i.e. U(±1/√fan_in),
 * and U(±1/√fan_in) on the bias.
 */
export function defaultInit(weight: Tensor, bias: Tensor | null): void {
  const bound = 1 / Math.sqrt(fanIn(weight));
  noGrad(() => {
    uniformInPlace(weight, -bound, bound);
    if (bias) uniformInPlace(bias, -bound, bound);
  });
}
