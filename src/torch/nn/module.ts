// Module: named parameters, buffers and children, train/eval, state dicts, and
// functional substitution of parameters (for unrolled weights w' and w±).
import { noGrad } from '../autograd.js';
import { copyInPlace } from '../ops.js';
import { keep, type Tensor } from '../tensor.js';

type Slot = { owner: Module; field: string };

export abstract class Module {
  training = true;
  readonly #params: string[] = [];
  readonly #buffers: string[] = [];
  readonly #children: string[] = [];

  /** Registers a parameter stored in the field of the same name; it requires grad and outlives scopes. */
  protected registerParameter(name: string, t: Tensor): Tensor {
    if (!t.requiresGrad) t.requiresGrad = true;
    keep(t);
    if (!this.#params.includes(name)) this.#params.push(name);
    (this as unknown as Record<string, Tensor>)[name] = t;
    return t;
  }

  protected registerBuffer(name: string, t: Tensor): Tensor {
    keep(t);
    if (!this.#buffers.includes(name)) this.#buffers.push(name);
    (this as unknown as Record<string, Tensor>)[name] = t;
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    if (!this.#children.includes(name)) this.#children.push(name);
    (this as unknown as Record<string, Module>)[name] = m;
    return m;
  }

  #field<T>(name: string): T {
    return (this as unknown as Record<string, T>)[name] as T;
  }

  /** Children in registration order. */
  namedChildren(): [string, Module][] {
    return this.#children.map((n) => [n, this.#field<Module>(n)]);
  }

  #slots(kind: 'params' | 'buffers', prefix: string, out: [string, Slot][]): [string, Slot][] {
    const names = kind === 'params' ? this.#params : this.#buffers;
    for (const n of names) out.push([prefix + n, { owner: this, field: n }]);
    for (const [cn, c] of this.namedChildren()) c.#slots(kind, `${prefix}${cn}.`, out);
    return out;
  }

  namedParameters(): [string, Tensor][] {
    return this.#slots('params', '', []).map(([n, s]) => [n, s.owner.#field<Tensor>(s.field)]);
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }
  namedBuffers(): [string, Tensor][] {
    return this.#slots('buffers', '', []).map(([n, s]) => [n, s.owner.#field<Tensor>(s.field)]);
  }
  /** Number of scalar parameters (what the reference code's count_parameters counts). */
  numParameters(filter: (name: string) => boolean = () => true): number {
    let n = 0;
    for (const [name, p] of this.namedParameters()) if (filter(name)) n += p.numel;
    return n;
  }

  train(mode = true): this {
    this.training = mode;
    for (const [, c] of this.namedChildren()) c.train(mode);
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** Parameters and buffers by name (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /** Copies values into this module's tensors; every name must match in shape. */
  loadStateDict(state: ReadonlyMap<string, Tensor>, o: { strict?: boolean } = {}): void {
    const own = this.stateDict();
    const strict = o.strict ?? true;
    if (strict) {
      const missing = [...own.keys()].filter((k) => !state.has(k));
      const extra = [...state.keys()].filter((k) => !own.has(k));
      if (missing.length || extra.length) {
        throw new Error(`loadStateDict: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`);
      }
    }
    noGrad(() => {
      for (const [k, t] of own) {
        const src = state.get(k);
        if (!src) continue;
        const a = t.shape.join(',');
        const b = src.shape.join(',');
        if (a !== b) throw new Error(`loadStateDict: ${k} has shape [${a}] here and [${b}] in the state`);
        copyInPlace(t, src);
      }
    });
  }

  /**
   * Runs fn with some parameters (and buffers) replaced by other tensors, by name, then
   * restores the originals whatever happens. The module's own tensors are never written.
   */
  withTensors<T>(replacements: ReadonlyMap<string, Tensor>, fn: () => T): T {
    const slots = new Map([...this.#slots('params', '', []), ...this.#slots('buffers', '', [])]);
    const saved: [Slot, Tensor][] = [];
    try {
      for (const [name, t] of replacements) {
        const s = slots.get(name);
        if (!s) throw new Error(`withTensors: no parameter or buffer named ${name}`);
        const rec = s.owner as unknown as Record<string, Tensor>;
        saved.push([s, rec[s.field] as Tensor]);
        rec[s.field] = t;
      }
      return fn();
    } finally {
      for (const [s, t] of saved.reverse()) (s.owner as unknown as Record<string, Tensor>)[s.field] = t;
    }
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const [, t] of this.namedParameters()) t.dispose();
    for (const [, t] of this.namedBuffers()) t.dispose();
  }
}
