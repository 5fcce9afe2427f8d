// SGD with momentum, nesterov and L2 weight decay, in PyTorch's order:
//   g ← grad + wd·p;  buf ← g (first step) or μ·buf + (1−dampening)·g;  g ← nesterov ? g + μ·buf : buf;  p ← p − lr·g
import { noGrad } from '../autograd.js';
import { addInPlace, clone, mulInPlace, to } from '../ops.js';
import { type Device, keep, scope, type Tensor } from '../tensor.js';
import type { Optimizer, OptimizerState } from './optimizer.js';

export interface SGDConfig {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD implements Optimizer {
  readonly params: Tensor[];
  lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  readonly #buffers = new Map<number, Tensor>();
  stepCount = 0;

  constructor(params: readonly Tensor[], cfg: SGDConfig) {
    if (!(cfg.lr >= 0)) throw new RangeError(`SGD: lr must be >= 0, got ${cfg.lr}`);
    this.params = [...params];
    this.lr = cfg.lr;
    this.momentum = cfg.momentum ?? 0;
    this.dampening = cfg.dampening ?? 0;
    this.weightDecay = cfg.weightDecay ?? 0;
    this.nesterov = cfg.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError('SGD: nesterov needs momentum > 0 and dampening 0');
    }
  }

  /** The momentum buffer of params[i] (null before its first step); the second-order architect reads it. */
  momentumBuffer(i: number): Tensor | null {
    return this.#buffers.get(i) ?? null;
  }

  step(): void {
    noGrad(() =>
      scope(() => {
        this.params.forEach((p, i) => {
          const grad = p.grad;
          if (grad === null) return;
          let g = grad;
          if (this.weightDecay !== 0) g = g.add(p, this.weightDecay);
          if (this.momentum !== 0) {
            let buf = this.#buffers.get(i);
            if (buf === undefined) {
              buf = keep(clone(g));
              this.#buffers.set(i, buf);
            } else {
              mulInPlace(buf, this.momentum);
              addInPlace(buf, g, 1 - this.dampening);
            }
            g = this.nesterov ? g.add(buf, this.momentum) : buf;
          }
          addInPlace(p, g, -this.lr);
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
    for (const [i, b] of this.#buffers) tensors.set(`momentum.${i}`, b);
    return { kind: 'sgd', step: this.stepCount, lr: this.lr, tensors };
  }

  loadStateDict(s: OptimizerState): void {
    if (s.kind !== 'sgd') throw new Error(`SGD.loadStateDict: state is for ${s.kind}`);
    this.dispose();
    this.stepCount = s.step;
    this.lr = s.lr;
    for (const [k, t] of s.tensors) {
      const i = Number(k.split('.')[1]);
      const p = this.params[i];
      if (!k.startsWith('momentum.') || p === undefined) throw new Error(`SGD.loadStateDict: unexpected entry ${k}`);
      if (p.shape.join() !== t.shape.join())
        throw new Error(`SGD.loadStateDict: ${k} has shape [${t.shape}], param [${p.shape}]`);
      this.#buffers.set(i, keep(to(t, { device: p.device as Device, dtype: p.dtype, copy: true }))); // onto the param's device
    }
  }

  dispose(): void {
    for (const b of this.#buffers.values()) b.dispose();
    this.#buffers.clear();
  }
}
