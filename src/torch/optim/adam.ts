// Adam with L2 weight decay added to the gradient (torch.optim.Adam, amsgrad off):
//   g ← grad + wd·p;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//   p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + eps)
import { noGrad } from '../autograd.js';
import { zerosLike } from '../creation.js';
import { addcdivInPlace, addcmulInPlace, addInPlace, mulInPlace, to } from '../ops.js';
import { type Device, keep, scope, type Tensor } from '../tensor.js';
import type { Optimizer, OptimizerState } from './optimizer.js';

export interface AdamConfig {
  lr: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
}

export class Adam implements Optimizer {
  readonly params: Tensor[];
  lr: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  stepCount = 0;
  readonly #m = new Map<number, Tensor>();
  readonly #v = new Map<number, Tensor>();
  readonly #t = new Map<number, number>();

  constructor(params: readonly Tensor[], cfg: AdamConfig) {
    if (!(cfg.lr >= 0)) throw new RangeError(`Adam: lr must be >= 0, got ${cfg.lr}`);
    this.params = [...params];
    this.lr = cfg.lr;
    this.betas = cfg.betas ?? [0.9, 0.999];
    this.eps = cfg.eps ?? 1e-8;
    this.weightDecay = cfg.weightDecay ?? 0;
  }

  step(): void {
    const [b1, b2] = this.betas;
    noGrad(() =>
      scope(() => {
        this.params.forEach((p, i) => {
          const grad = p.grad;
          if (grad === null) return;
          const g = this.weightDecay !== 0 ? grad.add(p, this.weightDecay) : grad;
          if (!this.#m.has(i)) {
            this.#m.set(i, keep(zerosLike(p)));
            this.#v.set(i, keep(zerosLike(p)));
            this.#t.set(i, 0);
          }
          const m = this.#m.get(i) as Tensor;
          const v = this.#v.get(i) as Tensor;
          const t = (this.#t.get(i) as number) + 1;
          this.#t.set(i, t);
          mulInPlace(m, b1);
          addInPlace(m, g, 1 - b1);
          mulInPlace(v, b2);
          addcmulInPlace(v, g, g, 1 - b2);
          const bc1 = 1 - b1 ** t;
          const bc2 = 1 - b2 ** t;
          const denom = v.sqrt().div(Math.sqrt(bc2)).add(this.eps);
          addcdivInPlace(p, m, denom, -this.lr / bc1);
        });
      }),
    );
    this.stepCount++;
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    for (const [i, m] of this.#m) {
      tensors.set(`m.${i}`, m);
      tensors.set(`v.${i}`, this.#v.get(i) as Tensor);
    }
    const counts = this.params.map((_, i) => this.#t.get(i) ?? 0);
    return { kind: 'adam', step: this.stepCount, lr: this.lr, tensors, counts };
  }

  loadStateDict(s: OptimizerState): void {
    if (s.kind !== 'adam') throw new Error(`Adam.loadStateDict: state is for ${s.kind}`);
    this.dispose();
    this.stepCount = s.step;
    this.lr = s.lr;
    for (const [k, t] of s.tensors) {
      const [kind, idx] = k.split('.');
      const i = Number(idx);
      const p = this.params[i];
      if ((kind !== 'm' && kind !== 'v') || p === undefined) throw new Error(`Adam.loadStateDict: unexpected entry ${k}`);
      if (p.shape.join() !== t.shape.join())
        throw new Error(`Adam.loadStateDict: ${k} has shape [${t.shape}], param [${p.shape}]`);
      (kind === 'm' ? this.#m : this.#v).set(i, keep(to(t, { device: p.device as Device, dtype: p.dtype, copy: true })));
      this.#t.set(i, s.counts?.[i] ?? s.step);
    }
  }

  dispose(): void {
    for (const b of [...this.#m.values(), ...this.#v.values()]) b.dispose();
    this.#m.clear();
    this.#v.clear();
    this.#t.clear();
  }
}
