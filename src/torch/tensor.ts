// Tensor: a JS owner of one native libtorch tensor, with explicit lifetimes.
//
// Every tensor created while a scope() is open belongs to that scope and is freed when it
// closes, unless it is returned from the scope (it then moves to the enclosing scope) or
// marked with keep(). Outside any scope a tensor lives until dispose(); a finalizer frees
// forgotten ones as a backstop only (it never runs inside a synchronous loop). Native handles
// are numbers (slot and generation in the addon's table), so a handle is never reused.
import { type Handle, native } from './native.js';

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool' | 'bfloat16' | 'float16';
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;
export type Shape = readonly number[];

export class TensorDisposedError extends Error {
  constructor(what: string) {
    super(`${what}: the tensor was already disposed (used after dispose)`);
    this.name = 'TensorDisposedError';
  }
}

/**
 * An open scope: the tensors created while it was innermost (a tensor whose _owner is no longer
 * this scope, being disposed, kept or moved, is skipped and dropped at the next compaction).
 */
interface Scope {
  list: Tensor[];
  /** Compact the list when it reaches this length (twice its length after the last compaction). */
  limit: number;
}
const scopes: Scope[] = [];
const MIN_COMPACT = 1024;

/** Makes s free t when it closes; drops the entries that left s as the list grows (a long loop of explicit disposes). */
function own(s: Scope, t: Tensor): void {
  t._owner = s;
  s.list.push(t);
  if (s.list.length < s.limit) return;
  s.list = s.list.filter((x) => x._owner === s);
  s.limit = Math.max(MIN_COMPACT, 2 * s.list.length);
}

/** Frees what s still owns (a scope whose fn threw, or returned a Promise). */
function freeAll(s: Scope): void {
  for (const t of s.list) if (t._owner === s) t.dispose();
}
/**
 * Backstop: frees the native tensor of a Tensor collected without dispose(). Only tensors that no
 * scope owns are registered (created outside scopes, returned from the outermost one, or kept):
 * registering every tensor cost a third of a small op. A stale handle's dispose is a no-op.
 */
const backstop = new FinalizationRegistry<Handle>((h) => native.dispose(h));
let defaultDtype: 'float32' | 'float64' = 'float32';
let defaultDevice: Device = 'cpu';

export function getDefaultDtype(): 'float32' | 'float64' {
  return defaultDtype;
}
export function getDefaultDevice(): Device {
  return defaultDevice;
}

/** Runs fn with a different default float dtype (float64 for gradient checks). */
export function withDefaultDtype<T>(dtype: 'float32' | 'float64', fn: () => T): T {
  const prev = defaultDtype;
  defaultDtype = dtype;
  try {
    return fn();
  } finally {
    defaultDtype = prev;
  }
}

/** Sets the device new tensors are created on when none is named (the GPU check runs the tests on cuda). */
export function setDefaultDevice(device: Device): void {
  defaultDevice = device;
}

/** Runs fn with a different default device for tensor creation. */
export function withDefaultDevice<T>(device: Device, fn: () => T): T {
  const prev = defaultDevice;
  defaultDevice = device;
  try {
    return fn();
  } finally {
    defaultDevice = prev;
  }
}

export class Tensor {
  #h: Handle | null;
  /** The scope that frees this tensor when it closes (null: none, or kept). Internal to this file. */
  _owner: Scope | null = null;

  /** Whether the backstop watches this tensor (it does while no scope owns it). */
  #watched = false;

  /** Wraps a fresh native handle; registers it with the innermost open scope. */
  constructor(h: Handle) {
    this.#h = h;
    const s = scopes.at(-1);
    if (s) own(s, this);
    else this._unowned();
  }

  /** No scope frees this tensor any more: the backstop watches it. Internal to this file. */
  _unowned(): void {
    this._owner = null;
    if (this.#watched || this.#h === null) return;
    backstop.register(this, this.#h, this);
    this.#watched = true;
  }

  /** The native handle; throws if disposed. Internal to src/torch. */
  get h(): Handle {
    if (this.#h === null) throw new TensorDisposedError('tensor');
    return this.#h;
  }

  get disposed(): boolean {
    return this.#h === null;
  }

  dispose(): void {
    if (this.#h === null) return;
    native.dispose(this.#h);
    if (this.#watched) backstop.unregister(this);
    this.#h = null;
    this._owner = null;
  }

  get shape(): number[] {
    return native.shape(this.h);
  }
  get dtype(): DType {
    return native.dtype(this.h) as DType;
  }
  get device(): string {
    return native.device(this.h);
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return native.numel(this.h);
  }
  size(dim: number): number {
    const s = this.shape;
    const d = dim < 0 ? s.length + dim : dim;
    const v = s[d];
    if (v === undefined) throw new RangeError(`size: dim ${dim} out of range for shape [${s}]`);
    return v;
  }

  get requiresGrad(): boolean {
    return native.requiresGrad(this.h);
  }
  set requiresGrad(v: boolean) {
    native.setRequiresGrad(this.h, v);
  }
  /** Sets requires_grad in place and returns this, for chaining. */
  requiresGrad_(v = true): this {
    native.setRequiresGrad(this.h, v);
    return this;
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.h);
  }
  /** The accumulated gradient (a new handle sharing storage), or null. */
  get grad(): Tensor | null {
    const g = native.grad(this.h);
    return g === null ? null : new Tensor(g);
  }
  set grad(g: Tensor | null) {
    native.setGrad(this.h, g === null ? null : g.h);
  }

  /** Value of a one-element tensor. */
  item(): number {
    return native.item(this.h);
  }

  /** A copy of the data as a typed array of the tensor's dtype (int64 as BigInt64Array). */
  data(): Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array {
    if (this.dtype === 'bfloat16' || this.dtype === 'float16') {
      // no 16-bit float typed arrays in Node 20: read them as float32
      const f = new Tensor(native.to(this.h, 'float32', null, false));
      try {
        return f.data();
      } finally {
        f.dispose();
      }
    }
    const buf = native.toBuffer(this.h);
    switch (this.dtype) {
      case 'float32':
        return new Float32Array(buf);
      case 'float64':
        return new Float64Array(buf);
      case 'int64':
        return new BigInt64Array(buf);
      case 'int32':
        return new Int32Array(buf);
      default:
        return new Uint8Array(buf);
    }
  }

  /** A copy of the data as plain numbers, row-major. */
  toArray(): number[] {
    const d = this.data();
    return d instanceof BigInt64Array ? Array.from(d, Number) : Array.from(d);
  }

  backward(grad: Tensor | null = null, opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    native.backward(this.h, grad?.h ?? null, opts.retainGraph ?? false, opts.createGraph ?? false);
  }

  toString(): string {
    if (this.disposed) return 'Tensor(disposed)';
    return `Tensor(shape=[${this.shape}], dtype=${this.dtype}, device=${this.device})`;
  }
}

/** Number of native tensors alive in this process (for leak tests). */
export function liveTensors(): number {
  return native.liveCount();
}

function collect(value: unknown, out: Set<Tensor>, seen: Set<unknown>): void {
  if (value instanceof Tensor) {
    out.add(value);
    return;
  }
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, seen);
  }
}

/**
 * Runs fn and frees every tensor created inside it that is not part of its result.
 * Tensors in the result (directly, in arrays, Maps or plain objects) move to the enclosing
 * scope. fn must be synchronous: tensors created after an await would escape the scope.
 */
export function scope<T>(fn: () => T): T {
  const mine: Scope = { list: [], limit: MIN_COMPACT };
  scopes.push(mine);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    scopes.pop();
    freeAll(mine);
    throw err;
  }
  scopes.pop();
  if (result instanceof Promise) {
    freeAll(mine);
    throw new TypeError('scope(fn): fn must be synchronous (it returned a Promise)');
  }
  const kept = new Set<Tensor>();
  collect(result, kept, new Set());
  const parent = scopes.at(-1) ?? null;
  for (const t of mine.list) {
    if (t._owner !== mine) continue; // kept, disposed, or already moved
    if (!kept.has(t)) t.dispose();
    else if (parent) own(parent, t);
    else t._unowned();
  }
  return result;
}

/** Takes tensors out of every scope: they live until dispose(). Returns its argument. */
export function keep<T extends Tensor | readonly Tensor[]>(value: T): T {
  const ts: readonly Tensor[] = value instanceof Tensor ? [value] : (value as readonly Tensor[]);
  for (const t of ts) t._unowned();
  return value;
}

/** Disposes every tensor found in value (tensor, array, Map or plain object). */
export function disposeAll(value: unknown): void {
  const ts = new Set<Tensor>();
  collect(value, ts, new Set());
  for (const t of ts) t.dispose();
}
