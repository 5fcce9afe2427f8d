// Checkpoints: named tensors (weights, architecture parameters, optimizer buffers) in one
// safetensors file, with the JSON metadata that makes it resumable in its header, and a SHA-256
// over the whole of it (the metadata as stored, and every tensor's name, dtype, shape and bytes),
// so that a corrupt or edited file is refused rather than half-loaded or resumed into another run.
// Written atomically (files.ts), and only when every tensor is finite: a NaN or Inf in a weight,
// buffer or optimizer state stops the run with the last good checkpoint kept. The previous
// checkpoint can be kept as checkpoint.prev.
import { createHash } from 'node:crypto';
import { existsSync, linkSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as t from '../torch/index.js';
import type { OptimizerState } from '../torch/optim/optimizer.js';
import { RunDirError } from './errors.js';
import { osErrorText, readRunFile, tempPathFor, writeFileAtomic } from './files.js';

/** 2: the checksum covers the metadata (header key lbt.sha256). 1 (read only): tensors only. */
export const CHECKPOINT_FORMAT = 2 as const;
const META_KEY = 'lbt';
const SHA_KEY = 'lbt.sha256';
const OPTIM_PREFIX = 'optim/';

/** A checkpoint that cannot be read: names the file and what is wrong with it. */
export class CheckpointError extends Error {
  constructor(
    readonly path: string,
    what: string,
  ) {
    super(`checkpoint ${path}: ${what}`);
    this.name = 'CheckpointError';
  }
}

/** What the caller puts in a checkpoint besides tensors. All fields are plain JSON. */
export interface CheckpointMeta {
  kind: 'search' | 'train';
  /** The resolved config of the run. */
  config: unknown;
  /** Epoch in progress (0-based; within the stage for P-DARTS) and steps done in it. */
  epoch: number;
  stepInEpoch: number;
  /** Global optimisation steps done. */
  step: number;
  /** P-DARTS stage (0-based). */
  stage?: number;
  /** libtorch's CPU generator state, base64 (captureRng()). */
  rng: string;
  /** Each CUDA device's generator state, base64 (absent on a machine without CUDA devices). */
  cudaRng?: string[];
  /** Data-iterator positions, opaque to the checkpoint (e.g. {train: {epoch, cursor, permSeed}}). */
  dataIterators?: unknown;
  /** Anything else the loop needs to continue (P-DARTS ops still on, best accuracy...). */
  extra?: Record<string, unknown>;
  /** Records in the run's metrics.jsonl when it was written (a resume keeps exactly those). */
  records?: number;
}

/** The optimizer's scalars as stored in the header; its tensors live under optim/<name>/<key>. */
interface StoredOptimizer {
  kind: OptimizerState['kind'];
  step: number;
  lr: number;
  counts?: number[];
  tensors: string[];
}

interface StoredMeta extends CheckpointMeta {
  format: 1 | typeof CHECKPOINT_FORMAT;
  savedAt: string;
  optimizers: Record<string, StoredOptimizer>;
  /** Format 1 only: SHA-256 of the tensors (format 2 keeps the checksum of everything under SHA_KEY). */
  sha256?: string;
}

export interface Checkpoint {
  /** Model tensors by name, e.g. "teacher/cells.0.ops.3.weight", "arch/alphas_normal". */
  tensors: Map<string, t.Tensor>;
  /** Optimizer states by role ("weights", "arch", "student"). */
  optimizers: Record<string, OptimizerState>;
  meta: CheckpointMeta;
}

export interface LoadedCheckpoint extends Checkpoint {
  savedAt: string;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** libtorch's RNG states (CPU, and each CUDA device's) as base64, for CheckpointMeta. */
export function captureRng(): Pick<CheckpointMeta, 'rng' | 'cudaRng'> {
  const cuda = t.getCudaRngStates();
  return { rng: b64(t.getRngState()), ...(cuda.length > 0 && { cudaRng: cuda.map(b64) }) };
}

/**
 * Restores what captureRng() saved. CUDA states are restored for the devices present in both
 * (a resume with another number of GPUs continues, but not bit-exactly).
 */
export function restoreRng(meta: Pick<CheckpointMeta, 'rng' | 'cudaRng'>): void {
  t.setRngState(bytes(meta.rng));
  const saved = meta.cudaRng ?? [];
  const now = t.getCudaRngStates();
  if (saved.length > 0 && now.length > 0)
    t.setCudaRngStates(now.map((s, i) => (saved[i] !== undefined ? bytes(saved[i] as string) : s)));
}

/** Prefixes every name of `group` with `prefix/` (e.g. namespaced('teacher', params)). */
export function namespaced(prefix: string, group: ReadonlyMap<string, t.Tensor>): Map<string, t.Tensor> {
  return new Map([...group].map(([k, v]) => [`${prefix}/${k}`, v]));
}

/** The tensors of `all` whose name starts with `prefix/`, with the prefix removed. */
export function ungroup(prefix: string, all: ReadonlyMap<string, t.Tensor>): Map<string, t.Tensor> {
  const p = `${prefix}/`;
  return new Map([...all].filter(([k]) => k.startsWith(p)).map(([k, v]) => [k.slice(p.length), v]));
}

/** Feeds the tensors' names, dtypes, shapes and bytes, in name order, into `h`; returns the names of those not finite. */
function hashTensors(h: ReturnType<typeof createHash>, named: ReadonlyMap<string, t.Tensor>): string[] {
  const bad: string[] = [];
  for (const name of [...named.keys()].sort()) {
    const x = named.get(name)!;
    const d = x.data();
    if ((d instanceof Float32Array || d instanceof Float64Array) && !d.every(Number.isFinite)) bad.push(name);
    h.update(`${name}\0${x.dtype}\0${x.shape.join(',')}\0`);
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return bad;
}

/** SHA-256 of a format-2 checkpoint: its metadata text as stored, then its tensors. */
function digest(metaText: string, named: ReadonlyMap<string, t.Tensor>): { sha: string; nonFinite: string[] } {
  const h = createHash('sha256');
  h.update(`${metaText}\0`);
  const nonFinite = hashTensors(h, named);
  return { sha: h.digest('hex'), nonFinite };
}

/** SHA-256 of a format-1 checkpoint: its tensors only. */
function digestV1(named: ReadonlyMap<string, t.Tensor>): { sha: string; nonFinite: string[] } {
  const h = createHash('sha256');
  const nonFinite = hashTensors(h, named);
  return { sha: h.digest('hex'), nonFinite };
}

/** The path where the previous checkpoint is kept: checkpoint.safetensors → checkpoint.prev.safetensors. */
export function previousPath(path: string): string {
  const b = basename(path);
  const dot = b.lastIndexOf('.');
  return join(dirname(path), dot > 0 ? `${b.slice(0, dot)}.prev${b.slice(dot)}` : `${b}.prev`);
}

export interface SaveOptions {
  /** Keep the checkpoint being replaced at previousPath(path) (default true). */
  keepPrevious?: boolean;
  /** Fault injection for tests: runs after the new file is complete, before it replaces the old one. */
  beforeRename?: () => void;
}

/**
 * Writes a checkpoint atomically: the new file is complete and fsynced before it replaces `path`,
 * so a crash at any point leaves the previous checkpoint (or none), never a partial one. Throws
 * NonFiniteError (naming the tensors, `path` untouched) when a tensor holds NaN or Inf.
 */
export function saveCheckpoint(path: string, c: Checkpoint, o: SaveOptions = {}): void {
  const all = new Map(c.tensors);
  for (const k of all.keys())
    if (k.startsWith(OPTIM_PREFIX)) throw new CheckpointError(path, `tensor name "${k}" uses the reserved prefix optim/`);
  const optimizers: Record<string, StoredOptimizer> = {};
  for (const [role, s] of Object.entries(c.optimizers)) {
    const names: string[] = [];
    for (const [k, v] of s.tensors) {
      const n = `${OPTIM_PREFIX}${role}/${k}`;
      all.set(n, v);
      names.push(k);
    }
    optimizers[role] = { kind: s.kind, step: s.step, lr: s.lr, ...(s.counts && { counts: [...s.counts] }), tensors: names };
  }
  const meta: StoredMeta = { ...c.meta, format: CHECKPOINT_FORMAT, savedAt: new Date().toISOString(), optimizers };
  const metaText = JSON.stringify(meta);
  const { sha, nonFinite } = digest(metaText, all);
  if (nonFinite.length > 0) {
    const more = nonFinite.length > 3 ? ` and ${nonFinite.length - 3} more` : '';
    throw new t.NonFiniteError(`NaN or Inf in ${nonFinite.slice(0, 3).join(', ')}${more} (checkpoint not saved)`, path);
  }
  const bytes = t.encodeSafetensors(all, { [META_KEY]: metaText, [SHA_KEY]: sha });
  const prev = previousPath(path);
  writeFileAtomic(path, bytes, {
    beforeRename: () => {
      o.beforeRename?.();
      if (o.keepPrevious === false || !existsSync(path)) return;
      // keep the old file under its .prev name without a moment where `path` is missing
      const link = tempPathFor(prev);
      linkSync(path, link);
      renameSync(link, prev);
    },
  });
}

/** The most a checkpoint file may be (a file beyond it is refused rather than read). */
const MAX_CHECKPOINT_BYTES = 2 ** 40;

function readCheckpointFile(path: string): Uint8Array {
  try {
    // a plain Uint8Array, not a Buffer: decodeSafetensors slices it, and Buffer#slice is a view on a shared pool
    return new Uint8Array(readRunFile(path, 'checkpoint', MAX_CHECKPOINT_BYTES));
  } catch (e) {
    const why = e instanceof RunDirError ? e.message.slice(e.path.length + 2) : osErrorText(e);
    throw new CheckpointError(path, why.replace(/^cannot read the checkpoint: /, 'cannot read: '));
  }
}

/** Reads and verifies a checkpoint. The caller owns (and disposes) the returned tensors. */
export function loadCheckpoint(path: string): LoadedCheckpoint {
  const buf = readCheckpointFile(path);
  let decoded: t.Decoded;
  try {
    decoded = t.decodeSafetensors(buf, path);
  } catch (e) {
    throw new CheckpointError(path, `corrupt or truncated (${(e as Error).message})`);
  }
  const all = decoded.tensors;
  const fail = (what: string): never => {
    for (const x of all.values()) x.dispose();
    const p = previousPath(path);
    throw new CheckpointError(path, existsSync(p) ? `${what}; the previous checkpoint is ${p}` : what);
  };
  const metaText = decoded.metadata[META_KEY] ?? '';
  let meta: StoredMeta;
  try {
    meta = JSON.parse(metaText) as StoredMeta;
    if (typeof meta !== 'object' || meta === null) throw new Error();
  } catch {
    return fail('no lbt metadata in the header (not an lbt checkpoint?)');
  }
  const v2 = meta.format === CHECKPOINT_FORMAT;
  if (!v2 && meta.format !== 1) return fail(`format ${meta.format} is not ${CHECKPOINT_FORMAT}`);
  const d = v2 ? digest(metaText, all) : digestV1(all);
  if (d.sha !== (v2 ? decoded.metadata[SHA_KEY] : meta.sha256)) return fail('does not match its SHA-256 (corrupt or edited)');
  if (d.nonFinite.length > 0) return fail(`holds NaN or Inf in ${d.nonFinite[0]}: a run cannot continue from it`);
  const optimizers: Record<string, OptimizerState> = {};
  for (const [role, s] of Object.entries(meta.optimizers ?? {})) {
    const tensors = new Map<string, t.Tensor>();
    for (const k of s.tensors) {
      const n = `${OPTIM_PREFIX}${role}/${k}`;
      const x = all.get(n);
      if (!x) return fail(`optimizer ${role}: tensor ${n} is missing`);
      tensors.set(k, x);
      all.delete(n);
    }
    optimizers[role] = { kind: s.kind, step: s.step, lr: s.lr, tensors, ...(s.counts && { counts: s.counts }) };
  }
  const { format: _f, savedAt, optimizers: _o, sha256: _s, ...rest } = meta;
  return { tensors: all, optimizers, meta: rest, savedAt };
}

/** Frees every tensor of a loaded checkpoint (model tensors and optimizer buffers). */
export function disposeCheckpoint(c: Checkpoint): void {
  for (const x of c.tensors.values()) x.dispose();
  for (const s of Object.values(c.optimizers)) for (const x of s.tensors.values()) x.dispose();
}

/** Removes a checkpoint and its kept previous one (e.g. after a run completes, if asked to). */
export function removeCheckpoint(path: string): void {
  rmSync(path, { force: true });
  rmSync(previousPath(path), { force: true });
}
