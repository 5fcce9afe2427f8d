// Process-wide engine settings: threads, malloc, seeding, RNG state, build information.
import { availableParallelism } from 'node:os';
import { type BuildInfo, native } from './native.js';

export type { BuildInfo };
import { type Device, setDefaultDevice, Tensor } from './tensor.js';

let initialised = false;

/** Called once at load: all cores for intra-op threads, malloc thresholds (engine-notes). */
export function initRuntime(): void {
  if (initialised) return;
  initialised = true;
  native.tuneMalloc();
  const fromEnv = Number(process.env.LBT_NUM_THREADS ?? process.env.OMP_NUM_THREADS);
  native.setNumThreads(Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : availableParallelism());
  // scripts/gpu-check.sh runs the engine tests with LBT_DEFAULT_DEVICE=cuda
  const device = process.env.LBT_DEFAULT_DEVICE;
  if (device) {
    if (!/^(cpu|cuda(:\d+)?)$/.test(device)) throw new Error(`LBT_DEFAULT_DEVICE=${device}: not cpu, cuda or cuda:N`);
    setDefaultDevice(device as Device);
  }
}

export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setNumThreads: ${n} is not a positive integer`);
  native.setNumThreads(n);
}
export function getNumThreads(): number {
  return native.getNumThreads();
}

/** Seeds libtorch's default CPU generator (and CUDA's, when present). */
export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`manualSeed: ${seed} is not a non-negative integer`);
  native.manualSeed(seed);
}

/** The CPU generator's state as bytes (for checkpoints). */
export function getRngState(): Uint8Array {
  const t = new Tensor(native.getRngState());
  const bytes = t.data() as Uint8Array;
  t.dispose();
  return bytes;
}

export function setRngState(state: Uint8Array): void {
  const t = new Tensor(native.fromBuffer(state, [state.length], 'uint8'));
  try {
    native.setRngState(t.h);
  } finally {
    t.dispose();
  }
}

/** Frees the tensor-storage blocks the CPU caching allocator keeps for reuse; returns bytes freed. */
export function emptyCache(): number {
  return native.emptyCache();
}

/** Bytes held by the CPU caching allocator for reuse (not in use by tensors). */
export function cachedBytes(): number {
  return native.cachedBytes();
}

export function buildInfo(): BuildInfo {
  return native.buildInfo();
}
