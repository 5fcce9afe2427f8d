// Step statistics kept on the device. Each step adds its losses, accuracies and gradient norms as
// 0-dim tensors, which are summed where they are (no host read); read() fetches all of them in
// one host read (on a GPU, one wait for the device) and checks that the guarded ones are finite.
// The search reads at each step record and before each checkpoint, so a NaN stops the run before
// a bad checkpoint is written (the steps in between ran on NaN: nothing is written from them).
// With `eager`, each value is read as it is added and a non-finite one throws before its step
// applies (tests, gradcheck, one-off steps).
import { type Tensor, detach, disposeAll, keep, NonFiniteError, noGrad, scope, stack } from '../torch/index.js';

/** Every statistic, and for those that must be finite, the words that name it in an error. */
export const STATS = {
  'teacher.loss': 'teacher training loss',
  'teacher.acc': null,
  'teacher.gradNorm': 'teacher gradient norm',
  'arch.gradNorm': 'architecture gradient norm',
  'arch.teacherValLoss': "teacher validation loss at T'",
  'arch.studentValLoss': "student validation loss at S'",
  // the hypergradient's term sizes (hypergradient.ts TermSizes), on logged steps
  'arch.aV': null,
  'arch.gV': null,
  'arch.uA': null,
  'arch.uT': null,
  'student.loss': 'student training loss',
  'student.acc': null,
  'student.agreement': null,
  'student.pseudoAcc': null,
  'student.gradNorm': 'student gradient norm',
} as const satisfies Record<string, string | null>;

export type StatName = keyof typeof STATS;
export type Stats = Partial<Record<StatName, number>>;

export interface MeterReading {
  /** Mean over the values added since the last read, per statistic. */
  mean: Stats;
  /** The last value added, per statistic. */
  last: Stats;
  /** How many values were added since the last read, per statistic. */
  count: Stats;
}

function check(name: StatName, v: number): void {
  const what = STATS[name];
  if (what !== null && !Number.isFinite(v)) throw new NonFiniteError(`${what} is ${v}`);
}

export class StepMeter {
  readonly eager: boolean;
  #sum = new Map<StatName, Tensor>();
  #last = new Map<StatName, Tensor>();
  #count = new Map<StatName, number>();
  /** Eager mode: values read as they came. */
  #values = new Map<StatName, number[]>();

  constructor(o: { eager?: boolean } = {}) {
    this.eager = o.eager ?? false;
  }

  /** Adds a 0-dim value (any float dtype; not taken over: the caller's scope frees it). */
  add(name: StatName, value: Tensor): void {
    if (this.eager) {
      const v = value.item();
      check(name, v);
      this.#values.set(name, [...(this.#values.get(name) ?? []), v]);
      return;
    }
    noGrad(() => {
      const x = keep(scope(() => detach(value).to({ dtype: 'float64' }).reshape([])));
      const prev = this.#sum.get(name);
      this.#sum.set(name, prev ? keep(scope(() => prev.add(x))) : keep(scope(() => x.clone())));
      prev?.dispose();
      this.#last.get(name)?.dispose();
      this.#last.set(name, x);
    });
    this.#count.set(name, (this.#count.get(name) ?? 0) + 1);
  }

  /** Statistics added since the last read (none: an empty reading, no host read). */
  get pending(): boolean {
    return this.#count.size > 0 || this.#values.size > 0;
  }

  /**
   * Everything added since the last read, in one host read; then starts over. Throws
   * NonFiniteError naming the first guarded statistic whose mean is NaN or infinite.
   */
  read(): MeterReading {
    const out: MeterReading = { mean: {}, last: {}, count: {} };
    if (this.eager) {
      for (const [name, vs] of this.#values) {
        out.mean[name] = vs.reduce((a, b) => a + b, 0) / vs.length;
        out.last[name] = vs.at(-1) as number;
        out.count[name] = vs.length;
      }
      this.#values.clear();
      return out;
    }
    const names = [...this.#count.keys()];
    if (names.length === 0) return out;
    const flat = scope(() =>
      stack([...names.map((n) => this.#sum.get(n) as Tensor), ...names.map((n) => this.#last.get(n) as Tensor)]).toArray(),
    );
    names.forEach((n, i) => {
      const count = this.#count.get(n) as number;
      out.count[n] = count;
      out.mean[n] = (flat[i] as number) / count;
      out.last[n] = flat[names.length + i] as number;
    });
    this.clear();
    for (const n of names) check(n, out.mean[n] as number);
    return out;
  }

  /** Drops what was added since the last read, unread. */
  clear(): void {
    disposeAll([...this.#sum.values(), ...this.#last.values()]);
    this.#sum.clear();
    this.#last.clear();
    this.#count.clear();
    this.#values.clear();
  }

  dispose(): void {
    this.clear();
  }
}
