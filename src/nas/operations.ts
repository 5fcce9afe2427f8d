// The candidate operations of the DARTS search space (darts-family.md §1). Every conv is
// bias-free and every operation keeps C channels. `affine` is off in search, on in evaluation.
import * as t from '../torch/index.js';
import type { Primitive } from './primitives.js';

const { BatchNorm2d, Conv2d, Identity, Layer, ReLU, Sequential } = t.nn;
type Layer = t.nn.Layer;

export type Stride = 1 | 2;
export type ZeroVariant = 'darts' | 'pdarts';

/**
 * The `none` operation. DARTS: `x*0` (stride 2: `x[:, :, ::2, ::2]*0`, so the size is ceil(H/2)).
 * P-DARTS: a fresh zero tensor of size floor(H/s), with no gradient path to x.
 */
export class Zero extends Layer {
  constructor(
    readonly stride: Stride,
    readonly variant: ZeroVariant = 'darts',
  ) {
    super();
  }
  forward(x: t.Tensor): t.Tensor {
    const s = this.stride;
    if (this.variant === 'pdarts') {
      const [n = 0, c = 0, h = 0, w = 0] = x.shape;
      return t.zeros([n, c, Math.floor(h / s), Math.floor(w / s)], { dtype: x.dtype, device: x.device as t.Device });
    }
    if (s === 1) return t.mul(x, 0);
    return t.scope(() => t.mul(t.slice(t.slice(x, 2, 0, null, s), 3, 0, null, s), 0));
  }
}

/** ReLU → Conv(k, stride, pad) → BN. Params (1x1): Cin·Cout (+2·Cout if affine). */
export class ReLUConvBN extends Layer {
  readonly op: t.nn.Sequential;
  constructor(cIn: number, cOut: number, kernel: number, stride: number, padding: number, affine: boolean) {
    super();
    this.op = this.registerModule(
      'op',
      new Sequential(
        new ReLU(),
        new Conv2d(cIn, cOut, kernel, { stride, padding, bias: false }),
        new BatchNorm2d(cOut, { affine }),
      ),
    );
  }
  forward(x: t.Tensor): t.Tensor {
    return this.op.forward(x);
  }
}

/** ReLU → depthwise Conv(k, stride, pad, dilation) → Conv1x1 → BN. Params: C·k² + C·Cout (+2·Cout). */
export class DilConv extends Layer {
  readonly op: t.nn.Sequential;
  constructor(cIn: number, cOut: number, kernel: number, stride: number, padding: number, dilation: number, affine: boolean) {
    super();
    this.op = this.registerModule(
      'op',
      new Sequential(
        new ReLU(),
        new Conv2d(cIn, cIn, kernel, { stride, padding, dilation, groups: cIn, bias: false }),
        new Conv2d(cIn, cOut, 1, { bias: false }),
        new BatchNorm2d(cOut, { affine }),
      ),
    );
  }
  forward(x: t.Tensor): t.Tensor {
    return this.op.forward(x);
  }
}

/** Two DilConv-like blocks without dilation; only the first depthwise conv is strided. */
export class SepConv extends Layer {
  readonly op: t.nn.Sequential;
  constructor(cIn: number, cOut: number, kernel: number, stride: number, padding: number, affine: boolean) {
    super();
    this.op = this.registerModule(
      'op',
      new Sequential(
        new ReLU(),
        new Conv2d(cIn, cIn, kernel, { stride, padding, groups: cIn, bias: false }),
        new Conv2d(cIn, cIn, 1, { bias: false }),
        new BatchNorm2d(cIn, { affine }),
        new ReLU(),
        new Conv2d(cIn, cIn, kernel, { stride: 1, padding, groups: cIn, bias: false }),
        new Conv2d(cIn, cOut, 1, { bias: false }),
        new BatchNorm2d(cOut, { affine }),
      ),
    );
  }
  forward(x: t.Tensor): t.Tensor {
    return this.op.forward(x);
  }
}

/**
 * Halves the resolution: ReLU → concat[Conv1x1 s2 (x), Conv1x1 s2 (x[:, :, 1:, 1:])] → BN.
 * Params: Cin·Cout (+2·Cout). On odd sizes the reference fails (the branches differ by one);
 * here the shifted branch is zero-padded at the far edge so both give ceil(H/2). Even sizes
 * are exactly the reference.
 */
export class FactorizedReduce extends Layer {
  readonly conv1: t.nn.Conv2d;
  readonly conv2: t.nn.Conv2d;
  readonly bn: t.nn.BatchNorm2d;
  constructor(cIn: number, cOut: number, affine: boolean) {
    super();
    if (cOut % 2 !== 0) throw new RangeError(`FactorizedReduce: output channels must be even, got ${cOut}`);
    this.conv1 = this.registerModule('conv1', new Conv2d(cIn, cOut / 2, 1, { stride: 2, bias: false }));
    this.conv2 = this.registerModule('conv2', new Conv2d(cIn, cOut / 2, 1, { stride: 2, bias: false }));
    this.bn = this.registerModule('bn', new BatchNorm2d(cOut, { affine }));
  }
  forward(x: t.Tensor): t.Tensor {
    return t.scope(() => {
      const r = t.relu(x);
      const [, , h = 0, w = 0] = r.shape;
      let shifted = t.slice(t.slice(r, 2, 1), 3, 1);
      if (h % 2 === 1 || w % 2 === 1) shifted = t.pad(shifted, [0, w % 2, 0, h % 2]);
      return this.bn.forward(t.cat([this.conv1.forward(r), this.conv2.forward(shifted)], 1));
    });
  }
}

export type OpFactory = (C: number, stride: Stride, affine: boolean) => Layer;

/** One entry per primitive: a missing or extra key is a type error. */
export const OPS: Readonly<Record<Primitive, OpFactory>> = Object.freeze({
  none: (_C, stride) => new Zero(stride),
  max_pool_3x3: (_C, stride) => new t.nn.MaxPool2d(3, { stride, padding: 1 }),
  avg_pool_3x3: (_C, stride) => new t.nn.AvgPool2d(3, { stride, padding: 1, countIncludePad: false }),
  skip_connect: (C, stride, affine) => (stride === 1 ? new Identity() : new FactorizedReduce(C, C, affine)),
  sep_conv_3x3: (C, stride, affine) => new SepConv(C, C, 3, stride, 1, affine),
  sep_conv_5x5: (C, stride, affine) => new SepConv(C, C, 5, stride, 2, affine),
  dil_conv_3x3: (C, stride, affine) => new DilConv(C, C, 3, stride, 2, 2, affine),
  dil_conv_5x5: (C, stride, affine) => new DilConv(C, C, 5, stride, 4, 2, affine),
});

/** The P-DARTS table: identical except for its `Zero` (a fresh floor-sized zero tensor). */
export const PDARTS_OPS: Readonly<Record<Primitive, OpFactory>> = Object.freeze({
  ...OPS,
  none: (_C: number, stride: Stride) => new Zero(stride, 'pdarts'),
});
