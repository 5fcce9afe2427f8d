// The evaluation phase's schedules, per 0-based epoch (set once per epoch, as the reference's
// scheduler.step() at the start of each epoch).
import type { RetrainConfig } from '../config/schema.js';
import { dropPathSchedule } from '../nas/eval-cell.js';
import * as t from '../torch/index.js';

/**
 * The learning rate of epoch `e`. cosine: CosineAnnealingLR(epochs, lrMin); step: lr·γ^e; linear:
 * PC-DARTS train_imagenet.py adjust_lr (lr·(T−5−e)/(T−5), the last 5 epochs lr·(T−e)/(5(T−5)); for
 * T ≤ 5, lr·(T−e)/T). Warm-up multiplies the first `warmupEpochs` epochs by (e+1)/warmupEpochs.
 */
export function retrainLr(
  c: Pick<RetrainConfig, 'lr' | 'lrMin' | 'schedule' | 'lrGamma' | 'warmupEpochs' | 'epochs'>,
  e: number,
): number {
  const T = c.epochs;
  let lr: number;
  if (c.schedule === 'cosine') lr = t.optim.cosineLr(e, T, c.lr, c.lrMin);
  else if (c.schedule === 'step') lr = Math.max(c.lrMin, t.optim.stepLr(e, 1, c.lrGamma, c.lr));
  else if (T <= 5) lr = Math.max(c.lrMin, (c.lr * (T - e)) / T);
  else lr = Math.max(c.lrMin, T - e > 5 ? (c.lr * (T - 5 - e)) / (T - 5) : (c.lr * (T - e)) / ((T - 5) * 5));
  return t.optim.warmupLr(e, c.warmupEpochs, lr);
}

/** The drop-path probability of epoch e: dropPath·e/epochs (0 in the first epoch). */
export function retrainDropPath(c: Pick<RetrainConfig, 'dropPath' | 'epochs'>, e: number): number {
  return dropPathSchedule(c.dropPath, e, c.epochs);
}
