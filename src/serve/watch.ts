// One run followed for its live pages: metrics.jsonl and arch.jsonl read from where the last read
// stopped, new epoch snapshots read once, run.json and result.json re-read when they change; what
// is new goes to every subscriber as rows of the shared views. fs.watch wakes it early; a poll
// timer is the fallback (network file systems, editors that replace files).
import { type FSWatcher, readdirSync, watch } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type RunHeader, runHeader } from '../report/views/header.js';
import { type ViewDelta, ViewRows, type ViewTables } from '../report/views/rows.js';
import { RUN_FILES } from '../runs/types.js';
import type { GenotypeFile } from '../nas/genotype.js';
import type { ArchSnapshot, MetricsRecord, RunResult, RunSummary } from '../runs/types.js';
import type { ServedRoots } from './roots.js';
import { JsonlTail } from './tail.js';

export const ARCH_FILE = RUN_FILES.arch;
/** The live page's history of the architecture weights: at most this many snapshots (report.html: 240). */
export const LIVE_MAX_SNAPSHOTS = 120;

export type WatchEvent =
  | { type: 'init'; header: RunHeader; tables: ViewTables; cells: string | null }
  | { type: 'delta'; header: RunHeader; delta: ViewDelta }
  | { type: 'cells'; svg: string };

export type CellDrawer = (g: GenotypeFile) => Promise<string>;

/** A running run with no sign of life: its process is gone (same host), or nothing was written for `quietMs`. */
export function isStale(s: RunSummary & { pid?: number }, lastWriteMs: number, now = Date.now(), quietMs = 30 * 60_000): boolean {
  if (s.status !== 'running') return false;
  if (typeof s.pid === 'number' && s.host === hostname()) {
    try {
      process.kill(s.pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
  return now - lastWriteMs > quietMs;
}

const snapshotOrder = (name: string) => {
  const m = /^(?:stage-(\d+)-)?epoch-(\d+)\.json$/.exec(name);
  return m ? Number(m[1] ?? 0) * 1e6 + Number(m[2]) : Number.NaN;
};

export class RunWatch {
  private rows: ViewRows;
  private metrics: JsonlTail<MetricsRecord>;
  private arch: JsonlTail<ArchSnapshot>;
  private snapFiles = new Set<string>();
  private summary: RunSummary | null = null;
  private summaryMtime = -1;
  private result: RunResult | null = null;
  private resultMtime = -1;
  private trainSize: number | null | undefined;
  private readonly config: Record<string, unknown>;
  private readonly kind: RunSummary['kind'];
  private cells: { key: string; svg: string | null } = { key: '', svg: null };
  private lastGenotype: GenotypeFile | null = null;
  private readonly subs = new Set<(e: WatchEvent) => void>();
  private timer: NodeJS.Timeout | null = null;
  private watchers: FSWatcher[] = [];
  private wake: NodeJS.Timeout | null = null;

  constructor(
    private readonly roots: ServedRoots,
    readonly dir: string,
    private readonly o: { pollMs?: number; drawCells?: CellDrawer; maxSnapshots?: number } = {},
  ) {
    this.config = roots.readJson<Record<string, unknown>>(join(dir, RUN_FILES.config)) ?? {};
    this.kind = roots.readJson<RunSummary>(join(dir, RUN_FILES.summary))?.kind ?? 'search';
    this.rows = this.newRows();
    this.metrics = new JsonlTail(roots, join(dir, RUN_FILES.metrics));
    this.arch = new JsonlTail(roots, join(dir, ARCH_FILE));
  }

  private newRows(): ViewRows {
    return new ViewRows(this.kind, this.o.maxSnapshots ?? LIVE_MAX_SNAPSHOTS);
  }

  /** Subscribes; the subscriber gets an init event at once. Returns the unsubscribe function. */
  subscribe(fn: (e: WatchEvent) => void): () => void {
    if (this.subs.size === 0) this.start();
    this.check(); // the others get what is new; the new one gets it all in its init
    this.subs.add(fn);
    fn(this.initEvent());
    return () => {
      this.subs.delete(fn);
      if (this.subs.size === 0) this.stop();
    };
  }

  get subscribers(): number {
    return this.subs.size;
  }

  private start(): void {
    this.timer = setInterval(() => this.check(), this.o.pollMs ?? 1000);
    for (const d of [this.dir, join(this.dir, RUN_FILES.genotypes)]) {
      try {
        const w = watch(d, { persistent: false }, () => this.soon());
        w.on('error', () => w.close());
        this.watchers.push(w);
      } catch {
        // no inotify here: the poll timer does it
      }
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.wake) clearTimeout(this.wake);
    this.timer = this.wake = null;
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  private soon(): void {
    this.wake ??= setTimeout(() => {
      this.wake = null;
      this.check();
    }, 50);
  }

  header(): RunHeader | null {
    if (!this.summary) return null;
    return runHeader({
      summary: this.summary,
      config: this.config,
      progress: this.rows.progress,
      timing: this.rows.tables.timing,
      result: this.result,
      trainSize: this.trainSizeOnce(),
      stale: isStale(this.summary, this.lastWrite()),
    });
  }

  private initEvent(): WatchEvent {
    return { type: 'init', header: this.header() as RunHeader, tables: this.rows.tables, cells: this.cells.svg };
  }

  private emit(e: WatchEvent): void {
    for (const fn of this.subs) fn(e);
  }

  private mtime(file: string): number {
    return this.roots.mtime(join(this.dir, file));
  }

  private lastWrite(): number {
    return Math.max(this.mtime(RUN_FILES.metrics), this.mtime(RUN_FILES.summary), this.mtime(ARCH_FILE));
  }

  private trainSizeOnce(): number | null {
    if (this.trainSize === undefined) {
      const splits = this.roots.readJson<{ train?: unknown[] }>(join(this.dir, RUN_FILES.splits));
      this.trainSize = Array.isArray(splits?.train) ? splits.train.length : null;
    }
    return this.trainSize;
  }

  /** Reads what is new; tells the subscribers. Safe to call at any time. */
  check(): void {
    const before = JSON.stringify(this.header());
    const changedFiles = this.readSmallFiles();
    const m = this.metrics.read();
    const s = this.readSnapshots();
    if (m.reset || s === 'reset') {
      this.rebuild();
      return;
    }
    const delta: ViewDelta = {};
    const stride = this.rows.thinning;
    for (const r of m.items) mergeInto(delta, this.rows.addRecord(r));
    for (const snap of s) {
      mergeInto(delta, this.rows.addSnapshot(snap));
      this.lastGenotype = snap.genotype;
    }
    const header = this.header();
    if (this.rows.thinning !== stride)
      this.emit(this.initEvent()); // the history was thinned: all of it again
    else if (header && (Object.keys(delta).length > 0 || changedFiles || JSON.stringify(header) !== before))
      this.emit({ type: 'delta', header, delta });
    this.redraw();
  }

  /** run.json and result.json, when their mtime changed; true when one did. */
  private readSmallFiles(): boolean {
    let changed = false;
    const sm = this.mtime(RUN_FILES.summary);
    if (sm !== this.summaryMtime) {
      this.summary = this.roots.readJson<RunSummary>(join(this.dir, RUN_FILES.summary)) ?? this.summary;
      this.summaryMtime = sm;
      changed = true;
    }
    const rm = this.mtime(RUN_FILES.result);
    if (rm !== this.resultMtime) {
      this.result = this.roots.readJson<RunResult>(join(this.dir, RUN_FILES.result));
      this.resultMtime = rm;
      changed = true;
    }
    return changed;
  }

  /** New snapshots: arch.jsonl's new lines when the run writes it, else new files in genotypes/. */
  private readSnapshots(): ArchSnapshot[] | 'reset' {
    const a = this.arch.read();
    if (a.reset) return 'reset';
    if (a.items.length > 0 || this.mtime(ARCH_FILE) >= 0) return a.items;
    const gdir = this.roots.check(join(this.dir, RUN_FILES.genotypes));
    if (gdir === null) return [];
    const names = readdirSync(gdir).filter((n) => Number.isFinite(snapshotOrder(n)));
    if ([...this.snapFiles].some((n) => !names.includes(n))) return 'reset'; // a resume removed later ones
    const fresh = names.filter((n) => !this.snapFiles.has(n)).sort((x, y) => snapshotOrder(x) - snapshotOrder(y));
    const out: ArchSnapshot[] = [];
    for (const n of fresh) {
      const s = this.roots.readJson<ArchSnapshot>(join(gdir, n));
      if (s === null) break; // being written: next time
      this.snapFiles.add(n);
      out.push(s);
    }
    return out;
  }

  /** Starts over from the files (a resumed run rewrote them) and sends every subscriber a new init. */
  private rebuild(): void {
    this.rows = this.newRows();
    this.metrics = new JsonlTail(this.roots, join(this.dir, RUN_FILES.metrics));
    this.arch = new JsonlTail(this.roots, join(this.dir, ARCH_FILE));
    this.snapFiles.clear();
    for (const r of this.metrics.read().items) this.rows.addRecord(r);
    const snaps = this.readSnapshots();
    if (snaps !== 'reset') for (const s of snaps) this.rows.addSnapshot(s);
    if (snaps !== 'reset' && snaps.length) this.lastGenotype = (snaps.at(-1) as ArchSnapshot).genotype;
    this.emit(this.initEvent());
    this.redraw();
  }

  private redraw(): void {
    const g = this.lastGenotype;
    const draw = this.o.drawCells;
    if (!g || !draw) return;
    const key = JSON.stringify([g.normal, g.reduce]);
    if (key === this.cells.key) return;
    this.cells = { key, svg: this.cells.svg };
    draw(g).then(
      (svg) => {
        if (this.cells.key !== key) return;
        this.cells.svg = svg;
        this.emit({ type: 'cells', svg });
      },
      () => undefined, // a genotype that does not parse is not drawn; the charts still show
    );
  }
}

/** Adds one call's changes to those of the calls before (a snapshot added and dropped in between is left out). */
function mergeInto(into: ViewDelta, d: ViewDelta): void {
  for (const seq of d.dropSeqs ?? []) {
    // a snapshot dropped is the one before the latest: if this read brought it, its rows end into.arch
    const arch = into.arch ?? [];
    const n = arch.length;
    while (arch.length > 0 && arch[arch.length - 1]?.seq === seq) arch.pop();
    if (arch.length === n) (into.dropSeqs ??= []).push(seq);
  }
  for (const [k, rows] of Object.entries(d) as [keyof ViewDelta, unknown[]][]) {
    if (k === 'dropSeqs') continue;
    if (k === 'kept') into.kept = rows as ViewDelta['kept'];
    else {
      const to = (into[k] ??= []) as unknown[];
      for (const r of rows) to.push(r);
    }
  }
}
