// Numbers logged during a run, computed on plain arrays (the loop converts tensors with toArray()).
import type { Genotype } from '../nas/genotype.js';

/** Row-wise softmax of a matrix of logits (numerically stable). */
export function softmaxRows(logits: readonly (readonly number[])[]): number[][] {
  return logits.map((row) => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

/** Entropy in nats of one probability vector (0·log 0 = 0). */
export function entropy(p: readonly number[]): number {
  let h = 0;
  for (const v of p) if (v > 0) h -= v * Math.log(v);
  return h;
}

/**
 * Mean entropy (nats) over the edges of softmax(alpha), alpha given as logits [edges][ops]
 * (or as probabilities with `probabilities: true`). Uniform over K ops gives log K; one-hot gives 0.
 */
export function alphaEntropy(alpha: readonly (readonly number[])[], o: { probabilities?: boolean } = {}): number {
  if (alpha.length === 0) return 0;
  const p = o.probabilities ? alpha : softmaxRows(alpha);
  return p.reduce((a, row) => a + entropy(row), 0) / p.length;
}

/** Skip-connects (`skip_connect` genes) in the normal cell, or in `cell`. */
export function countSkipConnects(g: Pick<Genotype, 'normal' | 'reduce'>, cell: 'normal' | 'reduce' = 'normal'): number {
  return g[cell].filter(([op]) => op === 'skip_connect').length;
}

/** A weighted running mean (weights = batch sizes), like the reference AvgrageMeter. */
export class RunningMean {
  private sum = 0;
  private n = 0;

  /** Adds `value`, the mean over `count` examples. Non-finite values are kept (they make the mean NaN). */
  update(value: number, count = 1): this {
    this.sum += value * count;
    this.n += count;
    return this;
  }

  get mean(): number {
    return this.n === 0 ? Number.NaN : this.sum / this.n;
  }

  get count(): number {
    return this.n;
  }

  reset(): void {
    this.sum = 0;
    this.n = 0;
  }

  /** The running sums, for a checkpoint (exact: JSON keeps every double). */
  toJSON(): { sum: number; n: number } {
    return { sum: this.sum, n: this.n };
  }

  /** Continues from toJSON()'s sums. */
  restore(s: { sum: number; n: number }): this {
    this.sum = s.sum;
    this.n = s.n;
    return this;
  }
}

/** Exponential moving average for progress display (bias-corrected like Adam, so early values are not pulled to 0). */
export class Ema {
  private v = 0;
  private steps = 0;
  constructor(readonly decay = 0.9) {}

  update(x: number): number {
    this.v = this.decay * this.v + (1 - this.decay) * x;
    this.steps++;
    return this.value;
  }

  get value(): number {
    return this.steps === 0 ? Number.NaN : this.v / (1 - this.decay ** this.steps);
  }
}

/** Sample mean and standard deviation (ddof = 1; 0 for a single value). */
export function meanStd(xs: readonly number[]): { mean: number; std: number; n: number } {
  const n = xs.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, n };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: 0, n };
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, std: Math.sqrt(v), n };
}

/** True when every number is finite: the loop stops with a clear message on NaN or infinite losses. */
export function allFinite(...xs: number[]): boolean {
  return xs.every(Number.isFinite);
}
