// The evaluation network of a genotype (DARTS's NetworkCIFAR / NetworkImageNet) and one training step.
import type { RetrainConfig } from '../config/schema.js';
import { DataConfigError } from '../data/errors.js';
import type { DatasetMeta } from '../data/source.js';
import { NetworkCIFAR, NetworkImageNet } from '../nas/eval-network.js';
import { isReductionCell } from '../nas/supernet.js';
import type { Genotype } from '../nas/genotype.js';
import * as t from '../torch/index.js';

export type EvalNetwork = NetworkCIFAR | NetworkImageNet;

/** NetworkImageNet for data fed ImageNet-style, NetworkCIFAR for the rest (both with the data's input channels). */
export function buildEvalNetwork(
  c: Pick<RetrainConfig, 'layers' | 'channels' | 'auxiliary'>,
  g: Genotype,
  meta: DatasetMeta,
): EvalNetwork {
  const cfg = {
    genotype: g,
    C: c.channels,
    layers: c.layers,
    numClasses: meta.numClasses,
    auxiliary: c.auxiliary,
    inChannels: meta.shape[0],
  };
  if (meta.style === 'imagenet') return new NetworkImageNet(cfg);
  if (c.channels % 2 !== 0)
    throw new DataConfigError('channels', `NetworkCIFAR needs an even C (it doubles at reductions), got ${c.channels}`);
  return new NetworkCIFAR(cfg);
}

/**
 * A lower bound of the bytes one example's activations take in the evaluation network's forward
 * pass: each cell's preprocessed inputs, one output per gene and the cell output (CIFAR layout;
 * ImageNet's stem divides the image by 8 first). Intermediates inside ops are left out.
 */
export function evalNetworkFloorBytes(c: Pick<RetrainConfig, 'layers' | 'channels'>, g: Genotype, meta: DatasetMeta): number {
  const [cin, h0, w0] = meta.shape;
  const down = meta.name === 'imagenet' ? 8 : 1;
  let [h, w, ch] = [Math.ceil(h0 / down), Math.ceil(w0 / down), c.channels];
  let floats = cin * h0 * w0 + 3 * c.channels * h * w;
  for (let i = 0; i < c.layers; i++) {
    const red = isReductionCell(i, c.layers);
    if (red) ch *= 2;
    const [ho, wo] = red ? [Math.ceil(h / 2), Math.ceil(w / 2)] : [h, w];
    const genes = red ? g.reduce.length : g.normal.length;
    const concat = red ? g.reduceConcat.length : g.normalConcat.length;
    floats += 2 * ch * h * w + (genes + concat) * ch * ho * wo;
    [h, w] = [ho, wo];
  }
  return floats * 4;
}

export interface TrainStepResult {
  loss: number;
  correct: number;
  gradNorm: number | null;
}

/** The network's forward, under bf16 autocast when asked (engine.autocast), logits back in float32 for the losses. */
export function forwardLogits(model: EvalNetwork, x: t.Tensor, autocast: t.AutocastDevice | null = null) {
  if (autocast === null) return model.forward(x);
  const f32 = (z: t.Tensor) => (z.dtype === 'float32' ? z : z.to({ dtype: 'float32' }));
  const { logits, logitsAux } = t.withAutocast(autocast, () => model.forward(x));
  return { logits: f32(logits), logitsAux: logitsAux && f32(logitsAux) };
}

/**
 * One optimisation step, scoped: loss = CE(logits) + auxWeight·CE(aux) (with label smoothing),
 * global-norm clip, SGD. The weights are not touched when the loss or the gradient norm is not finite.
 */
export function trainStep(
  model: EvalNetwork,
  opt: t.optim.SGD,
  x: t.Tensor,
  y: t.Tensor,
  c: Pick<RetrainConfig, 'auxWeight' | 'gradClip' | 'labelSmoothing'>,
  autocast: t.AutocastDevice | null = null,
): TrainStepResult {
  return t.scope(() => {
    opt.zeroGrad();
    const { logits, logitsAux } = forwardLogits(model, x, autocast);
    const ce = (z: t.Tensor) => t.crossEntropy(z, y, { labelSmoothing: c.labelSmoothing });
    const loss = logitsAux && c.auxWeight > 0 ? ce(logits).add(ce(logitsAux), c.auxWeight) : ce(logits);
    const value = loss.item();
    const correct = t.eq(logits.argmax(1), y).sum().item();
    if (!Number.isFinite(value)) return { loss: value, correct, gradNorm: null };
    loss.backward();
    const gradNorm = c.gradClip > 0 ? t.optim.clipGradNorm(opt.params, c.gradClip) : null;
    if (gradNorm === null || Number.isFinite(gradNorm)) opt.step();
    opt.zeroGrad();
    return { loss: value, correct, gradNorm };
  });
}
