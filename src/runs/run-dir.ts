// Run directories: created once (never over a non-empty directory without `force`), appended to while
// the run goes, reopened on resume, and read back by `lbt report`. Layout and records: run-types.ts.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SplitIndices } from '../data/splits.js';
import type { z } from 'zod';
import { GenotypeFile } from '../nas/genotype.js';
import { RunDirError } from './errors.js';
import { readJson, writeFileAtomic, writeJson } from './files.js';
import { rewriteEvents, TfRunLog } from './tf-summaries.js';
import {
  type ArchSnapshot,
  type MetricsRecord,
  RUN_FILES,
  RUN_FORMAT,
  type RunKind,
  RunResult,
  type RunStatus,
  RunSummary,
} from './types.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The git revision of the lbt checkout, or null (installed package, no git). */
export function gitRevision(cwd = PACKAGE_ROOT): string | null {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    return out.toString().trim() || null;
  } catch {
    return null;
  }
}

export function cpuName(): string {
  const c = cpus();
  return `${c.length}-core ${c[0]?.model?.trim() ?? 'CPU'}`;
}

export interface CreateRunOptions {
  kind: RunKind;
  /** The resolved config; written to config.json as is. */
  config: unknown;
  /** Replace an existing run directory (only one that holds a run.json or config.json). */
  force?: boolean;
  label?: string;
  preset?: string;
  device?: string;
  deviceName?: string;
  command?: string[];
  searchRun?: string;
  /** Write TensorBoard event files next to metrics.jsonl (default true). */
  tensorboard?: boolean;
}

/** File name of an epoch's architecture snapshot. */
export function snapshotName(epoch: number, stage?: number): string {
  const e = `epoch-${String(epoch).padStart(3, '0')}.json`;
  return stage === undefined ? e : `stage-${stage}-${e}`;
}

/** An open run directory. Every write goes straight to disk; nothing is buffered in memory. */
export class RunDir {
  private fd: number | null = null;
  private archFd: number | null = null;
  /** TensorBoard events: every record and architecture snapshot logged, as it is logged. */
  private tf: TfRunLog | null = null;
  private readonly sessionStart = Date.now();
  private readonly priorWall: number;

  private constructor(
    readonly dir: string,
    private summaryValue: RunSummary,
  ) {
    this.priorWall = summaryValue.wallSeconds;
  }

  /** Creates `dir` (and parents) for a new run. Refuses a non-empty directory unless `force`. */
  static create(dir: string, o: CreateRunOptions): RunDir {
    dir = resolve(dir);
    if (existsSync(dir)) {
      const entries = readdirSync(dir);
      if (entries.length > 0) {
        if (!o.force) throw new RunDirError(dir, 'exists and is not empty (pass --force to replace it)');
        if (!entries.includes(RUN_FILES.summary) && !entries.includes(RUN_FILES.config))
          throw new RunDirError(
            dir,
            'is not a run directory (no run.json or config.json): refusing to delete it even with --force',
          );
        rmSync(dir, { recursive: true });
      }
    }
    mkdirSync(join(dir, RUN_FILES.genotypes), { recursive: true });
    const now = new Date().toISOString();
    const summary: RunSummary = {
      format: RUN_FORMAT,
      kind: o.kind,
      status: 'running',
      ...(o.label !== undefined && { label: o.label }),
      ...(o.preset !== undefined && { preset: o.preset }),
      createdAt: now,
      updatedAt: now,
      wallSeconds: 0,
      phaseSeconds: {},
      sessions: 1,
      device: o.device ?? 'cpu',
      deviceName: o.deviceName ?? cpuName(),
      gitRev: gitRevision(),
      pid: process.pid,
      host: hostname(),
      node: process.version,
      ...(o.command !== undefined && { command: o.command }),
      ...(o.searchRun !== undefined && { searchRun: o.searchRun }),
    };
    writeJson(join(dir, RUN_FILES.config), o.config);
    const run = new RunDir(dir, summary);
    if (o.tensorboard !== false) run.tf = new TfRunLog(dir, Date.parse(now) / 1000);
    run.writeSummary();
    return run;
  }

  /**
   * Reopens a run to resume it from a checkpoint taken at global step `atStep`: metrics records and
   * snapshots written after that step (by the interrupted session) are dropped, so that the resumed
   * run's files equal those of an uninterrupted run.
   */
  static resume(dir: string, atStep: number, o: { tensorboard?: boolean } = {}): RunDir {
    dir = resolve(dir);
    const summary = readJson(join(dir, RUN_FILES.summary), RunSummary, 'run summary');
    if (summary.format !== RUN_FORMAT) throw new RunDirError(dir, `run format ${summary.format} is not ${RUN_FORMAT}`);
    const keep = <T extends { step: number }>(path: string): T[] => {
      const kept = readJsonl<T>(path).filter((r) => r.step <= atStep);
      if (existsSync(path)) writeFileAtomic(path, kept.map((r) => `${JSON.stringify(r)}\n`).join(''), { fsync: false });
      return kept;
    };
    const kept = keep<MetricsRecord>(join(dir, RUN_FILES.metrics));
    const arch = keep<ArchSnapshot>(join(dir, RUN_FILES.arch));
    const gdir = join(dir, RUN_FILES.genotypes);
    for (const f of existsSync(gdir) ? readdirSync(gdir) : []) {
      if (f.endsWith('.json') && readJson<ArchSnapshot>(join(gdir, f)).step > atStep) rmSync(join(gdir, f));
    }
    const run = new RunDir(dir, { ...summary, status: 'running', sessions: summary.sessions + 1, pid: process.pid });
    delete run.summaryValue.error;
    delete run.summaryValue.finishedAt;
    if (o.tensorboard !== false) run.tf = rewriteEvents(dir, Date.parse(summary.createdAt) / 1000, kept, arch, atStep);
    run.writeSummary();
    return run;
  }

  path(file: keyof typeof RUN_FILES): string {
    return join(this.dir, RUN_FILES[file]);
  }

  get summary(): Readonly<RunSummary> {
    return this.summaryValue;
  }

  /** Seconds since the run started, over all sessions. */
  elapsed(): number {
    return this.priorWall + (Date.now() - this.sessionStart) / 1000;
  }

  writeSplits(splits: SplitIndices): void {
    writeJson(this.path('splits'), splits);
  }

  /** Appends one record to metrics.jsonl (one write call per line) and to the event file. Epoch and event records update run.json. */
  log(record: MetricsRecord): void {
    if (this.fd === null) this.fd = openSync(this.path('metrics'), 'a');
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
    this.tf?.record(record);
    if (record.kind !== 'step') this.writeSummary();
  }

  /** An epoch's snapshot, genotypes/epoch-NNN.json (the search also logs it with logArch). */
  writeSnapshot(s: ArchSnapshot): void {
    writeJson(join(this.dir, RUN_FILES.genotypes, snapshotName(s.epoch, s.stage)), s);
  }

  /** Appends an architecture snapshot to arch.jsonl (one line, one write) and to the event file. */
  logArch(s: ArchSnapshot): void {
    if (this.archFd === null) this.archFd = openSync(this.path('arch'), 'a');
    writeSync(this.archFd, `${JSON.stringify(s)}\n`);
    this.tf?.snapshot(s, s.time ?? this.elapsed());
  }

  writeGenotype(g: GenotypeFile): void {
    writeJson(this.path('genotype'), g);
  }

  /** P-DARTS: the final genotype under each skip-connect cap M (genotype-caps.json, {"M": genotype}). */
  writeGenotypeCaps(caps: Record<string, GenotypeFile>): void {
    writeJson(join(this.dir, 'genotype-caps.json'), caps);
  }

  writeResult(r: RunResult): void {
    writeJson(this.path('result'), r);
  }

  /** Adds seconds to a phase ("search", "retrain", "data"...); the report's search cost is phase "search". */
  addPhaseSeconds(phase: string, seconds: number): void {
    const p = this.summaryValue.phaseSeconds;
    p[phase] = (p[phase] ?? 0) + seconds;
    this.writeSummary();
  }

  /** Rewrites run.json with the current timings (called by log() on epoch records). */
  writeSummary(): void {
    this.summaryValue.wallSeconds = this.elapsed();
    this.summaryValue.updatedAt = new Date().toISOString();
    writeJson(this.path('summary'), this.summaryValue);
  }

  /** Marks the run finished (completed, failed or interrupted) and closes metrics.jsonl. */
  finish(status: Exclude<RunStatus, 'running'>, error?: string): void {
    this.summaryValue.status = status;
    this.summaryValue.finishedAt = new Date().toISOString();
    if (error !== undefined) this.summaryValue.error = error;
    this.writeSummary();
    this.close();
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    if (this.archFd !== null) closeSync(this.archFd);
    this.fd = this.archFd = null;
    this.tf?.close();
    this.tf = null;
  }
}

/** A run directory's splits.json, validated; a missing or bad file is a RunDirError naming it. */
export function readSplits(dir: string): SplitIndices {
  return readJson(join(dir, RUN_FILES.splits), SplitIndices, "run's splits");
}

/** Reads a JSON-lines file ([] when missing). A torn last line (a killed writer) is skipped; any other bad line is an error naming file:line. */
export function readJsonl<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: T[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      if (i === lines.length - 1) return; // no newline after it: written partly when the process died
      throw new RunDirError(`${path}:${i + 1}`, 'not a JSON record');
    }
  });
  return out;
}

/** Reads metrics.jsonl (see readJsonl). */
export function readMetrics(path: string): MetricsRecord[] {
  return readJsonl<MetricsRecord>(path);
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
    .map((f) => readJson<ArchSnapshot>(join(gdir, f)))
    .sort((a, b) => (a.stage ?? 0) - (b.stage ?? 0) || a.epoch - b.epoch);
  return {
    dir,
    summary: readJson(join(dir, RUN_FILES.summary), RunSummary, 'run summary'),
    config: readJson<Record<string, unknown>>(join(dir, RUN_FILES.config)),
    metrics: readMetrics(join(dir, RUN_FILES.metrics)),
    snapshots,
    arch: readJsonl<ArchSnapshot>(join(dir, RUN_FILES.arch)),
    genotype: opt(join(dir, RUN_FILES.genotype), GenotypeFile, 'genotype'),
    result: opt(join(dir, RUN_FILES.result), RunResult, 'result'),
  };
}
