// Evaluating classifiers on a subset, as DARTS's infer(): eval mode (no auxiliary head, no drop-path,
// BN running statistics), no augmentation, the subset in order; mean cross-entropy, top-1 and
// optionally top-5 accuracy. The search's validation at each epoch end and the retrain's test share it.
import { openStream, type SplitData } from '../data/load.js';
import { batchToDevice } from '../runs/device.js';
import * as t from '../torch/index.js';

/** A classifier as evaluation needs it: logits of a batch, and the module whose mode is switched. */
export interface Classifier {
  logits(x: t.Tensor): t.Tensor;
  module: t.nn.Module;
}

export interface EvalResult {
  /** Mean cross-entropy (no smoothing) and top-1 accuracy in [0, 1]. */
  loss: number;
  acc: number;
  /** Top-5 accuracy in [0, 1], when asked for. */
  top5?: number;
  n: number;
}

export interface EvalOptions {
  batchSize: number;
  /** The run's seed (the stream's; nothing is drawn in order and without augmentation). */
  seed: number;
  device: t.Device;
  /** At most this many batches (the search's validation: 50); default all. */
  maxBatches?: number;
  top5?: boolean;
}

/** Rows where fewer than k logits beat the true class's logit. */
function topKHits(logits: number[], labels: number[], classes: number, k: number): number {
  let hits = 0;
  labels.forEach((y, i) => {
    const row = logits.slice(i * classes, (i + 1) * classes);
    const v = row[y]!;
    if (row.filter((z) => z > v).length < k) hits++;
  });
  return hits;
}

interface Sums {
  loss: number;
  correct: number;
  top5: number;
  n: number;
}

function addBatch(c: Classifier, x: t.Tensor, y: t.Tensor, s: Sums, top5: boolean): void {
  const logits = c.logits(x);
  s.loss += t.crossEntropy(logits, y, { reduction: 'sum' }).item();
  s.correct += t.eq(t.argmax(logits, 1), y).sum().item();
  if (top5) s.top5 += topKHits(logits.toArray(), y.toArray(), logits.size(1), 5);
  s.n += y.size(0);
}

/** Evaluates each classifier on `part` of the data, in eval mode; restores each module's mode. */
export async function evaluate(
  data: Pick<SplitData, 'meta' | 'valid' | 'test'>,
  part: 'valid' | 'test',
  models: readonly Classifier[],
  o: EvalOptions,
): Promise<EvalResult[]> {
  const stream = openStream(data, part, {
    batchSize: o.batchSize,
    seed: o.seed,
    mode: 'epoch',
    shuffle: false,
    augment: false,
    prefetch: false,
  });
  const sums: Sums[] = models.map(() => ({ loss: 0, correct: 0, top5: 0, n: 0 }));
  const modes = models.map((m) => m.module.training);
  models.forEach((m) => m.module.eval());
  try {
    const steps = Math.min(stream.stepsPerEpoch, o.maxBatches ?? Number.POSITIVE_INFINITY);
    for (let i = 0; i < steps; i++) {
      const b = batchToDevice(await stream.next(), o.device);
      try {
        t.noGrad(() => t.scope(() => models.forEach((m, k) => addBatch(m, b.x, b.y as t.Tensor, sums[k]!, o.top5 ?? false))));
      } finally {
        t.disposeAll([b.x, b.y]);
      }
    }
  } finally {
    models.forEach((m, k) => m.module.train(modes[k]));
    stream.close();
  }
  return sums.map((s) => ({ loss: s.loss / s.n, acc: s.correct / s.n, ...(o.top5 && { top5: s.top5 / s.n }), n: s.n }));
}
