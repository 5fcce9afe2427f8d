// Differentiable ops over libtorch, as functions (methods.ts installs them as Tensor methods).
// Arguments are checked here so that errors name the op and the offending shape.
import { native } from './native.js';
import { type DType, type Device, Tensor } from './tensor.js';

const T = (h: ReturnType<typeof native.relu>) => new Tensor(h);
type Pair = number | readonly [number, number];
const pair = (v: Pair): number[] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

function scalarOrTensor(
  a: Tensor,
  b: Tensor | number,
  withTensor: (x: Tensor, y: Tensor) => Tensor,
  withScalar: (x: Tensor, s: number) => Tensor,
): Tensor {
  return typeof b === 'number' ? withScalar(a, b) : withTensor(a, b);
}

// elementwise
export const add = (a: Tensor, b: Tensor | number, alpha = 1): Tensor =>
  scalarOrTensor(
    a,
    b,
    (x, y) => T(native.add(x.h, y.h, alpha)),
    (x, s) => T(native.addScalar(x.h, s * alpha)),
  );
export const sub = (a: Tensor, b: Tensor | number, alpha = 1): Tensor =>
  scalarOrTensor(
    a,
    b,
    (x, y) => T(native.sub(x.h, y.h, alpha)),
    (x, s) => T(native.addScalar(x.h, -s * alpha)),
  );
export const mul = (a: Tensor, b: Tensor | number): Tensor =>
  scalarOrTensor(
    a,
    b,
    (x, y) => T(native.mul(x.h, y.h)),
    (x, s) => T(native.mulScalar(x.h, s)),
  );
export const div = (a: Tensor, b: Tensor | number): Tensor =>
  scalarOrTensor(
    a,
    b,
    (x, y) => T(native.div(x.h, y.h)),
    (x, s) => T(native.divScalar(x.h, s)),
  );
/** s - a */
export const rsub = (a: Tensor, s: number): Tensor => T(native.rsubScalar(a.h, s));
export const pow = (a: Tensor, e: number): Tensor => T(native.powScalar(a.h, e));
export const neg = (a: Tensor): Tensor => T(native.neg(a.h));
export const exp = (a: Tensor): Tensor => T(native.exp(a.h));
export const log = (a: Tensor): Tensor => T(native.log(a.h));
export const sqrt = (a: Tensor): Tensor => T(native.sqrt(a.h));
export const abs = (a: Tensor): Tensor => T(native.abs(a.h));
export const square = (a: Tensor): Tensor => T(native.square(a.h));
export const relu = (a: Tensor): Tensor => T(native.relu(a.h));
export const sigmoid = (a: Tensor): Tensor => T(native.sigmoid(a.h));
export const tanh = (a: Tensor): Tensor => T(native.tanh(a.h));
export const maximum = (a: Tensor, b: Tensor): Tensor => T(native.maximum(a.h, b.h));
export const minimum = (a: Tensor, b: Tensor): Tensor => T(native.minimum(a.h, b.h));
export const clamp = (a: Tensor, min: number | null, max: number | null = null): Tensor => T(native.clamp(a.h, min, max));
export const where = (cond: Tensor, a: Tensor, b: Tensor): Tensor => T(native.where(cond.h, a.h, b.h));
export const eq = (a: Tensor, b: Tensor | number): Tensor =>
  scalarOrTensor(
    a,
    b,
    (x, y) => T(native.eq(x.h, y.h)),
    (x, s) => T(native.eqScalar(x.h, s)),
  );
export const gt = (a: Tensor, b: Tensor | number): Tensor =>
  scalarOrTensor(
    a,
    b,
    (x, y) => T(native.gt(x.h, y.h)),
    (x, s) => T(native.gtScalar(x.h, s)),
  );
export const lt = (a: Tensor, b: Tensor | number): Tensor =>
  scalarOrTensor(
    a,
    b,
    (x, y) => T(native.lt(x.h, y.h)),
    (x, s) => T(native.ltScalar(x.h, s)),
  );
export const isfinite = (a: Tensor): Tensor => T(native.isfinite(a.h));
export const matmul = (a: Tensor, b: Tensor): Tensor => T(native.matmul(a.h, b.h));

// reductions
const dimsOf = (d: number | readonly number[] | undefined): number[] | null =>
  d === undefined ? null : typeof d === 'number' ? [d] : [...d];
export const sum = (a: Tensor, dim?: number | readonly number[], keepdim = false): Tensor =>
  T(native.sum(a.h, dimsOf(dim), keepdim));
export const mean = (a: Tensor, dim?: number | readonly number[], keepdim = false): Tensor =>
  T(native.mean(a.h, dimsOf(dim), keepdim));
export const amax = (a: Tensor, dim: number | readonly number[], keepdim = false): Tensor =>
  T(native.amax(a.h, dimsOf(dim) ?? [], keepdim));
export const amin = (a: Tensor, dim: number | readonly number[], keepdim = false): Tensor =>
  T(native.amin(a.h, dimsOf(dim) ?? [], keepdim));
export const argmax = (a: Tensor, dim?: number, keepdim = false): Tensor => T(native.argmax(a.h, dim ?? null, keepdim));
/** p-norm over all elements or over dims. */
export const norm = (a: Tensor, p = 2, dim?: number | readonly number[], keepdim = false): Tensor =>
  T(native.norm(a.h, p, dimsOf(dim), keepdim));

// shape
export const reshape = (a: Tensor, shape: readonly number[]): Tensor => T(native.reshape(a.h, [...shape]));
export const permute = (a: Tensor, dims: readonly number[]): Tensor => T(native.permute(a.h, [...dims]));
export const transpose = (a: Tensor, d0: number, d1: number): Tensor => T(native.transpose(a.h, d0, d1));
export const flatten = (a: Tensor, start = 0, end = -1): Tensor => T(native.flatten(a.h, start, end));
export const unsqueeze = (a: Tensor, dim: number): Tensor => T(native.unsqueeze(a.h, dim));
export const squeeze = (a: Tensor, dim: number): Tensor => T(native.squeeze(a.h, dim));
export const expand = (a: Tensor, shape: readonly number[]): Tensor => T(native.expand(a.h, [...shape]));
export function cat(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new RangeError('cat: needs at least one tensor');
  return T(
    native.cat(
      xs.map((x) => x.h),
      dim,
    ),
  );
}
export function stack(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new RangeError('stack: needs at least one tensor');
  return T(
    native.stack(
      xs.map((x) => x.h),
      dim,
    ),
  );
}
export const narrow = (a: Tensor, dim: number, start: number, length: number): Tensor =>
  T(native.narrow(a.h, dim, start, length));
/** Consecutive pieces of the given sizes along dim, as views; their gradient is one cat (narrow's is a zero-filled copy each). */
export const split = (a: Tensor, sizes: readonly number[], dim: number): Tensor[] => native.split(a.h, [...sizes], dim).map(T);
/**
 * narrow() over the same memory, with its own autograd version counter: an in-place write
 * through one alias does not mark the others (or the base) as modified. For buffers that are
 * slices of one tensor (BN running statistics), never for tensors that take part in gradients.
 */
export const narrowAlias = (a: Tensor, dim: number, start: number, length: number): Tensor =>
  T(native.narrowAlias(a.h, dim, start, length));
/** Python's a[..., start:end:step] along dim. */
export const slice = (a: Tensor, dim: number, start: number | null, end: number | null = null, step = 1): Tensor =>
  T(native.slice(a.h, dim, start, end, step));
export const indexSelect = (a: Tensor, dim: number, index: Tensor): Tensor => T(native.indexSelect(a.h, dim, index.h));
export const gather = (a: Tensor, dim: number, index: Tensor): Tensor => T(native.gather(a.h, dim, index.h));
/** Constant padding; pads as in torch.nn.functional.pad: [left, right, top, bottom, ...]. */
export const pad = (a: Tensor, pads: readonly number[], value = 0): Tensor => T(native.pad(a.h, [...pads], value));
export const contiguous = (a: Tensor, channelsLast = false): Tensor => T(native.contiguous(a.h, channelsLast));
export const clone = (a: Tensor): Tensor => T(native.clone(a.h));
export const detach = (a: Tensor): Tensor => T(native.detach(a.h));
export const isChannelsLast = (a: Tensor): boolean => native.isChannelsLast(a.h);
export function to(a: Tensor, o: { dtype?: DType; device?: Device; copy?: boolean }): Tensor {
  return T(native.to(a.h, o.dtype ?? null, o.device ?? null, o.copy ?? false));
}

// nn
export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}
export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null = null, o: Conv2dOptions = {}): Tensor {
  const groups = o.groups ?? 1;
  const xs = x.shape;
  const ws = w.shape;
  if (xs.length !== 4) throw new RangeError(`conv2d: input must be [N, C, H, W], got [${xs}]`);
  if (ws.length !== 4) throw new RangeError(`conv2d: weight must be [Cout, Cin/groups, kH, kW], got [${ws}]`);
  if (xs[1] !== (ws[1] as number) * groups) {
    throw new RangeError(
      `conv2d: input has ${xs[1]} channels but weight [${ws}] with groups=${groups} expects ${(ws[1] as number) * groups}`,
    );
  }
  const stride = pair(o.stride ?? 1);
  const padding = pair(o.padding ?? 0);
  if (ws[2] === 1 && ws[3] === 1 && padding[0] === 0 && padding[1] === 0 && (stride[0] !== 1 || stride[1] !== 1)) {
    // A strided 1x1 convolution reads every stride-th pixel: slice, then convolve with stride 1.
    // Same result; it also avoids a oneDNN 2.6 kernel in Debian's libtorch 1.13 whose backward
    // corrupts the heap on channels-last input (e.g. [8,8,56,56] → 4 channels, stride 2; Python
    // torch 1.13 crashes the same way).
    const rows = slice(x, 2, 0, null, stride[0]);
    const sub = slice(rows, 3, 0, null, stride[1]);
    const out = T(native.conv2d(sub.h, w.h, bias?.h ?? null, [1, 1], [0, 0], [1, 1], groups));
    rows.dispose();
    sub.dispose();
    return out;
  }
  return T(native.conv2d(x.h, w.h, bias?.h ?? null, stride, padding, pair(o.dilation ?? 1), groups));
}
export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  training: boolean;
  momentum?: number;
  eps?: number;
}
export function batchNorm(x: Tensor, o: BatchNormOptions): Tensor {
  return T(
    native.batchNorm(
      x.h,
      o.weight?.h ?? null,
      o.bias?.h ?? null,
      o.runningMean?.h ?? null,
      o.runningVar?.h ?? null,
      o.training,
      o.momentum ?? 0.1,
      o.eps ?? 1e-5,
    ),
  );
}
export interface PoolOptions {
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
}
export const maxPool2d = (x: Tensor, kernel: Pair, o: PoolOptions & { dilation?: Pair } = {}): Tensor =>
  T(
    native.maxPool2d(
      x.h,
      pair(kernel),
      pair(o.stride ?? kernel),
      pair(o.padding ?? 0),
      pair(o.dilation ?? 1),
      o.ceilMode ?? false,
    ),
  );
export const avgPool2d = (x: Tensor, kernel: Pair, o: PoolOptions & { countIncludePad?: boolean } = {}): Tensor =>
  T(
    native.avgPool2d(
      x.h,
      pair(kernel),
      pair(o.stride ?? kernel),
      pair(o.padding ?? 0),
      o.ceilMode ?? false,
      o.countIncludePad ?? true,
    ),
  );
export const adaptiveAvgPool2d = (x: Tensor, size: Pair): Tensor => T(native.adaptiveAvgPool2d(x.h, pair(size)));
export function linear(x: Tensor, w: Tensor, bias: Tensor | null = null): Tensor {
  const xs = x.shape;
  const ws = w.shape;
  if (xs.at(-1) !== ws[1])
    throw new RangeError(`linear: input [${xs}] has ${xs.at(-1)} features but weight [${ws}] expects ${ws[1]}`);
  return T(native.linear(x.h, w.h, bias?.h ?? null));
}
export const softmax = (x: Tensor, dim: number): Tensor => T(native.softmax(x.h, dim));
export const logSoftmax = (x: Tensor, dim: number): Tensor => T(native.logSoftmax(x.h, dim));
export const dropout = (x: Tensor, p: number, training: boolean): Tensor => T(native.dropout(x.h, p, training));

export type Reduction = 'none' | 'mean' | 'sum';
const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

/** Cross-entropy of logits [N, K] with hard labels (int64 [N]), optional label smoothing. */
export function crossEntropy(logits: Tensor, target: Tensor, o: { reduction?: Reduction; labelSmoothing?: number } = {}): Tensor {
  const ls = logits.shape;
  const ts = target.shape;
  if (ls.length !== 2) throw new RangeError(`crossEntropy: logits must be [N, K], got [${ls}]`);
  if (ts.length !== 1 || ts[0] !== ls[0]) throw new RangeError(`crossEntropy: target must be [${ls[0]}], got [${ts}]`);
  if (target.dtype !== 'int64') throw new TypeError(`crossEntropy: target must be int64 class indices, got ${target.dtype}`);
  return T(native.crossEntropy(logits.h, target.h, REDUCTION[o.reduction ?? 'mean'], o.labelSmoothing ?? 0));
}

/** Cross-entropy with soft targets p: -(1/N) Σ_i Σ_k p_ik log softmax(logits)_ik. */
export function softCrossEntropy(logits: Tensor, probs: Tensor, o: { reduction?: Reduction } = {}): Tensor {
  const ls = logits.shape;
  const ps = probs.shape;
  if (ls.length !== 2 || ps.length !== 2 || ls[0] !== ps[0] || ls[1] !== ps[1]) {
    throw new RangeError(`softCrossEntropy: logits [${ls}] and target probabilities [${ps}] must both be [N, K]`);
  }
  const lsm = logSoftmax(logits, 1);
  const prod = mul(probs, lsm);
  lsm.dispose();
  const perSample = sum(prod, 1);
  prod.dispose();
  const r = o.reduction ?? 'mean';
  if (r === 'none') {
    const out = neg(perSample);
    perSample.dispose();
    return out;
  }
  const red = r === 'mean' ? mean(perSample) : sum(perSample);
  perSample.dispose();
  const out = neg(red);
  red.dispose();
  return out;
}

// in place (no autograd; for optimizers, buffers and weight shifts)
export const addInPlace = (a: Tensor, b: Tensor, alpha = 1): void => native.add_(a.h, b.h, alpha);
/** a *= s, s a number or a tensor broadcast to a (e.g. a 0-dim scale computed on the device). */
export const mulInPlace = (a: Tensor, s: number | Tensor): void =>
  typeof s === 'number' ? native.mul_(a.h, s) : native.mulTensor_(a.h, s.h);
export const addcmulInPlace = (a: Tensor, b: Tensor, c: Tensor, value = 1): void => native.addcmul_(a.h, b.h, c.h, value);
export const addcdivInPlace = (a: Tensor, b: Tensor, c: Tensor, value = 1): void => native.addcdiv_(a.h, b.h, c.h, value);
export const copyInPlace = (a: Tensor, b: Tensor): void => native.copy_(a.h, b.h);
export const zeroInPlace = (a: Tensor): void => native.zero_(a.h);
export const fillInPlace = (a: Tensor, v: number): void => native.fill_(a.h, v);
export const uniformInPlace = (a: Tensor, lo: number, hi: number): void => native.uniform_(a.h, lo, hi);
export const normalInPlace = (a: Tensor, mean: number, std: number): void => native.normal_(a.h, mean, std);
