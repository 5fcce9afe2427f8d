// Standard layers with PyTorch's parameter names, shapes and initialisation.
import { ones, zeros, tensor } from '../creation.js';
import * as F from '../ops.js';
import type { Tensor } from '../tensor.js';
import { defaultInit } from './init.js';
import { Module } from './module.js';

/** A module mapping one tensor to one tensor. */
export abstract class Layer extends Module {
  abstract forward(x: Tensor): Tensor;
}

type Pair = number | readonly [number, number];

export interface Conv2dConfig {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

export class Conv2d extends Layer {
  declare weight: Tensor;
  declare bias: Tensor | null;
  readonly opts: F.Conv2dOptions;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: Pair,
    cfg: Conv2dConfig = {},
  ) {
    super();
    const groups = cfg.groups ?? 1;
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new RangeError(`Conv2d: channels ${inChannels}→${outChannels} are not divisible by groups=${groups}`);
    }
    const [kh, kw] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    this.opts = { stride: cfg.stride ?? 1, padding: cfg.padding ?? 0, dilation: cfg.dilation ?? 1, groups };
    this.registerParameter('weight', zeros([outChannels, inChannels / groups, kh, kw]));
    this.bias = null;
    if (cfg.bias ?? true) this.registerParameter('bias', zeros([outChannels]));
    defaultInit(this.weight, this.bias);
  }
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, this.opts);
  }
}

export class Linear extends Layer {
  declare weight: Tensor;
  declare bias: Tensor | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    cfg: { bias?: boolean } = {},
  ) {
    super();
    this.registerParameter('weight', zeros([outFeatures, inFeatures]));
    this.bias = null;
    if (cfg.bias ?? true) this.registerParameter('bias', zeros([outFeatures]));
    defaultInit(this.weight, this.bias);
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}

export interface BatchNormConfig {
  affine?: boolean;
  eps?: number;
  momentum?: number;
  trackRunningStats?: boolean;
}

/** nn.BatchNorm2d: batch statistics in training (running statistics updated), running ones in eval. */
export class BatchNorm2d extends Layer {
  declare weight: Tensor | null;
  declare bias: Tensor | null;
  declare runningMean: Tensor | null;
  declare runningVar: Tensor | null;
  declare numBatchesTracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number;
  constructor(
    readonly numFeatures: number,
    cfg: BatchNormConfig = {},
  ) {
    super();
    this.eps = cfg.eps ?? 1e-5;
    this.momentum = cfg.momentum ?? 0.1;
    this.weight = this.bias = this.runningMean = this.runningVar = this.numBatchesTracked = null;
    if (cfg.affine ?? true) {
      this.registerParameter('weight', ones([numFeatures]));
      this.registerParameter('bias', zeros([numFeatures]));
    }
    if (cfg.trackRunningStats ?? true) {
      this.registerBuffer('runningMean', zeros([numFeatures]));
      this.registerBuffer('runningVar', ones([numFeatures]));
      this.registerBuffer('numBatchesTracked', tensor([0], [], { dtype: 'int64' }));
    }
  }
  forward(x: Tensor): Tensor {
    const useBatch = this.training || this.runningMean === null;
    return F.batchNorm(x, {
      weight: this.weight,
      bias: this.bias,
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      training: useBatch,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
}

export class ReLU extends Layer {
  forward(x: Tensor): Tensor {
    return F.relu(x);
  }
}

export class Identity extends Layer {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export class MaxPool2d extends Layer {
  constructor(
    readonly kernel: Pair,
    readonly opts: F.PoolOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernel, this.opts);
  }
}

export class AvgPool2d extends Layer {
  constructor(
    readonly kernel: Pair,
    readonly opts: F.PoolOptions & { countIncludePad?: boolean } = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernel, this.opts);
  }
}

export class AdaptiveAvgPool2d extends Layer {
  constructor(readonly size: Pair) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.size);
  }
}

export class Dropout extends Layer {
  constructor(public p: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.p > 0 ? F.dropout(x, this.p, this.training) : x;
  }
}

/** Applies layers in order; children are named "0", "1", ... as in PyTorch. */
export class Sequential extends Layer {
  readonly layers: Layer[];
  constructor(...layers: Layer[]) {
    super();
    this.layers = layers;
    layers.forEach((l, i) => {
      this.registerModule(String(i), l);
    });
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const l of this.layers) h = l.forward(h);
    return h;
  }
}
