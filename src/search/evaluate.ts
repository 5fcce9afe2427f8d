// Validation of the teacher (and student) at an epoch's end, as DARTS's infer(): eval mode, no
// augmentation, the validation subset in order (at most MAX_EVAL_BATCHES batches).
import { openStream, type SearchData } from '../data/index.js';
import type { Net } from '../lbt/index.js';
import * as t from '../torch/index.js';
import type { LossAcc } from '../runs/types.js';
import { toDevice } from '../runs/device.js';

export const MAX_EVAL_BATCHES = 50;

export interface Evaluated {
  net: Net;
  module: t.nn.Module;
}

/** Mean loss and accuracy of each model on the validation subset, in eval mode; restores train mode. */
export async function evaluateValid(
  data: SearchData,
  models: readonly Evaluated[],
  batchSize: number,
  device: t.Device = 'cpu',
): Promise<LossAcc[]> {
  const s = openStream(data, 'valid', { batchSize, seed: 0, mode: 'epoch', shuffle: false, augment: false, prefetch: false });
  const sums = models.map(() => ({ loss: 0, correct: 0, n: 0 }));
  const modes = models.map((m) => m.module.training);
  models.forEach((m) => m.module.eval());
  try {
    const steps = Math.min(s.stepsPerEpoch, MAX_EVAL_BATCHES);
    for (let i = 0; i < steps; i++) {
      const b = toDevice(await s.next(), device);
      try {
        t.noGrad(() =>
          t.scope(() => {
            const y = b.y as t.Tensor;
            const n = y.size(0);
            models.forEach((m, k) => {
              const logits = m.net.forward(b.x);
              const acc = sums[k] as { loss: number; correct: number; n: number };
              acc.loss += t.crossEntropy(logits, y, { reduction: 'sum' }).item();
              acc.correct += t.eq(t.argmax(logits, 1), y).sum().item();
              acc.n += n;
            });
          }),
        );
      } finally {
        t.disposeAll([b.x, b.y]);
      }
    }
  } finally {
    models.forEach((m, k) => m.module.train(modes[k]));
    s.close();
  }
  return sums.map((a) => ({ loss: a.loss / a.n, acc: a.correct / a.n }));
}
