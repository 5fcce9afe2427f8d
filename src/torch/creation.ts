// Tensor creation: from data, constants and random draws (default dtype and device apply).
import { native } from './native.js';
import { type Device, type DType, getDefaultDevice, getDefaultDtype, type Shape, Tensor } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

function opts(o: CreateOptions | undefined): [string, string] {
  return [o?.dtype ?? getDefaultDtype(), o?.device ?? getDefaultDevice()];
}

function checkShape(what: string, shape: Shape): number[] {
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) throw new RangeError(`${what}: shape [${shape}] must hold non-negative integers`);
  }
  return [...shape];
}

function finish(t: Tensor, o: CreateOptions | undefined): Tensor {
  if (o?.requiresGrad) t.requiresGrad = true;
  return t;
}

type Data = readonly number[] | Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array;

/** A tensor holding a copy of data; shape defaults to [data.length]. */
export function tensor(data: Data, shape?: Shape, o?: CreateOptions): Tensor {
  const dtype =
    o?.dtype ??
    (data instanceof BigInt64Array
      ? 'int64'
      : data instanceof Int32Array
        ? 'int32'
        : data instanceof Uint8Array
          ? 'uint8'
          : data instanceof Float32Array
            ? 'float32'
            : data instanceof Float64Array
              ? 'float64'
              : getDefaultDtype());
  const sh = checkShape('tensor', shape ?? [data.length]);
  const n = sh.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new RangeError(`tensor: ${data.length} values do not fill shape [${sh}] (${n})`);
  let buf: ArrayBufferView;
  switch (dtype) {
    case 'float32':
    case 'bfloat16':
    case 'float16':
      buf = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>, Number);
      break;
    case 'float64':
      buf = data instanceof Float64Array ? data : Float64Array.from(data as ArrayLike<number>, Number);
      break;
    case 'int64':
      buf = data instanceof BigInt64Array ? data : BigInt64Array.from(data as ArrayLike<number>, (v) => BigInt(v));
      break;
    case 'int32':
      buf = data instanceof Int32Array ? data : Int32Array.from(data as ArrayLike<number>, Number);
      break;
    case 'uint8':
    case 'bool':
      buf = data instanceof Uint8Array ? data : Uint8Array.from(data as ArrayLike<number>, Number);
      break;
  }
  let t = new Tensor(native.fromBuffer(buf, sh, dtype === 'bfloat16' || dtype === 'float16' ? 'float32' : dtype));
  if (t.dtype !== dtype) {
    const cast = new Tensor(native.to(t.h, dtype, null, false));
    t.dispose();
    t = cast;
  }
  const device = o?.device ?? getDefaultDevice();
  if (device !== 'cpu') {
    const moved = new Tensor(native.to(t.h, null, device, false));
    t.dispose();
    t = moved;
  }
  return finish(t, o);
}

export function scalar(v: number, o?: CreateOptions): Tensor {
  return tensor([v], [], o);
}

export function zeros(shape: Shape, o?: CreateOptions): Tensor {
  return finish(new Tensor(native.zeros(checkShape('zeros', shape), ...opts(o))), o);
}
export function ones(shape: Shape, o?: CreateOptions): Tensor {
  return finish(new Tensor(native.ones(checkShape('ones', shape), ...opts(o))), o);
}
export function full(shape: Shape, value: number, o?: CreateOptions): Tensor {
  return finish(new Tensor(native.full(checkShape('full', shape), value, ...opts(o))), o);
}
export function randn(shape: Shape, o?: CreateOptions): Tensor {
  return finish(new Tensor(native.randn(checkShape('randn', shape), ...opts(o))), o);
}
/** Uniform on [0, 1). */
export function rand(shape: Shape, o?: CreateOptions): Tensor {
  return finish(new Tensor(native.rand(checkShape('rand', shape), ...opts(o))), o);
}
/** Uniform on [low, high). */
export function uniform(shape: Shape, low: number, high: number, o?: CreateOptions): Tensor {
  const r = rand(shape, { ...o, requiresGrad: false });
  native.mul_(r.h, high - low);
  const t = new Tensor(native.addScalar(r.h, low));
  r.dispose();
  return finish(t, o);
}
export function randint(low: number, high: number, shape: Shape, o?: CreateOptions): Tensor {
  const device = o?.device ?? getDefaultDevice();
  return new Tensor(native.randint(low, high, checkShape('randint', shape), o?.dtype ?? 'int64', device));
}
export function randperm(n: number, o?: CreateOptions): Tensor {
  return new Tensor(native.randperm(n, o?.dtype ?? 'int64', o?.device ?? getDefaultDevice()));
}
export function arange(start: number, end?: number, step = 1, o?: CreateOptions): Tensor {
  const [s, e] = end === undefined ? [0, start] : [start, end];
  return new Tensor(native.arange(s, e, step, o?.dtype ?? 'int64', o?.device ?? getDefaultDevice()));
}
export function zerosLike(x: Tensor): Tensor {
  return new Tensor(native.zerosLike(x.h));
}
export function onesLike(x: Tensor): Tensor {
  return new Tensor(native.onesLike(x.h));
}
export function randnLike(x: Tensor): Tensor {
  return new Tensor(native.randnLike(x.h));
}
/** Bernoulli draws with probabilities p (elementwise), or with one probability in x's shape. */
export function bernoulli(p: Tensor, prob?: number): Tensor {
  return new Tensor(prob === undefined ? native.bernoulli(p.h) : native.bernoulliScalar(p.h, prob));
}
