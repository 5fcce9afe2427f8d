// Run directories: created once (never over a non-empty directory without `force`), appended to while
// the run goes, reopened on resume, and read back by `lbt report`. Layout and records: run-types.ts.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SplitIndices } from '../data/splits.js';
import { z } from 'zod';
import type { GenotypeFile } from '../nas/genotype.js';
import { RunDirError } from './errors.js';
import { asRunFileError, isTempFile, readJson, writeFileAtomic, writeJson } from './files.js';
import { acquireRunLock, LOCK_FILE, lockHolder, type RunLock } from './lock.js';
import { isRunDir, readArch, readMetrics } from './read.js';
import { newSummary, type SummaryOptions } from './summary.js';
import { rewriteEvents, TfRunLog } from './tf-summaries.js';
import {
  type ArchSnapshot,
  type MetricsRecord,
  RUN_FILES,
  RUN_FORMAT,
  type RunResult,
  type RunStatus,
  RunSummary,
} from './types.js';

export interface CreateRunOptions extends SummaryOptions {
  /** The resolved config; written to config.json as is. */
  config: unknown;
  /** Replace an existing run directory (only one that holds a run.json or config.json). */
  force?: boolean;
  /** Take the run's lock even when another host holds it (a writer known to be lost). */
  breakLock?: boolean;
  /** Write TensorBoard event files next to metrics.jsonl (default true). */
  tensorboard?: boolean;
}

/** Where a resumed run continues: the checkpoint's global step and, when it recorded it, the metrics records written by then. */
export interface ResumeAt {
  step: number;
  records?: number;
}

export interface ResumeRunOptions {
  /** The run's lock, taken by the caller before it read the checkpoint (else taken here). */
  lock?: RunLock;
  breakLock?: boolean;
  command?: string[];
  /** Rewrite the TensorBoard event files up to the checkpoint and go on appending (default true). */
  tensorboard?: boolean;
}

/** All a resume reads of a snapshot: the step it was taken at. */
const SnapshotStep = z.looseObject({ step: z.number().int().nonnegative() });

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
    /** This process's lock on the directory (released by finish() and close()). */
    readonly lock: RunLock,
    /** Metrics records in metrics.jsonl (a checkpoint stores it, so that a resume keeps exactly those). */
    private recordCount: number,
  ) {
    this.priorWall = summaryValue.wallSeconds;
  }

  /** Takes the lock of an existing run directory (before reading its checkpoint to resume it). */
  static lock(dir: string, o: Omit<ResumeRunOptions, 'lock'> = {}): RunLock {
    dir = resolve(dir);
    if (!isRunDir(dir)) throw new RunDirError(dir, 'not a run directory (no run.json)');
    return acquireRunLock(dir, o);
  }

  /**
   * Creates `dir` (and parents) for a new run and takes its lock. Refuses a directory that another
   * process writes (even with `force`), and a non-empty one unless `force` or it holds a run that
   * never got its first checkpoint (killed while starting: it is started again).
   */
  static create(dir: string, o: CreateRunOptions): RunDir {
    dir = resolve(dir);
    const made = makeDir(dir);
    const lock = acquireRunLock(dir, { ...(o.breakLock && { breakLock: true }), ...(o.command && { command: o.command }) });
    try {
      clearForNewRun(dir, o.force ?? false);
      mkdirSync(join(dir, RUN_FILES.genotypes), { recursive: true });
      const run = new RunDir(dir, newSummary(o), lock, 0);
      writeJson(join(dir, RUN_FILES.config), o.config);
      if (o.tensorboard !== false) run.tf = new TfRunLog(dir, Date.parse(run.summaryValue.createdAt) / 1000);
      run.writeSummary();
      return run;
    } catch (e) {
      lock.release();
      if (made) rmSync(dir, { recursive: true, force: true });
      throw asRunFileError(e, dir, 'cannot create the run directory');
    }
  }

  /**
   * Reopens a run to continue it from a checkpoint (`at`), or from the start when it has none
   * (null): metrics records and snapshots written after that checkpoint (by the interrupted
   * session) are dropped, and temporary files of killed writers removed, so that the resumed run's
   * files equal those of an uninterrupted run.
   */
  static resume(dir: string, at: ResumeAt | null, o: ResumeRunOptions = {}): RunDir {
    dir = resolve(dir);
    const lock = o.lock ?? RunDir.lock(dir, o);
    try {
      const summary = readJson(join(dir, RUN_FILES.summary), RunSummary, 'run summary');
      if (summary.format !== RUN_FORMAT) throw new RunDirError(dir, `run format ${summary.format} is not ${RUN_FORMAT}`);
      removeTempFiles(dir);
      const metricsPath = join(dir, RUN_FILES.metrics);
      const all = readMetrics(metricsPath);
      const kept =
        at === null ? [] : at.records !== undefined ? firstRecords(all, at.records) : all.filter((r) => r.step <= at.step);
      writeFileAtomic(metricsPath, kept.map((r) => `${JSON.stringify(r)}\n`).join(''), { fsync: false });
      const arch = keepArch(join(dir, RUN_FILES.arch), at);
      const gdir = join(dir, RUN_FILES.genotypes);
      for (const f of existsSync(gdir) ? readdirSync(gdir) : []) {
        const p = join(gdir, f);
        if (f.endsWith('.json') && (at === null || readJson(p, SnapshotStep, 'architecture snapshot').step > at.step)) rmSync(p);
      }
      const resumed = { ...summary, status: 'running' as const, sessions: summary.sessions + 1, pid: process.pid };
      const run = new RunDir(dir, resumed, lock, countRecords(kept));
      delete run.summaryValue.error;
      delete run.summaryValue.finishedAt;
      if (o.tensorboard !== false)
        run.tf = rewriteEvents(dir, Date.parse(summary.createdAt) / 1000, kept, arch, at === null ? 0 : at.step);
      run.writeSummary();
      return run;
    } catch (e) {
      if (!o.lock) lock.release();
      throw e;
    }
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

  /**
   * Metrics records written so far over all sessions, `resume` events not counted (so that the
   * checkpoints of a resumed run equal an uninterrupted run's); a checkpoint stores it.
   */
  get records(): number {
    return this.recordCount;
  }

  /** Appends one record to metrics.jsonl (one write call per line). Epoch and event records update run.json. */
  log(record: MetricsRecord): void {
    const path = this.path('metrics');
    try {
      if (this.fd === null) this.fd = openSync(path, 'a');
      writeSync(this.fd, `${JSON.stringify(record)}\n`);
    } catch (e) {
      throw asRunFileError(e, path, 'cannot write');
    }
    this.tf?.record(record);
    this.recordCount += countRecords([record]);
    if (record.kind !== 'step') this.writeSummary();
  }

  /** An epoch's snapshot, genotypes/epoch-NNN.json (the search also logs it with logArch). */
  writeSnapshot(s: ArchSnapshot): void {
    writeJson(join(this.dir, RUN_FILES.genotypes, snapshotName(s.epoch, s.stage)), s);
  }

  /** Appends an architecture snapshot to arch.jsonl (one line, one write) and to the event file. */
  logArch(s: ArchSnapshot): void {
    const path = this.path('arch');
    try {
      if (this.archFd === null) this.archFd = openSync(path, 'a');
      writeSync(this.archFd, `${JSON.stringify(s)}\n`);
    } catch (e) {
      throw asRunFileError(e, path, 'cannot write');
    }
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

  /**
   * Marks the run finished (completed, failed or interrupted), closes metrics.jsonl and releases the
   * lock. A failed or interrupted run is marked as far as the disk allows: the error that stopped
   * it (a full disk, say) is what the caller reports, not a second one from writing run.json.
   */
  finish(status: Exclude<RunStatus, 'running'>, error?: string): void {
    this.summaryValue.status = status;
    this.summaryValue.finishedAt = new Date().toISOString();
    if (error !== undefined) this.summaryValue.error = error;
    try {
      this.writeSummary();
    } catch (e) {
      if (status === 'completed') throw e;
    } finally {
      this.close();
    }
  }

  /** Closes metrics.jsonl and releases the lock (the run is not marked finished: see finish()). */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    if (this.archFd !== null) closeSync(this.archFd);
    this.fd = this.archFd = null;
    this.tf?.close();
    this.tf = null;
    this.lock.release();
  }
}

/** mkdir -p; true when it made `dir`. A file in the way, or no permission, is one line. */
function makeDir(dir: string): boolean {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new RunDirError(dir, 'is a file, not a directory: give another --out');
    return false;
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw asRunFileError(e, dir, 'cannot create the run directory');
  }
  return true;
}

/** What a killed writer may leave that is not part of the run: the lock, temporary files, an empty genotypes/. */
function isLeftover(dir: string, name: string): boolean {
  if (name === LOCK_FILE || isTempFile(name)) return true;
  const p = join(dir, name);
  return name === RUN_FILES.genotypes && statSync(p).isDirectory() && readdirSync(p).length === 0;
}

/** A run that never got its first checkpoint (nor a result) and did not complete: nothing in it is worth keeping. */
function neverStarted(dir: string, entries: readonly string[]): boolean {
  const has = (f: string) => entries.includes(f);
  const status = has(RUN_FILES.summary) ? readJson(join(dir, RUN_FILES.summary), RunSummary, 'run summary').status : null;
  return (
    (has(RUN_FILES.summary) || has(RUN_FILES.config)) &&
    status !== 'completed' &&
    !has(RUN_FILES.checkpoint) &&
    !has(RUN_FILES.checkpointPrev) &&
    !has(RUN_FILES.result) &&
    !existsSync(join(dir, 'retrain'))
  );
}

/** Empties a directory for a new run (keeping the lock), or refuses: see RunDir.create. */
function clearForNewRun(dir: string, force: boolean): void {
  const entries = readdirSync(dir).filter((f) => !isLeftover(dir, f));
  if (entries.length === 0) {
    removeTempFiles(dir);
    return;
  }
  const isRun = entries.includes(RUN_FILES.summary) || entries.includes(RUN_FILES.config);
  if (!isRun)
    throw new RunDirError(
      dir,
      force
        ? 'is not a run directory (no run.json or config.json): refusing to delete it even with --force'
        : 'exists and is not empty (pass --force to replace it)',
    );
  if (!force && !neverStarted(dir, entries)) throw new RunDirError(dir, 'exists and is not empty (pass --force to replace it)');
  for (const f of readdirSync(dir)) if (f !== LOCK_FILE) rmSync(join(dir, f), { recursive: true, force: true });
}

/** Keeps the architecture snapshots of arch.jsonl up to the checkpoint (none without one); returns them. */
function keepArch(path: string, at: ResumeAt | null): ArchSnapshot[] {
  if (!existsSync(path)) return [];
  const kept = at === null ? [] : readArch(path).filter((s) => s.step <= at.step);
  writeFileAtomic(path, kept.map((s) => `${JSON.stringify(s)}\n`).join(''), { fsync: false });
  return kept;
}

const isResumeEvent = (r: MetricsRecord) => r.kind === 'event' && r.event === 'resume';

/** Records as RunDir.records counts them (resume events left out). */
function countRecords(rs: readonly MetricsRecord[]): number {
  return rs.filter((r) => !isResumeEvent(r)).length;
}

/** The records up to the n-th counted one (with the resume events among them). */
function firstRecords(rs: readonly MetricsRecord[], n: number): MetricsRecord[] {
  let counted = 0;
  const out: MetricsRecord[] = [];
  for (const r of rs) {
    if (!isResumeEvent(r)) {
      if (counted === n) break;
      counted++;
    }
    out.push(r);
  }
  return out;
}

/**
 * Removes the temporary files of killed writers (a checkpoint being written, a record being
 * replaced); not those of the lock, which another process may be linking into place right now.
 */
function removeTempFiles(dir: string): void {
  for (const d of [dir, join(dir, RUN_FILES.genotypes)])
    for (const f of existsSync(d) ? readdirSync(d) : [])
      if (isTempFile(f) && !f.startsWith(`.${LOCK_FILE}.`)) rmSync(join(d, f), { force: true });
}

/**
 * Refuses, before a run loads its data and with nothing written, a run directory that is a file
 * (RunDirError) or that a live process, or one of another host, holds (RunLockedError).
 */
export function checkRunDirFree(dir: string): void {
  dir = resolve(dir);
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new RunDirError(dir, 'is a file, not a directory: give another --out');
  if (lockHolder(dir)) acquireRunLock(dir).release(); // throws the one-line RunLockedError naming the owner
}

export { isRunDir, type RunData, readArch, readJsonl, readMetrics, readRun, readSplits } from './read.js';
