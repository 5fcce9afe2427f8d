// Testing an evaluation network: eval mode (no auxiliary head, no drop-path, BN running
// statistics), the test split in order; top-1 and optionally top-5 accuracy.
import { DataConfigError } from '../data/errors.js';
import { deriveSeed } from '../data/rng.js';
import { BatchStream } from '../data/stream.js';
import { makeTransform } from '../data/transforms.js';
import * as t from '../torch/index.js';
import type { EvalNetwork, RetrainData } from './loop.js';

export interface EvalResult {
  /** Mean cross-entropy (no smoothing) and top-1 accuracy in [0, 1]. */
  loss: number;
  acc: number;
  /** Top-5 accuracy in [0, 1], when asked for. */
  top5?: number;
  n: number;
}

/** Evaluates in eval mode (no aux head, no drop-path, BN running statistics), in subset order. */
export async function evaluate(
  model: EvalNetwork,
  data: RetrainData,
  o: { batchSize: number; seed?: number; device?: string; top5?: boolean },
): Promise<EvalResult> {
  const test = data.test;
  if (!test) throw new DataConfigError('test', `${data.meta.name} has no test split to evaluate on`);
  const transform = makeTransform(test.source, data.meta, { train: false });
  const stream = new BatchStream(test, transform, { batchSize: o.batchSize, seed: deriveSeed(o.seed ?? 0, 4), shuffle: false });
  const wasTraining = model.training;
  model.eval();
  const s = { loss: 0, correct: 0, n: 0 };
  let top5 = 0;
  try {
    for (let k = 0; k < stream.stepsPerEpoch; k++) {
      const b = await stream.next();
      try {
        const r = t.noGrad(() =>
          t.scope(() => {
            const x = toDevice(b.x, o.device);
            const y = toDevice(b.y!, o.device);
            const { logits } = model.forward(x);
            const loss = t.crossEntropy(logits, y, { reduction: 'sum' }).item();
            const correct = t.eq(logits.argmax(1), y).sum().item();
            return { loss, correct, top5: o.top5 ? topKHits(logits.toArray(), b.y!.toArray(), logits.size(1), 5) : 0 };
          }),
        );
        s.loss += r.loss;
        s.correct += r.correct;
        s.n += b.index.length;
        top5 += r.top5;
      } finally {
        b.x.dispose();
        b.y?.dispose();
      }
    }
  } finally {
    stream.close();
    model.train(wasTraining);
  }
  return { loss: s.loss / s.n, acc: s.correct / s.n, ...(o.top5 && { top5: top5 / s.n }), n: s.n };
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

/** The tensor on `device` (the same tensor on the CPU). */
export function toDevice(x: t.Tensor, device: string | undefined): t.Tensor {
  return !device || device === 'cpu' ? x : x.to({ device: device as t.Device });
}
