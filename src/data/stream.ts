// Batches straight into tensors, in a deterministic order that can be saved and resumed.
//
// The order of pass (epoch) e is permutation(n, deriveSeed(seed, e)); image k of that pass is
// augmented with Rng(deriveSeed(seed, AUG, e, k)). A batch is therefore a pure function of
// (seed, epoch, position), which is all the state there is: prefetching and resuming cannot
// change what a run sees. The next batch's pixels are prepared ahead, in the event loop
// (setImmediate) or, for image folders, in a DecodePool's worker threads; tensors are made
// synchronously on the main thread inside next(), outside any scope.
import * as t from '../torch/index.js';
import type { DecodePool } from './decode-pool.js';
import { DataConfigError } from './errors.js';
import { deriveSeed, permutation, Rng } from './rng.js';
import type { ImageSource } from './source.js';
import type { Transform } from './transforms.js';

/** A subset of a source: which images, and whether their labels may be used. */
export interface Subset {
  readonly name: string;
  readonly source: ImageSource;
  /** Positions in source. */
  readonly indices: Int32Array;
  /** False for D_u: batches carry y = null (source labels, if any, only for agreement reports). */
  readonly labelled: boolean;
}

export interface Batch {
  /** float32 [N, C, H, W], channels-last memory format. The caller disposes it. */
  x: t.Tensor;
  /** int64 [N], or null for unlabeled data. The caller disposes it. */
  y: t.Tensor | null;
  /** Source index of each image (into subset.source). */
  index: Int32Array;
  /** Pass and position of the batch's first image. */
  epoch: number;
  position: number;
}

export interface StreamOptions {
  batchSize: number;
  seed: number;
  /** 'epoch': passes of ceil(n/B) batches (floor with dropLast); 'infinite': full batches forever, crossing passes. */
  mode?: 'epoch' | 'infinite';
  /** Reshuffle each pass (default true); false keeps subset order (evaluation). */
  shuffle?: boolean;
  /** Epoch mode: drop a last short batch (default false, as the reference loaders). */
  dropLast?: boolean;
  /** Prepare the next batch ahead (default true): in the event loop, or in the pool's workers. */
  prefetch?: boolean;
  /** Worker threads for sources on disk (image folders); ignored for in-memory sources. */
  pool?: DecodePool;
}

/** Where a stream is: JSON-serialisable, saved with a checkpoint. */
export interface StreamState {
  format: 'lbt-stream/1';
  seed: number;
  epoch: number;
  position: number;
  /** deriveSeed(seed, epoch): the seed of this pass's permutation (checked on restore). */
  permSeed: number;
  n: number;
  batchSize: number;
  mode: 'epoch' | 'infinite';
}

interface Plan {
  epoch: number;
  position: number;
  /** Per image: pass, position in pass. */
  passes: Int32Array;
  positions: Int32Array;
  index: Int32Array;
  next: { epoch: number; position: number };
}

interface Prepared {
  key: string;
  x: Float32Array;
  y: BigInt64Array | null;
  index: Int32Array;
}

const AUG = 0xa06;
const HOST = { device: 'cpu' } as const;

export class BatchStream {
  readonly subset: Subset;
  readonly transform: Transform;
  readonly batchSize: number;
  readonly seed: number;
  readonly mode: 'epoch' | 'infinite';
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly prefetch: boolean;
  #epoch = 0;
  #position = 0;
  #perms = new Map<number, Int32Array>();
  #ready: Prepared | null = null;
  #pending: NodeJS.Immediate | null = null;
  #ahead: { key: string; promise: Promise<Prepared> } | null = null;
  #chain: Promise<void> = Promise.resolve();
  #pool: DecodePool | null;

  constructor(subset: Subset, transform: Transform, o: StreamOptions) {
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1)
      throw new DataConfigError('batchSize', `${o.batchSize} is not a positive integer`);
    if (subset.indices.length === 0) throw new DataConfigError(subset.name, 'the subset is empty');
    this.subset = subset;
    this.transform = transform;
    this.batchSize = o.batchSize;
    this.seed = o.seed >>> 0;
    this.mode = o.mode ?? 'epoch';
    this.shuffle = o.shuffle ?? true;
    this.dropLast = o.dropLast ?? false;
    this.prefetch = o.prefetch ?? true;
    this.#pool = o.pool ?? null;
    if (this.mode === 'epoch' && this.dropLast && this.length < this.batchSize) {
      throw new DataConfigError(subset.name, `${this.length} images give no full batch of ${this.batchSize} with dropLast`);
    }
  }

  get length(): number {
    return this.subset.indices.length;
  }

  /** Batches per pass in epoch mode (the last one short unless dropLast). */
  get stepsPerEpoch(): number {
    return this.dropLast ? Math.floor(this.length / this.batchSize) : Math.ceil(this.length / this.batchSize);
  }

  get epoch(): number {
    return this.#epoch;
  }

  state(): StreamState {
    return {
      format: 'lbt-stream/1',
      seed: this.seed,
      epoch: this.#epoch,
      position: this.#position,
      permSeed: deriveSeed(this.seed, this.#epoch),
      n: this.length,
      batchSize: this.batchSize,
      mode: this.mode,
    };
  }

  /** Continues from a saved state; it must come from a stream over the same subset and settings. */
  restore(s: StreamState): void {
    const bad = (f: string, d: string) => new DataConfigError(`stream state ${f}`, d);
    if (s.format !== 'lbt-stream/1') throw bad('format', `${String(s.format)} is not lbt-stream/1`);
    if (s.seed !== this.seed) throw bad('seed', `${s.seed}, this stream has seed ${this.seed}`);
    if (s.n !== this.length) throw bad('n', `saved over ${s.n} images, this stream has ${this.length}`);
    if (s.batchSize !== this.batchSize || s.mode !== this.mode)
      throw bad('batchSize/mode', `${s.batchSize}/${s.mode}, this stream has ${this.batchSize}/${this.mode}`);
    if (
      !Number.isInteger(s.epoch) ||
      s.epoch < 0 ||
      !Number.isInteger(s.position) ||
      s.position < 0 ||
      s.position >= this.length
    ) {
      throw bad('epoch/position', `${s.epoch}/${s.position} is outside a stream of ${this.length} images`);
    }
    if (s.permSeed !== deriveSeed(this.seed, s.epoch))
      throw bad('permSeed', `${s.permSeed} does not match seed ${s.seed} at epoch ${s.epoch}`);
    this.#cancel();
    this.#ready = null;
    this.#epoch = s.epoch;
    this.#position = s.position;
  }

  #perm(epoch: number): Int32Array {
    let p = this.#perms.get(epoch);
    if (!p) {
      const n = this.length;
      p = this.shuffle ? permutation(n, deriveSeed(this.seed, epoch)) : Int32Array.from({ length: n }, (_, i) => i);
      if (this.#perms.size >= 2) this.#perms.delete(Math.min(...this.#perms.keys()));
      this.#perms.set(epoch, p);
    }
    return p;
  }

  #plan(epoch: number, position: number): Plan {
    const n = this.length;
    const B = this.batchSize;
    if (this.mode === 'epoch' && this.dropLast && n - position < B) {
      epoch++;
      position = 0;
    }
    const count = this.mode === 'epoch' ? Math.min(B, n - position) : B;
    const passes = new Int32Array(count);
    const positions = new Int32Array(count);
    const index = new Int32Array(count);
    const start = { epoch, position };
    for (let k = 0; k < count; k++) {
      if (position === n) {
        epoch++;
        position = 0;
      }
      passes[k] = epoch;
      positions[k] = position;
      index[k] = this.subset.indices[this.#perm(epoch)[position]!]!;
      position++;
    }
    if (position === n || (this.mode === 'epoch' && this.dropLast && n - position < B)) {
      epoch++;
      position = 0;
    }
    return { ...start, passes, positions, index, next: { epoch, position } };
  }

  #seeds(plan: Plan): Uint32Array {
    return Uint32Array.from(plan.index, (_, k) => deriveSeed(this.seed, AUG, plan.passes[k]!, plan.positions[k]!));
  }

  #labels(plan: Plan): BigInt64Array | null {
    if (!this.subset.labelled) return null;
    const labels = this.subset.source.labels;
    if (!labels)
      throw new DataConfigError(this.subset.name, `labelled subset over ${this.subset.source.origin}, which has no labels`);
    return BigInt64Array.from(plan.index, (i) => BigInt(labels[i]!));
  }

  #produce(plan: Plan): Prepared {
    const [c, h, w] = this.transform.shape;
    const per = c * h * w;
    const seeds = this.#seeds(plan);
    const x = new Float32Array(plan.index.length * per);
    for (let k = 0; k < plan.index.length; k++) this.transform.write(plan.index[k]!, new Rng(seeds[k]!), x, k * per);
    return { key: `${plan.epoch}:${plan.position}`, x, y: this.#labels(plan), index: plan.index };
  }

  /** Through the worker pool when there is one and the source is on disk; else on this thread. */
  async #produceAsync(plan: Plan): Promise<Prepared> {
    const f = this.transform.folder;
    if (!this.#pool || !f) return this.#produce(plan);
    const y = this.#labels(plan);
    const files = Array.from(plan.index, (i) => f.files[i]!);
    const x = await this.#pool.batch({ files, seeds: this.#seeds(plan), meta: f.meta, aug: f.aug });
    return { key: `${plan.epoch}:${plan.position}`, x, y, index: plan.index };
  }

  #cancel(): void {
    if (this.#pending) clearImmediate(this.#pending);
    this.#pending = null;
    this.#ahead = null;
  }

  /** Makes the tensors (here, synchronously, outside any scope), advances, schedules the next batch. */
  #emit(plan: Plan, data: Prepared): Batch {
    const [c, h, w] = this.transform.shape;
    const count = data.index.length;
    // NHWC data viewed as NCHW is exactly the channels-last layout: no copy. Batches are host
    // tensors whatever the default device; runs move them with batchToDevice.
    const nhwc = t.tensor(data.x, [count, h, w, c], HOST);
    const x = t.keep(nhwc.permute([0, 3, 1, 2]));
    nhwc.dispose();
    const y = data.y ? t.keep(t.tensor(data.y, [count], HOST)) : null;
    this.#epoch = plan.next.epoch;
    this.#position = plan.next.position;
    if (this.prefetch) {
      const after = this.#plan(this.#epoch, this.#position);
      const key = `${after.epoch}:${after.position}`;
      if (this.#pool && this.transform.folder) {
        const promise = this.#produceAsync(after);
        promise.catch(() => {}); // a failure surfaces when next() awaits it
        this.#ahead = { key, promise };
      } else {
        this.#pending = setImmediate(() => {
          this.#pending = null;
          try {
            this.#ready = this.#produce(after);
          } catch {
            this.#ready = null; // next() makes it again and throws there, where the caller can catch it
          }
        });
      }
    }
    return { x, y, index: data.index, epoch: plan.epoch, position: plan.position };
  }

  /** The next batch, made now on this thread (a batch prepared in the event loop is used when it is there). */
  nextSync(): Batch {
    const ready = this.#ready;
    this.#cancel();
    this.#ready = null;
    const plan = this.#plan(this.#epoch, this.#position);
    const data = ready?.key === `${plan.epoch}:${plan.position}` ? ready : this.#produce(plan);
    return this.#emit(plan, data);
  }

  /** The next batch; with a decode pool, folder images are decoded in workers ahead of time. */
  next(): Promise<Batch> {
    const run = this.#chain.then(async () => {
      const plan = this.#plan(this.#epoch, this.#position);
      const key = `${plan.epoch}:${plan.position}`;
      const ahead = this.#ahead;
      const ready = this.#ready;
      this.#cancel();
      this.#ready = null;
      const data = ahead?.key === key ? await ahead.promise : ready?.key === key ? ready : await this.#produceAsync(plan);
      return this.#emit(plan, data);
    });
    this.#chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** The rest of the current epoch (epoch mode), batch by batch. */
  async *epochBatches(): AsyncGenerator<Batch> {
    if (this.mode !== 'epoch') throw new DataConfigError('mode', 'epochBatches() needs an epoch-mode stream');
    const e = this.#epoch;
    while (this.#epoch === e) yield this.nextSync();
  }

  /** The worker pool that decodes this stream's images, or null (made on this thread). */
  get pool(): DecodePool | null {
    return this.transform.folder ? this.#pool : null;
  }

  /** Cancels pending preparation (the pool, owned by the caller, stays open); the stream can still be used. */
  close(): void {
    this.#cancel();
    this.#ready = null;
  }
}
