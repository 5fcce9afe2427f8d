// Loads the libtorch addon built from native/ and types its surface.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An opaque native tensor handle; only this package's Tensor class touches it. */
export interface Handle {
  readonly __handle: unique symbol;
}
type H = Handle;
type Opt<T> = T | null;

export interface BuildInfo {
  version: string;
  config: string;
  parallel: string;
  mkldnn: boolean;
  cudaCompiled: boolean;
  cudaAvailable: boolean;
  cudaDeviceCount: number;
  cudnnAvailable: boolean;
  /** The CUDA runtime headers were found at build time (device properties, memory statistics). */
  cudaHeaders: boolean;
}

export interface CudaDeviceInfo {
  index: number;
  name: string;
  /** bytes */
  totalMemory?: number;
  /** compute capability, "9.0" */
  capability?: string;
  multiProcessors?: number;
}

export interface CudaMemory {
  allocated: number;
  peakAllocated: number;
  reserved: number;
  peakReserved: number;
}

export interface NativeBinding {
  dispose(h: H): void;
  isAlive(h: H): boolean;
  // creation
  zeros(shape: number[], dtype: string, device: string): H;
  ones(shape: number[], dtype: string, device: string): H;
  full(shape: number[], value: number, dtype: string, device: string): H;
  randn(shape: number[], dtype: string, device: string): H;
  rand(shape: number[], dtype: string, device: string): H;
  randint(low: number, high: number, shape: number[], dtype: string, device: string): H;
  randperm(n: number, dtype: string, device: string): H;
  arange(start: number, end: number, step: number, dtype: string, device: string): H;
  bernoulli(p: H): H;
  bernoulliScalar(like: H, p: number): H;
  zerosLike(x: H): H;
  onesLike(x: H): H;
  randnLike(x: H): H;
  fromBuffer(data: ArrayBufferView, shape: number[], dtype: string): H;
  toBuffer(x: H): ArrayBuffer;
  // elementwise
  add(a: H, b: H, alpha: number): H;
  sub(a: H, b: H, alpha: number): H;
  mul(a: H, b: H): H;
  div(a: H, b: H): H;
  addScalar(a: H, s: number): H;
  mulScalar(a: H, s: number): H;
  divScalar(a: H, s: number): H;
  powScalar(a: H, s: number): H;
  rsubScalar(a: H, s: number): H;
  neg(a: H): H;
  exp(a: H): H;
  log(a: H): H;
  sqrt(a: H): H;
  abs(a: H): H;
  square(a: H): H;
  relu(a: H): H;
  sigmoid(a: H): H;
  tanh(a: H): H;
  maximum(a: H, b: H): H;
  minimum(a: H, b: H): H;
  clamp(a: H, min: Opt<number>, max: Opt<number>): H;
  where(c: H, a: H, b: H): H;
  eq(a: H, b: H): H;
  gt(a: H, b: H): H;
  lt(a: H, b: H): H;
  eqScalar(a: H, s: number): H;
  gtScalar(a: H, s: number): H;
  ltScalar(a: H, s: number): H;
  isfinite(a: H): H;
  matmul(a: H, b: H): H;
  // reductions
  sum(a: H, dims: Opt<number[]>, keepdim: boolean): H;
  mean(a: H, dims: Opt<number[]>, keepdim: boolean): H;
  amax(a: H, dims: number[], keepdim: boolean): H;
  amin(a: H, dims: number[], keepdim: boolean): H;
  argmax(a: H, dim: Opt<number>, keepdim: boolean): H;
  norm(a: H, p: number, dims: Opt<number[]>, keepdim: boolean): H;
  // shape
  reshape(a: H, shape: number[]): H;
  permute(a: H, dims: number[]): H;
  transpose(a: H, d0: number, d1: number): H;
  flatten(a: H, start: number, end: number): H;
  unsqueeze(a: H, dim: number): H;
  squeeze(a: H, dim: number): H;
  expand(a: H, shape: number[]): H;
  cat(xs: H[], dim: number): H;
  stack(xs: H[], dim: number): H;
  narrow(a: H, dim: number, start: number, length: number): H;
  split(a: H, sizes: number[], dim: number): H[];
  narrowAlias(a: H, dim: number, start: number, length: number): H;
  slice(a: H, dim: number, start: Opt<number>, end: Opt<number>, step: number): H;
  indexSelect(a: H, dim: number, index: H): H;
  gather(a: H, dim: number, index: H): H;
  pad(a: H, pads: number[], value: number): H;
  contiguous(a: H, channelsLast: boolean): H;
  clone(a: H): H;
  detach(a: H): H;
  to(a: H, dtype: Opt<string>, device: Opt<string>, copy: boolean): H;
  // nn
  conv2d(x: H, w: H, b: Opt<H>, stride: number[], padding: number[], dilation: number[], groups: number): H;
  batchNorm(x: H, w: Opt<H>, b: Opt<H>, rm: Opt<H>, rv: Opt<H>, training: boolean, momentum: number, eps: number): H;
  maxPool2d(x: H, k: number[], s: number[], p: number[], d: number[], ceil: boolean): H;
  avgPool2d(x: H, k: number[], s: number[], p: number[], ceil: boolean, countIncludePad: boolean): H;
  adaptiveAvgPool2d(x: H, size: number[]): H;
  linear(x: H, w: H, b: Opt<H>): H;
  softmax(x: H, dim: number): H;
  logSoftmax(x: H, dim: number): H;
  crossEntropy(logits: H, target: H, reduction: number, labelSmoothing: number): H;
  dropout(x: H, p: number, train: boolean): H;
  // in place
  add_(a: H, b: H, alpha: number): void;
  mul_(a: H, s: number): void;
  mulTensor_(a: H, b: H): void;
  addcmul_(a: H, b: H, c: H, value: number): void;
  addcdiv_(a: H, b: H, c: H, value: number): void;
  copy_(a: H, b: H): void;
  zero_(a: H): void;
  fill_(a: H, v: number): void;
  uniform_(a: H, lo: number, hi: number): void;
  normal_(a: H, mean: number, std: number): void;
  // metadata and autograd
  shape(a: H): number[];
  dtype(a: H): string;
  device(a: H): string;
  numel(a: H): number;
  item(a: H): number;
  isChannelsLast(a: H): boolean;
  requiresGrad(a: H): boolean;
  setRequiresGrad(a: H, v: boolean): void;
  isLeaf(a: H): boolean;
  grad(a: H): Opt<H>;
  setGrad(a: H, g: Opt<H>): void;
  backward(a: H, grad: Opt<H>, retainGraph: boolean, createGraph: boolean): void;
  autogradGrad(
    outputs: H[],
    inputs: H[],
    gradOutputs: Opt<H[]>,
    retainGraph: boolean,
    createGraph: boolean,
    allowUnused: boolean,
  ): Opt<H>[];
  setGradEnabled(v: boolean): boolean;
  isGradEnabled(): boolean;
  // runtime
  liveCount(): number;
  manualSeed(seed: number): void;
  getRngState(): H;
  setRngState(state: H): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  tuneMalloc(): void;
  emptyCache(): number;
  cachedBytes(): number;
  buildInfo(): BuildInfo;
  // devices and engine switches (device.cc)
  cudaSynchronize(): void;
  cudaDevices(): CudaDeviceInfo[];
  cudaMemory(device: number, resetPeak: boolean): CudaMemory;
  getCudaRngState(device: number): H;
  setCudaRngState(device: number, state: H): void;
  getFlag(name: string): boolean;
  setFlag(name: string, v: boolean): boolean;
  setAutocast(device: string, enabled: boolean, dtype: Opt<string>): boolean;
  isAutocast(device: string): boolean;
  hostReads(): number;
  // op counting (native/src/profile.cc)
  profileStart(cpuTime: boolean): void;
  profileStop(): RawOpProfile;
  peakBytes(reset: boolean): number;
}

/** What the addon counted between profileStart and profileStop (see native/src/profile.cc). */
export interface RawOpProfile {
  calls: Record<string, number>;
  top: Record<string, [count: number, ms: number]>;
  kernels: Record<string, number>;
}

function addonPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // src/torch (ts-run) or dist/src/torch (compiled): walk up to the package root.
  for (const up of ['../..', '../../..']) {
    const p = join(here, up, 'native', 'build', 'Release', 'lbt_torch.node');
    if (existsSync(p)) return p;
  }
  throw new Error(
    'lbt: the libtorch addon is not built (native/build/Release/lbt_torch.node is missing). ' +
      'Run `bash scripts/setup.sh` (installs libtorch-dev and builds it) or `npm run build:native`.',
  );
}

function load(): NativeBinding {
  const require = createRequire(import.meta.url);
  const path = addonPath();
  try {
    return require(path) as NativeBinding;
  } catch (err) {
    throw new Error(
      `lbt: could not load the libtorch addon at ${path}: ${(err as Error).message}. ` +
        'If libtorch changed since it was built, rebuild with `npm run build:native`.',
    );
  }
}

export const native: NativeBinding = load();
