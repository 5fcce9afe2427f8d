// Where tensors live during a run and how the engine runs there: the configured device, checked;
// batches moved there in the configured memory format; the engine switches (TF32, cuDNN, determinism).
import type { EngineConfig } from '../config/schema.js';
import type { Batch } from '../data/index.js';
import * as t from '../torch/index.js';

export class DeviceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceError';
  }
}

/** The configured device, refused with a clear message when this build of the addon cannot use it. */
export function checkDevice(device: string): t.Device {
  if (device !== 'cpu') {
    const info = t.buildInfo();
    if (!info.cudaCompiled)
      throw new DeviceError(
        `device ${device}: this addon was built against a CPU-only libtorch; rebuild with LIBTORCH=/path/to/a/cuda/libtorch bash scripts/setup.sh`,
      );
    if (!info.cudaAvailable)
      throw new DeviceError(`device ${device}: libtorch sees no CUDA device (driver or CUDA_VISIBLE_DEVICES?)`);
  }
  return device as t.Device;
}

/**
 * Moves a batch to the device (the loaders build channels-last CPU tensors), in NCHW memory format
 * when channelsLast is off; the CPU copies are freed.
 */
export function batchToDevice(b: Batch, device: t.Device, channelsLast = true): Batch {
  if (device === 'cpu' && channelsLast) return b;
  const x = t.scope(() => b.x.to({ device }).contiguous(channelsLast));
  const y = b.y ? b.y.to({ device }) : null;
  t.disposeAll([b.x, b.y]);
  return { ...b, x: t.keep(x), y: y && t.keep(y) };
}

/** The autocast device type of a run's device, or null when engine.autocast is off. */
export function autocastOf(e: EngineConfig, device: t.Device): t.AutocastDevice | null {
  return e.autocast === 'off' ? null : device === 'cpu' ? 'cpu' : 'cuda';
}

/**
 * Sets libtorch's process-wide switches for a run. deterministic also makes cuDNN deterministic,
 * turns its autotuning off and sets CUBLAS_WORKSPACE_CONFIG (cuBLAS needs it to be deterministic).
 */
export function applyEngine(e: EngineConfig, deterministic: boolean): void {
  if (deterministic && !process.env.CUBLAS_WORKSPACE_CONFIG) process.env.CUBLAS_WORKSPACE_CONFIG = ':4096:8';
  t.setEngineFlags({
    tf32Matmul: e.tf32Matmul,
    tf32Cudnn: e.tf32Cudnn,
    cudnnBenchmark: e.cudnnBenchmark && !deterministic,
    cudnnDeterministic: deterministic,
    deterministic,
  });
}
