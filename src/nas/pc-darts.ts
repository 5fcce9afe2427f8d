// PC-DARTS (darts-family.md §5): partial channel connections (only C/K channels go through the
// candidate ops, the rest bypass them), channel shuffle, and edge normalisation with betas.
import * as t from '../torch/index.js';
import { derivePcDarts } from './derive.js';
import { MixedOp } from './mixed-op.js';
import type { Stride } from './operations.js';
import { PRIMITIVES } from './primitives.js';
import { channelShuffle } from './shuffle.js';
import { type CellShapeOptions, cellShape, SearchNetwork } from './supernet.js';

export { channelShuffle };

/** The PC-DARTS edge: the mixed op on the first C/K channels, the rest passed through (pooled when strided). */
export class PartialMixedOp extends MixedOp {
  readonly channels: number;
  constructor(
    C: number,
    stride: Stride,
    readonly k: number,
  ) {
    if (C % k !== 0) throw new RangeError(`PartialMixedOp: ${C} channels are not divisible by K=${k}`);
    super(C / k, stride);
    this.channels = C;
  }

  override forward(x: t.Tensor, weights: t.Tensor): t.Tensor {
    return t.scope(() => {
      const c = x.size(1);
      const part = c / this.k;
      const mixed = super.forward(t.narrow(x, 1, 0, part), weights);
      let rest = t.narrow(x, 1, part, c - part);
      // MaxPool2d(2, 2) in the reference; ceil mode only changes odd sizes, where the reference fails.
      if (mixed.size(2) !== x.size(2)) rest = t.maxPool2d(rest, 2, { stride: 2, ceilMode: true });
      return channelShuffle(t.cat([mixed, rest], 1), this.k);
    });
  }
}

export interface PcDartsSupernetOptions extends CellShapeOptions {
  C?: number;
  numClasses?: number;
  layers?: number;
  inChannels?: number;
  /** Partial-channel divisor K (4 on CIFAR, 2 on ImageNet). */
  k?: number;
}

/** PC-DARTS supernet (CIFAR: K=4, 10 classes, C=16, 8 cells; 299,578 parameters). */
export function createPcDartsSupernet(o: PcDartsSupernetOptions = {}): SearchNetwork {
  const k = o.k ?? (o.stem === 'imagenet' ? 2 : 4);
  const steps = o.steps ?? 4;
  return new SearchNetwork({
    space: 'pc-darts',
    C: o.C ?? 16,
    numClasses: o.numClasses ?? (o.stem === 'imagenet' ? 1000 : 10),
    layers: o.layers ?? 8,
    ...cellShape(o),
    inChannels: o.inChannels ?? 3,
    stem: o.stem ?? 'cifar',
    numOps: PRIMITIVES.length,
    edgeNormalization: true,
    makeEdge: (C, stride) => new PartialMixedOp(C, stride, k),
    derive: (a) => derivePcDarts(a.normal, a.reduce, a.betasNormal ?? [], a.betasReduce ?? [], steps),
  });
}
