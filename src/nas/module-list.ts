// A list of child modules registered as "0", "1", ... (PyTorch's nn.ModuleList naming).
import { nn } from '../torch/index.js';

export class ModuleList<M extends nn.Module> extends nn.Module {
  readonly items: readonly M[];
  constructor(items: readonly M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => {
      this.registerModule(String(i), m);
    });
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): M {
    const m = this.items[i];
    if (m === undefined) throw new RangeError(`ModuleList: index ${i} out of range (length ${this.items.length})`);
    return m;
  }
}
