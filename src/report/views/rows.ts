// The data behind a run's views, as named tables of rows, built record by record: the static
// report feeds a finished run's records in, the live server feeds them as they are appended and
// pushes each call's new rows to the page. One builder, so both show the same thing.
import { edgeEnds, edgeLabels, keptEdges, stateName } from '../../runs/arch-names.js';
import type { ArchSnapshot, EpochRecord, MetricsRecord, ModelMetrics, StepRecord } from '../../runs/types.js';

/** who: teacher, student, agreement, pseudo-labels; split: batch (one step's batch), train (epoch mean), val, unlabeled. */
export interface CurveRow {
  step: number;
  panel: 'loss' | 'accuracy (%)';
  who: string;
  split: 'batch' | 'train' | 'val' | 'unlabeled';
  value: number;
  /** P-DARTS stage (0 for the other methods): a new stage starts new lines. */
  stage: number;
}
/** One op of one edge at one snapshot: w = softmax weight, dev = w − 1/k (k ops on the edge). */
export interface ArchRow {
  step: number;
  /** The snapshot's index in the run (two snapshots may share a step: a stage's end and the next one's start). */
  seq: number;
  stage: number;
  cell: 'normal' | 'reduce';
  /** "normal n1←k-2": the key of the kept table. */
  key: string;
  edge: string;
  e: number;
  node: string;
  input: string;
  nodeIdx: number;
  inputIdx: number;
  op: string;
  w: number;
  dev: number;
}
export interface KeptRow {
  key: string;
  keptOp: string;
}
export interface SeriesRow {
  step: number;
  panel: string;
  series: string;
  value: number;
  stage: number;
}
export interface TimingRow {
  step: number;
  secondsPerStep: number;
}
export interface BetaRow {
  step: number;
  cell: 'normal' | 'reduce';
  node: string;
  input: string;
  b: number;
  dev: number;
}

/** The named tables. `kept` is replaced as a whole by each snapshot; the others only grow. */
export interface ViewTables {
  curves: CurveRow[];
  arch: ArchRow[];
  kept: KeptRow[];
  archStats: SeriesRow[];
  timing: TimingRow[];
  teaching: SeriesRow[];
  betas: BetaRow[];
}
export type TableName = keyof ViewTables;
export const TABLE_NAMES: readonly TableName[] = ['curves', 'arch', 'kept', 'archStats', 'timing', 'teaching', 'betas'];

/**
 * What one call changed: new rows per table; `kept` (when present) replaces the table; `dropSeqs`:
 * the snapshots whose `arch` rows are gone (a thinned history, see ViewRows).
 */
export type ViewDelta = Partial<ViewTables> & { dropSeqs?: number[] };

export const emptyTables = (): ViewTables => ({
  curves: [],
  arch: [],
  kept: [],
  archStats: [],
  timing: [],
  teaching: [],
  betas: [],
});

/** Teaching-signal series: name in the step record → legend. */
export const TEACHING_SERIES: Readonly<Record<string, string>> = {
  uARatio: '‖γξλ·u_A‖ / ‖a_v‖ (student → A directly)',
  uTRatio: '‖γξλ·u_T‖ / ‖g_v‖ (student → T′ → A)',
};

const pct = (x: number) => 100 * x;

function modelCurves(out: CurveRow[], r: StepRecord | EpochRecord, who: string, m: ModelMetrics | undefined, batch: boolean) {
  const at = { step: r.step, stage: r.stage ?? 0 };
  for (const s of ['train', 'val'] as const) {
    const la = m?.[s];
    if (!la) continue;
    const split = batch ? 'batch' : s;
    if (Number.isFinite(la.loss)) out.push({ ...at, panel: 'loss', who, split, value: la.loss });
    if (Number.isFinite(la.acc)) out.push({ ...at, panel: 'accuracy (%)', who, split, value: pct(la.acc) });
  }
}

function stepRows(r: StepRecord, teacher: string): CurveRow[] {
  const out: CurveRow[] = [];
  modelCurves(out, r, teacher, r.teacher, true);
  modelCurves(out, r, 'student', r.student, true);
  return out;
}

function epochRows(r: EpochRecord, teacher: string): CurveRow[] {
  const out: CurveRow[] = [];
  modelCurves(out, r, teacher, r.teacher, false);
  modelCurves(out, r, 'student', r.student, false);
  const acc = (who: string, v: number | undefined) => {
    if (v !== undefined && Number.isFinite(v))
      out.push({ step: r.step, stage: r.stage ?? 0, panel: 'accuracy (%)', who, split: 'unlabeled', value: pct(v) });
  };
  acc('student-teacher agreement', r.agreement);
  acc('pseudo-label accuracy', r.pseudoAcc);
  return out;
}

const entropyOf = (rows: readonly (readonly number[])[]) =>
  rows.length ? rows.reduce((a, p) => a + p.reduce((h, v) => (v > 0 ? h - v * Math.log(v) : h), 0), 0) / rows.length : 0;

/** Where a run is, from its records: the last step, epochs finished, stage, seconds. */
export interface Progress {
  step: number;
  epochsDone: number;
  stage: number;
  time: number;
  /** The plan a start or resume record carries (total steps and epochs), when it does. */
  totalSteps: number | null;
  totalEpochs: number | null;
}

/**
 * Accumulates a run's tables; each add* returns what it changed. With `maxSnapshots` (the live page)
 * the `arch` history stays light however long the run: it keeps every stride-th snapshot and the
 * latest, the previous latest leaving when it is off the stride, and the stride doubles (the rows
 * off the new stride leave) whenever more than `maxSnapshots` would be kept; `thinning` tells the
 * stride, so that a caller can resend the whole tables after it changed.
 */
export class ViewRows {
  readonly tables: ViewTables = emptyTables();
  readonly progress: Progress = { step: 0, epochsDone: 0, stage: 0, time: 0, totalSteps: null, totalEpochs: null };
  private lastStep: { step: number; time: number } | null = null;
  /** Snapshots added so far (each one's rows carry its index as `seq`). */
  private snapshots = 0;
  private stride = 1;
  /** Train runs log their network as `teacher`; it is shown as `network`. */
  private readonly teacher: string;

  constructor(
    kind: 'search' | 'train' = 'search',
    private readonly maxSnapshots = Number.POSITIVE_INFINITY,
  ) {
    this.teacher = kind === 'train' ? 'network' : 'teacher';
  }

  /** The stride of the `arch` history: 1 until a long run's history was thinned. */
  get thinning(): number {
    return this.stride;
  }

  private track(r: MetricsRecord): void {
    const p = this.progress;
    p.step = Math.max(p.step, r.step);
    p.time = Math.max(p.time, r.time);
    if (r.kind === 'epoch') p.epochsDone++;
    if (r.kind !== 'event' && r.stage !== undefined) p.stage = r.stage;
    if (r.kind === 'event' && r.plan) {
      p.totalSteps = r.plan.totalSteps;
      p.totalEpochs = r.plan.totalEpochs;
    }
  }

  addRecord(r: MetricsRecord): ViewDelta {
    this.track(r);
    const d: ViewDelta = {};
    if (r.kind === 'step') {
      d.curves = stepRows(r, this.teacher);
      if (this.lastStep && r.step > this.lastStep.step && r.time >= this.lastStep.time)
        d.timing = [{ step: r.step, secondsPerStep: (r.time - this.lastStep.time) / (r.step - this.lastStep.step) }];
      this.lastStep = { step: r.step, time: r.time };
      const teaching: Record<string, number | undefined> = { ...r.teaching };
      d.teaching = Object.entries(TEACHING_SERIES)
        .filter(([k]) => Number.isFinite(teaching[k]))
        .map(([k, series]) => ({ step: r.step, stage: r.stage ?? 0, panel: 'ratio', series, value: teaching[k] as number }));
    } else if (r.kind === 'epoch') d.curves = epochRows(r, this.teacher);
    else if (r.event === 'resume' || r.event === 'start') this.lastStep = null; // no step time across a restart
    return this.merge(d);
  }

  addSnapshot(s: ArchSnapshot): ViewDelta {
    const d: ViewDelta = { arch: [], archStats: [], betas: [], kept: [] };
    const at = { step: s.step, stage: s.stage ?? 0 };
    const seq = this.snapshots++;
    for (const cell of ['normal', 'reduce'] as const) {
      const w = s.weights[cell];
      const labels = edgeLabels(w.length);
      const ends = edgeEnds(w.length);
      w.forEach((row, e) => {
        const ops = s.edgeOps?.[cell][e] ?? s.ops;
        const edge = labels[e] as string;
        const { node, input } = ends[e] as { node: number; input: number };
        const [key, nodeName, inputName] = [`${cell} ${edge}`, `n${node}`, stateName(input)];
        row.forEach((w, j) => {
          const op = ops[j] ?? String(j);
          const dev = w - 1 / row.length;
          d.arch?.push({
            step: s.step,
            seq,
            stage: at.stage,
            cell,
            key,
            edge,
            e,
            node: nodeName,
            input: inputName,
            nodeIdx: node,
            inputIdx: input,
            op,
            w,
            dev,
          });
        });
      });
      d.archStats?.push({ ...at, panel: 'entropy (nats)', series: cell, value: entropyOf(w) });
      d.archStats?.push({ ...at, panel: 'skip-connects', series: cell, value: countSkips(s, cell) });
      for (const [e, op] of keptEdges(s.genotype, cell)) d.kept?.push({ key: `${cell} ${labels[e]}`, keptOp: op });
      s.betas?.[cell].forEach((b, e) => {
        const { node, input } = ends[e] as { node: number; input: number };
        d.betas?.push({ step: s.step, cell, node: `n${node}`, input: stateName(input), b, dev: b - 1 / (node + 2) });
      });
    }
    return this.thin(seq, this.merge(d));
  }

  private thin(seq: number, d: ViewDelta): ViewDelta {
    if (!Number.isFinite(this.maxSnapshots)) return d;
    const prev = seq - 1;
    if (prev >= 0 && prev % this.stride !== 0) {
      // its rows are the block just before the new snapshot's, at the end: cut there, not a scan
      const arch = this.tables.arch;
      const end = arch.length - (d.arch?.length ?? 0);
      let start = end;
      while (start > 0 && (arch[start - 1] as ArchRow).seq === prev) start--;
      arch.splice(start, end - start);
      d.dropSeqs = [prev];
    }
    if (Math.floor(seq / this.stride) + 1 > this.maxSnapshots) {
      const stride = (this.stride *= 2);
      this.tables.arch = this.tables.arch.filter((r) => r.seq % stride === 0 || r.seq === seq);
    }
    return d;
  }

  private merge(d: ViewDelta): ViewDelta {
    for (const k of TABLE_NAMES) {
      const rows = d[k];
      if (rows === undefined) continue;
      if (rows.length === 0 && k !== 'kept') {
        delete d[k];
        continue;
      }
      if (k === 'kept') this.tables.kept = rows as KeptRow[];
      else (this.tables[k] as unknown[]).push(...rows);
    }
    return d;
  }
}

function countSkips(s: ArchSnapshot, cell: 'normal' | 'reduce'): number {
  return s.genotype[cell].filter(([op]) => op === 'skip_connect').length;
}

/** Every table of a finished run. */
export function runTables(
  metrics: readonly MetricsRecord[],
  snapshots: readonly ArchSnapshot[],
  kind: 'search' | 'train' = 'search',
): ViewTables {
  const v = new ViewRows(kind);
  for (const r of metrics) v.addRecord(r);
  for (const s of snapshots) v.addSnapshot(s);
  return v.tables;
}
