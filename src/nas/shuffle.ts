// PC-DARTS's channel shuffle (darts-family.md §5).
import * as t from '../torch/index.js';

/**
 * view (N, g, C/g, H, W) → transpose(1, 2) → flatten: output channel c'·g + gi is input
 * channel gi·(C/g) + c'.
 */
export function channelShuffle(x: t.Tensor, groups: number): t.Tensor {
  const [n = 0, c = 0, h = 0, w = 0] = x.shape;
  if (c % groups !== 0) throw new RangeError(`channelShuffle: ${c} channels are not divisible by ${groups} groups`);
  return t.scope(() => t.reshape(t.transpose(t.reshape(x, [n, groups, c / groups, h, w]), 1, 2), [n, c, h, w]));
}
