// A run's header for the list and experiment pages without reading its whole metrics.jsonl: the
// first line (the start record and its plan) and the last 64 KiB (the latest records).
import { join } from 'node:path';
import { type RunHeader, runHeader } from '../report/views/header.js';
import { ViewRows } from '../report/views/rows.js';
import { type MetricsRecord, RUN_FILES, type RunResult, type RunSummary } from '../runs/types.js';
import type { ServedRoots } from './roots.js';
import { ARCH_FILE, isStale } from './watch.js';

const HEAD = 4096;
const TAIL = 64 * 1024;

function lines(text: string, dropFirst: boolean): MetricsRecord[] {
  const ls = text.split('\n');
  if (dropFirst) ls.shift(); // may start mid-line
  const out: MetricsRecord[] = [];
  for (const l of ls) {
    try {
      if (l.trim()) out.push(JSON.parse(l) as MetricsRecord);
    } catch {
      // a torn line
    }
  }
  return out;
}

/** The records a header needs: the first one and the last ones (in order, no duplicates). */
export function headAndTail(roots: ServedRoots, path: string): MetricsRecord[] {
  const head = roots.readInside(path, 0, HEAD);
  if (head === null) return [];
  if (head.size <= TAIL) return lines(roots.readInside(path)?.bytes.toString('utf8') ?? '', false);
  const first = lines(head.bytes.toString('utf8').split('\n')[0] ?? '', false);
  const tail = roots.readInside(path, head.size - TAIL, TAIL);
  return [...first, ...lines(tail?.bytes.toString('utf8') ?? '', true)];
}

export interface RunBrief {
  summary: RunSummary;
  config: Record<string, unknown>;
  header: RunHeader;
  result: RunResult | null;
}

/** run.json, config.json, result.json and the ends of metrics.jsonl, or null when run.json is unreadable. */
export function runBrief(roots: ServedRoots, dir: string): RunBrief | null {
  const summary = roots.readJson<RunSummary>(join(dir, RUN_FILES.summary));
  if (!summary) return null;
  const config = roots.readJson<Record<string, unknown>>(join(dir, RUN_FILES.config)) ?? {};
  const result = roots.readJson<RunResult>(join(dir, RUN_FILES.result));
  const records = headAndTail(roots, join(dir, RUN_FILES.metrics));
  const rows = new ViewRows();
  for (const r of records) rows.addRecord(r);
  // epochs done: the last epoch record's position (the tail may not hold them all)
  const lastEpoch = records.filter((r) => r.kind === 'epoch').at(-1);
  if (lastEpoch && lastEpoch.kind === 'epoch') {
    const perStage = Number(config.epochs) || 0;
    rows.progress.epochsDone = (lastEpoch.stage ?? 0) * perStage + lastEpoch.epoch + 1;
  }
  const lastWrite = Math.max(...[RUN_FILES.metrics, RUN_FILES.summary, ARCH_FILE].map((f) => roots.mtime(join(dir, f))));
  const splits = summary.status === 'running' && rows.progress.totalSteps === null ? trainSize(roots, dir) : null;
  const header = runHeader({
    summary,
    config,
    progress: rows.progress,
    timing: rows.tables.timing,
    result,
    trainSize: splits,
    stale: isStale(summary, lastWrite),
  });
  return { summary, config, header, result };
}

function trainSize(roots: ServedRoots, dir: string): number | null {
  const s = roots.readJson<{ train?: unknown[] }>(join(dir, RUN_FILES.splits));
  return Array.isArray(s?.train) ? s.train.length : null;
}
