// Op counting: how many ops a piece of code launches, and where its time goes by op kind.
// Off unless profileOps runs; the counts do not depend on the machine (the times do).
import { native } from './native.js';

/** Runtime-table entries that read or set state and launch no op. */
const METADATA = new Set([
  'shape',
  'dtype',
  'device',
  'numel',
  'item',
  'isChannelsLast',
  'toBuffer',
  'requiresGrad',
  'setRequiresGrad',
  'isLeaf',
  'grad',
  'setGrad',
  'setGradEnabled',
  'isGradEnabled',
  'liveCount',
  'getNumThreads',
  'cachedBytes',
  'peakBytes',
  'profileStop',
  'hostReads',
  'getFlag',
  'isAutocast',
  'cudaDevices',
  'cudaMemory',
]);

export interface OpProfile {
  /** JS → native op calls (tensor-making and in-place ops; metadata reads are in `reads`). */
  calls: number;
  /** Calls by op-table name. */
  callsByName: Record<string, number>;
  /** Metadata and read-back calls (shape, item, ...): crossings that launch nothing. */
  reads: number;
  /** Leaf libtorch operators that do work (views and allocations left out): about one kernel launch each. */
  kernels: number;
  kernelsByName: Record<string, number>;
  /** Top-level libtorch operators (forward ops, autograd nodes): count and inclusive ms per name. */
  top: Record<string, { count: number; ms: number }>;
}

/**
 * Runs fn with op counting on (not re-entrant). cpuTime: op times are the calling thread's CPU
 * time instead of wall time (meaningful with one intra-op thread; robust to a busy machine).
 */
export function profileOps<T>(fn: () => T, o: { cpuTime?: boolean } = {}): { result: T; profile: OpProfile } {
  native.profileStart(o.cpuTime ?? false);
  let raw: ReturnType<typeof native.profileStop> | null = null;
  try {
    const result = fn();
    raw = native.profileStop();
    return { result, profile: summarize(raw) };
  } finally {
    if (raw === null) native.profileStop();
  }
}

function summarize(raw: ReturnType<typeof native.profileStop>): OpProfile {
  const callsByName: Record<string, number> = {};
  let calls = 0;
  let reads = 0;
  for (const [name, n] of Object.entries(raw.calls)) {
    if (METADATA.has(name)) reads += n;
    else {
      callsByName[name] = n;
      calls += n;
    }
  }
  const kernels = Object.values(raw.kernels).reduce((s, n) => s + n, 0);
  const top = Object.fromEntries(Object.entries(raw.top).map(([k, [count, ms]]) => [k, { count, ms }]));
  return { calls, callsByName, reads, kernels, kernelsByName: raw.kernels, top };
}

/**
 * Peak bytes of tensor storage in use since the last reset (the caching CPU allocator's count;
 * 0 when LBT_CPU_CACHE_MB=0 disables it). reset: start a new peak from what is in use now.
 */
export function peakTensorBytes(reset = false): number {
  return native.peakBytes(reset);
}
