// Where tensors live during a run: the configured device, checked, and batches moved there.
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

/** Moves a batch to the device (the loaders build CPU tensors); the CPU copies are freed. */
export function batchToDevice(b: Batch, device: t.Device): Batch {
  if (device === 'cpu') return b;
  const x = b.x.to({ device });
  const y = b.y ? b.y.to({ device }) : null;
  t.disposeAll([b.x, b.y]);
  return { ...b, x: t.keep(x), y: y && t.keep(y) };
}
