// Keys a config sets that its resolved config never reads: a student for a run without LBT, a
// PC-DARTS K outside PC-DARTS, P-DARTS stages outside P-DARTS. Such a key is most often a
// mistake (a sweep over λ on a plain DARTS run changes nothing), so the CLI warns, one line each.
import { isPlainObject, type Layer } from './layers.js';
import type { SearchConfig } from './schema.js';

interface Rule {
  /** A dotted key, or a section: every key under it. */
  key: string;
  inert: (c: SearchConfig) => boolean;
  why: string;
}

const RULES: readonly Rule[] = [
  { key: 'lambda', inert: (c) => !c.lbt, why: 'without lbt: true' },
  { key: 'gamma', inert: (c) => !c.lbt, why: 'without lbt: true' },
  { key: 'student', inert: (c) => !c.lbt, why: 'without lbt: true (there is no student)' },
  { key: 'supernet.pcK', inert: (c) => c.method !== 'pc-darts', why: 'outside method: pc-darts' },
  { key: 'pdarts', inert: (c) => c.method !== 'p-darts', why: 'outside method: p-darts' },
  {
    key: 'supernet.layers',
    inert: (c) => c.method === 'p-darts',
    why: 'with method: p-darts (pdarts.layers sets the cells per stage)',
  },
];

function has(values: unknown, path: readonly string[]): boolean {
  let v = values;
  for (const p of path) {
    if (!isPlainObject(v) || !(p in v)) return false;
    v = v[p];
  }
  return true;
}

/** The set keys of these layers that cfg does not use, as "key (source): has no effect …" lines. */
export function inertKeys(layers: readonly Layer[], cfg: SearchConfig): string[] {
  const out: string[] = [];
  for (const r of RULES) {
    if (!r.inert(cfg)) continue;
    const from = layers.filter((l) => has(l.values, r.key.split('.'))).map((l) => l.source);
    if (from.length) out.push(`${r.key} (${from.join(', ')}) has no effect ${r.why}`);
  }
  return out;
}
