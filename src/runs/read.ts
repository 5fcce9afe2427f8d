// Reading a run directory back (resume, `lbt report`): every file checked against its shape, and
// a file of another shape one line naming it (path, or path:line, and the first key).
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { SplitIndices } from '../data/splits.js';
import { GenotypeFile } from '../nas/genotype.js';
import { RunDirError } from './errors.js';
import { readJson, readRunFile } from './files.js';
import {
  type ArchSnapshot,
  ArchSnapshotSchema,
  type MetricsRecord,
  MetricsRecordSchema,
  RUN_FILES,
  RunResult,
  RunSummary,
} from './types.js';

/** A run directory's splits.json, validated; a missing or bad file is a RunDirError naming it. */
export function readSplits(dir: string): SplitIndices {
  return readJson(join(dir, RUN_FILES.splits), SplitIndices, "run's splits");
}

/**
 * Reads a JSON-lines file ([] when missing), each line a `record` checked against `schema`. A torn
 * last line (a killed writer) is skipped; any other bad line is an error naming file:line.
 */
export function readJsonl<T>(path: string, schema: z.ZodType = z.unknown(), file = 'file', record = 'record'): T[] {
  if (!existsSync(path)) return [];
  const lines = readRunFile(path, file, Number.MAX_SAFE_INTEGER).toString('utf8').split('\n');
  const out: T[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (i === lines.length - 1) return; // no newline after it: written partly when the process died
      throw new RunDirError(`${path}:${i + 1}`, 'not a JSON record');
    }
    const r = schema.safeParse(value);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new RunDirError(`${path}:${i + 1}`, `not a ${record}: ${issue.path.join('.') || '(record)'}: ${issue.message}`);
    }
    out.push(value as T);
  });
  return out;
}

/** Reads metrics.jsonl (see readJsonl). */
export function readMetrics(path: string): MetricsRecord[] {
  return readJsonl<MetricsRecord>(path, MetricsRecordSchema, 'metrics file', 'metrics record');
}

/** Reads arch.jsonl, the architecture at every logged step (see readJsonl). */
export function readArch(path: string): ArchSnapshot[] {
  return readJsonl<ArchSnapshot>(path, ArchSnapshotSchema, 'architecture file', 'architecture snapshot');
}

/** Everything `lbt report` and resume need from a run directory. */
export interface RunData {
  dir: string;
  summary: RunSummary;
  config: Record<string, unknown>;
  metrics: MetricsRecord[];
  snapshots: ArchSnapshot[];
  /** arch.jsonl: the snapshots at every logged step ([] for runs from before it). */
  arch: ArchSnapshot[];
  genotype: GenotypeFile | null;
  result: RunResult | null;
}

export function isRunDir(dir: string): boolean {
  return existsSync(join(dir, RUN_FILES.summary));
}

/** Reads a run directory back. Optional files (genotype, result, snapshots) come back as null or []. */
export function readRun(dir: string): RunData {
  dir = resolve(dir);
  if (!isRunDir(dir)) throw new RunDirError(dir, 'not a run directory (no run.json)');
  const opt = <T>(p: string, schema: z.ZodType<T>, what: string): T | null => (existsSync(p) ? readJson(p, schema, what) : null);
  const gdir = join(dir, RUN_FILES.genotypes);
  const snapshots = (existsSync(gdir) ? readdirSync(gdir) : [])
    .filter((f) => f.endsWith('.json'))
    .map((f) => readJson(join(gdir, f), ArchSnapshotSchema, 'architecture snapshot') as ArchSnapshot)
    .sort((a, b) => (a.stage ?? 0) - (b.stage ?? 0) || a.epoch - b.epoch);
  return {
    dir,
    summary: readJson(join(dir, RUN_FILES.summary), RunSummary, 'run summary'),
    config: readJson(join(dir, RUN_FILES.config), z.record(z.string(), z.unknown()), 'config'),
    metrics: readMetrics(join(dir, RUN_FILES.metrics)),
    snapshots,
    arch: readArch(join(dir, RUN_FILES.arch)),
    genotype: opt(join(dir, RUN_FILES.genotype), GenotypeFile, 'genotype'),
    result: opt(join(dir, RUN_FILES.result), RunResult, 'result'),
  };
}
