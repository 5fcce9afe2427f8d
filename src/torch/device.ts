// Devices and the engine switches GPU users expect: CUDA devices, memory and RNG state; TF32,
// cuDNN benchmark, deterministic kernels; autocast; the count of host reads (device syncs).
import { type CudaDeviceInfo, type CudaMemory, native } from './native.js';
import { Tensor } from './tensor.js';

export type { CudaDeviceInfo, CudaMemory };

/** The CUDA devices libtorch sees (none on a CPU build or without a GPU). */
export function cudaDevices(): CudaDeviceInfo[] {
  return native.cudaDevices();
}

/** Allocator statistics of one CUDA device, in bytes; resetPeak starts a new peak after reading. */
export function cudaMemory(device = 0, opts: { resetPeak?: boolean } = {}): CudaMemory {
  return native.cudaMemory(device, opts.resetPeak ?? false);
}

/** Waits for every queued CUDA kernel (a no-op without CUDA). */
export function cudaSynchronize(): void {
  native.cudaSynchronize();
}

/** The RNG state of every CUDA device, as bytes (for checkpoints); [] without CUDA. */
export function getCudaRngStates(): Uint8Array[] {
  return cudaDevices().map((d) => {
    const t = new Tensor(native.getCudaRngState(d.index));
    try {
      return t.data() as Uint8Array;
    } finally {
      t.dispose();
    }
  });
}

/** Restores what getCudaRngStates returned, device by device (the counts must agree). */
export function setCudaRngStates(states: readonly Uint8Array[]): void {
  const n = cudaDevices().length;
  if (states.length !== n) throw new RangeError(`setCudaRngStates: ${states.length} CUDA RNG state(s) for ${n} CUDA device(s)`);
  states.forEach((s, i) => {
    const t = new Tensor(native.fromBuffer(s, [s.length], 'uint8'));
    try {
      native.setCudaRngState(i, t.h);
    } finally {
      t.dispose();
    }
  });
}

/**
 * Process-wide engine switches (libtorch's global context), each named after the PyTorch setting:
 * tf32Matmul: torch.backends.cuda.matmul.allow_tf32; tf32Cudnn: torch.backends.cudnn.allow_tf32;
 * cudnnBenchmark: torch.backends.cudnn.benchmark; cudnnDeterministic: torch.backends.cudnn.deterministic;
 * deterministic: torch.use_deterministic_algorithms (an op without a deterministic kernel throws).
 */
export const ENGINE_FLAGS = ['tf32Matmul', 'tf32Cudnn', 'cudnnBenchmark', 'cudnnDeterministic', 'deterministic'] as const;
export type EngineFlag = (typeof ENGINE_FLAGS)[number];
export type EngineFlags = Record<EngineFlag, boolean>;

export function getEngineFlags(): EngineFlags {
  return Object.fromEntries(ENGINE_FLAGS.map((f) => [f, native.getFlag(f)])) as EngineFlags;
}

/** Sets the given switches; returns their previous values (pass them back to restore). */
export function setEngineFlags(flags: Partial<EngineFlags>): Partial<EngineFlags> {
  const prev: Partial<EngineFlags> = {};
  for (const f of ENGINE_FLAGS) {
    const v = flags[f];
    if (v !== undefined) prev[f] = native.setFlag(f, v);
  }
  return prev;
}

/** Deterministic algorithms where libtorch offers them (CPU kernels are deterministic already). */
export function setDeterministic(on: boolean): void {
  native.setFlag('deterministic', on);
}

export type AutocastDevice = 'cpu' | 'cuda';
export type AutocastDtype = 'bfloat16' | 'float16';

/**
 * Runs fn with autocast on for one device type (torch.autocast): matmuls and convolutions run in
 * dtype, precision-sensitive ops stay float32. Restores the previous state (and clears the cache
 * of casted weights) afterwards.
 */
export function withAutocast<T>(device: AutocastDevice, fn: () => T, dtype: AutocastDtype = 'bfloat16'): T {
  const prev = native.setAutocast(device, true, dtype);
  try {
    return fn();
  } finally {
    native.setAutocast(device, prev, dtype);
  }
}

export function isAutocast(device: AutocastDevice): boolean {
  return native.isAutocast(device);
}

/**
 * How many times tensor values were read into JS (item, data, toArray) since the process started.
 * On a GPU each read waits for the device, so a training step should make few; tests count them.
 */
export function hostReads(): number {
  return native.hostReads();
}
