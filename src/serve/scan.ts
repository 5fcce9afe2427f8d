// What the served directories hold: run directories (run.json) and experiment directories
// (experiment.json with seed-N runs and their retrain/ runs), found a few levels down. Only
// directories whose real path stays inside their root are listed.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ServedRoots } from './roots.js';

export interface Found {
  kind: 'run' | 'experiment';
  id: string;
  /** Real path. */
  dir: string;
  /** For a run inside an experiment (or a retrain inside a search run): the parent's id. */
  parent?: string;
}

const MAX_DEPTH = 4;

function subdirs(roots: ServedRoots, dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((d) => (d.isDirectory() || d.isSymbolicLink()) && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
  return names.map((n) => roots.check(join(dir, n))).filter((p): p is string => p !== null);
}

const has = (roots: ServedRoots, dir: string, file: string) => roots.readInside(join(dir, file), 0, 0) !== null;

/** Every run and experiment under the roots, parents before their children. */
export function scan(roots: ServedRoots): Found[] {
  const out: Found[] = [];
  const seen = new Set<string>();
  const visit = (i: number, dir: string, depth: number, parent: string | undefined) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const id = roots.idOf(i, dir);
    let here = parent;
    if (has(roots, dir, 'experiment.json')) {
      out.push({ kind: 'experiment', id, dir, ...(parent && { parent }) });
      here = id;
    } else if (has(roots, dir, 'run.json')) {
      out.push({ kind: 'run', id, dir, ...(parent && { parent }) });
      here = id;
    }
    if (depth < MAX_DEPTH) for (const d of subdirs(roots, dir)) visit(i, d, depth + 1, here);
  };
  roots.roots.forEach((r, i) => visit(i, r.dir, 0, undefined));
  return out;
}
