// Learning-rate schedules as pure functions of the epoch (0-based), matching the
// reference code's call order (DARTS: scheduler.step() at the start of each epoch).

/** CosineAnnealingLR after `stepsTaken` steps: min + (max−min)(1+cos(π·t/T))/2. */
export function cosineLr(stepsTaken: number, total: number, lrMax: number, lrMin = 0): number {
  if (total <= 0) throw new RangeError(`cosineLr: total ${total} must be positive`);
  const t = Math.min(stepsTaken, total);
  return lrMin + 0.5 * (lrMax - lrMin) * (1 + Math.cos((Math.PI * t) / total));
}

/** StepLR: lr·γ^floor(stepsTaken/period). */
export function stepLr(stepsTaken: number, period: number, gamma: number, lr: number): number {
  return lr * gamma ** Math.floor(stepsTaken / period);
}

/** Linear warm-up over the first `warmup` epochs: lr·(epoch+1)/warmup (PC-DARTS ImageNet). */
export function warmupLr(epoch: number, warmup: number, lr: number): number {
  return epoch < warmup ? (lr * (epoch + 1)) / warmup : lr;
}
