// What a run's sizes must fit before anything is allocated: each split holds at least one batch
// (else batches would repeat a few images), and a batch's activations fit in this machine's memory
// (a lower bound per example, so that only sizes that cannot work are refused).
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { DoesNotFitError } from './errors.js';

const GB = 2 ** 30;

/** The memory this process may use: the machine's, or its cgroup's limit when lower. */
export function memoryLimitBytes(): number {
  let limit = totalmem();
  for (const p of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const v = Number(readFileSync(p, 'utf8').trim()); // "max" (no limit) is NaN
      if (Number.isFinite(v) && v > 0 && v < limit) limit = v;
    } catch {
      // no cgroup file: the machine's memory
    }
  }
  return limit;
}

/** Refuses a batch size larger than a split it draws from, e.g. [['D_tr', 32], ['D_val', 16]]. */
export function checkBatchFitsSplits(batchSize: number, splits: readonly (readonly [string, number])[]): void {
  for (const [name, n] of splits)
    if (n > 0 && batchSize > n)
      throw new DoesNotFitError('batchSize', `${batchSize} is larger than ${name} (${n} images): at most ${n} fits`);
}

/**
 * Refuses a batch size whose activations, at least `perExample` bytes each, exceed the memory this
 * process may use (CPU; a GPU's memory is libtorch's to report). `key` names the config key; when a
 * single example cannot fit, the network is too large: `shrink` names the keys that size it.
 */
export function checkBatchFitsMemory(
  key: string,
  batchSize: number,
  perExample: number,
  what: string,
  device: string,
  shrink = 'the network',
): void {
  if (device !== 'cpu' || perExample <= 0) return;
  const limit = memoryLimitBytes();
  const need = batchSize * perExample;
  if (need <= limit) return;
  const there = `${(limit / GB).toFixed(1)} GB of memory is there`;
  if (perExample > limit)
    throw new DoesNotFitError(
      what,
      `needs at least ${(perExample / GB).toFixed(1)} GB for the activations of one example, and ${there}: make ${shrink} smaller`,
    );
  const most = Math.floor(limit / perExample);
  throw new DoesNotFitError(
    key,
    `${batchSize} needs at least ${(need / GB).toFixed(1)} GB for the activations of ${what}, and ${there}: at most about ${most} fits`,
  );
}
