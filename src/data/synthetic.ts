// A small synthetic dataset in the in-memory format, for tests and benchmarks (no files).
import { Rng } from './rng.js';
import type { ArraySource, DatasetMeta, LoadedDataset } from './source.js';

export interface SyntheticOptions {
  n: number;
  nTest?: number;
  height?: number;
  width?: number;
  channels?: number;
  numClasses?: number;
  seed?: number;
}

function part(origin: string, n: number, h: number, w: number, c: number, k: number, rng: Rng): ArraySource {
  const images = new Uint8Array(n * h * w * c);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = rng.int(k);
    labels[i] = label;
    // A class-dependent brightness plus noise, so that a model can learn something.
    const base = Math.floor((255 * (label + 0.5)) / k);
    for (let p = 0; p < h * w * c; p++) images[i * h * w * c + p] = Math.max(0, Math.min(255, base + rng.int(61) - 30));
  }
  return { kind: 'array', origin, n, height: h, width: w, channels: c, images, labels };
}

export function syntheticDataset(o: SyntheticOptions): LoadedDataset {
  const h = o.height ?? 32;
  const w = o.width ?? 32;
  const c = o.channels ?? 3;
  const k = o.numClasses ?? 10;
  const rng = new Rng(o.seed ?? 0);
  const train = part('synthetic:train', o.n, h, w, c, k, rng);
  const test = o.nTest ? part('synthetic:test', o.nTest, h, w, c, k, rng) : null;
  const meta: DatasetMeta = {
    name: 'synthetic',
    numClasses: k,
    classNames: Array.from({ length: k }, (_, i) => `class_${i}`),
    shape: [c, h, w],
    mean: new Array(c).fill(0.5),
    std: new Array(c).fill(0.25),
    style: 'cifar',
  };
  return { meta, train, test };
}
