// What a run shows in TensorBoard: metrics records and architecture snapshots as scalars and
// histograms, written as they are logged (RunDir.log / writeSnapshot) next to metrics.jsonl.
//
//   train/*      step records: the last batch's teacher and student loss and accuracy, lr
//   teaching/*   step records: the sizes of the hypergradient's terms (see TeachingSignal)
//   epoch/*      epoch records: train means, validation, agreement, pseudo-label accuracy,
//                architecture entropy, skip-connects, seconds
//   alpha-<cell>-<edge>/<op>   softmax(α) of each edge and op (edge "n1<-k-2": node 1 from input k-2)
//   beta-<cell>/<edge>          PC-DARTS edge weights
//   alpha/<cell>                histogram of every edge's op weights
// Accuracies are fractions, as in metrics.jsonl; TensorBoard stores scalars as float32.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ArchSnapshot, EpochRecord, MetricsRecord, ModelMetrics, StepRecord } from './types.js';
import { edgeLabels } from './arch-names.js';
import { EventWriter, type EventWriterOptions } from './tfevents.js';

type Scalars = Record<string, number>;

function put(out: Scalars, tag: string, v: number | null | undefined): void {
  if (v !== undefined && v !== null && Number.isFinite(v)) out[tag] = v;
}

function modelScalars(
  out: Scalars,
  prefix: string,
  who: string,
  m: ModelMetrics | undefined,
  splits: readonly ('train' | 'val')[],
) {
  for (const split of splits) {
    const la = m?.[split];
    const name = splits.length === 1 ? who : `${who}_${split}`;
    put(out, `${prefix}/${name}_loss`, la?.loss);
    put(out, `${prefix}/${name}_acc`, la?.acc);
  }
}

function stepScalars(r: StepRecord): Scalars {
  const out: Scalars = {};
  modelScalars(out, 'train', 'teacher', r.teacher, ['train']);
  modelScalars(out, 'train', 'student', r.student, ['train']);
  put(out, 'train/lr', r.lr);
  for (const [k, v] of Object.entries(r.teaching ?? {})) put(out, `teaching/${k}`, v);
  return out;
}

function epochScalars(r: EpochRecord): Scalars {
  const out: Scalars = {};
  modelScalars(out, 'epoch', 'teacher', r.teacher, ['train', 'val']);
  modelScalars(out, 'epoch', 'student', r.student, ['train', 'val']);
  put(out, 'epoch/agreement', r.agreement);
  put(out, 'epoch/pseudo_label_acc', r.pseudoAcc);
  put(out, 'epoch/alpha_entropy_normal', r.alphaEntropy?.normal);
  put(out, 'epoch/alpha_entropy_reduce', r.alphaEntropy?.reduce);
  put(out, 'epoch/skip_connects', r.skipConnects);
  put(out, 'epoch/seconds', r.seconds);
  put(out, 'epoch/data_seconds', r.dataSeconds);
  put(out, 'epoch/lr', r.lr);
  return out;
}

/** The scalars of one metrics record (events have none). */
export function recordScalars(r: MetricsRecord): Scalars {
  return r.kind === 'step' ? stepScalars(r) : r.kind === 'epoch' ? epochScalars(r) : {};
}

const tagEdge = (label: string) => label.replace('←', '<-');

/** softmax(α) per cell, edge and op (P-DARTS: each edge's own ops), and PC-DARTS betas per edge. */
export function snapshotScalars(s: ArchSnapshot): Scalars {
  const out: Scalars = {};
  for (const cell of ['normal', 'reduce'] as const) {
    const w = s.weights[cell];
    const labels = edgeLabels(w.length).map(tagEdge);
    w.forEach((row, i) => {
      const ops = s.edgeOps?.[cell][i] ?? s.ops;
      row.forEach((v, j) => put(out, `alpha-${cell}-${labels[i]}/${ops[j] ?? j}`, v));
    });
    s.betas?.[cell].forEach((v, i) => put(out, `beta-${cell}/${labels[i] ?? i}`, v));
  }
  return out;
}

export function snapshotHistograms(s: ArchSnapshot): Record<string, number[]> {
  return { 'alpha/normal': s.weights.normal.flat(), 'alpha/reduce': s.weights.reduce.flat() };
}

/**
 * A run's event file. Wall times are the run's start plus the record's `time`, so a file rebuilt
 * from metrics.jsonl carries the same times as the one written live.
 */
export class TfRunLog {
  private readonly writer: EventWriter;

  constructor(
    dir: string,
    private readonly startedAt: number,
    o: Omit<EventWriterOptions, 'wallTime'> & { wallTime?: number } = {},
  ) {
    this.writer = new EventWriter(dir, { wallTime: o.wallTime ?? Date.now() / 1000, ...o });
  }

  get path(): string {
    return this.writer.path;
  }

  private wall(seconds: number): number {
    return this.startedAt + seconds;
  }

  record(r: MetricsRecord): void {
    this.writer.scalars(r.step, this.wall(r.time), recordScalars(r));
  }

  /** An architecture snapshot (at its `time`, or `seconds` into the run). */
  snapshot(s: ArchSnapshot, seconds = s.time ?? 0): void {
    this.writer.scalars(s.step, this.wall(seconds), snapshotScalars(s));
    this.writer.histograms(s.step, this.wall(seconds), snapshotHistograms(s));
  }

  /** A session resumes after `step`: TensorBoard forgets what it read of the previous session from step+1 on. */
  sessionStart(step: number, seconds: number): void {
    this.writer.sessionStart(step, this.wall(seconds));
  }

  close(): void {
    this.writer.close();
  }
}

export const EVENT_FILE_PREFIX = 'events.out.tfevents.';

/**
 * Replaces a run's event files by one holding `records` and `snapshots` (merged in step order),
 * then a session start after the last kept step: what a resumed run writes, so its events equal an
 * uninterrupted run's (and a TensorBoard that read the old file drops the steps that were undone).
 */
export function rewriteEvents(
  dir: string,
  startedAt: number,
  records: readonly MetricsRecord[],
  snapshots: readonly ArchSnapshot[],
  resumeAfter: number,
): TfRunLog {
  for (const f of readdirSync(dir)) if (f.startsWith(EVENT_FILE_PREFIX)) rmSync(join(dir, f));
  const log = new TfRunLog(dir, startedAt);
  let j = 0;
  for (const r of records) {
    for (; j < snapshots.length && (snapshots[j] as ArchSnapshot).step < r.step; j++) log.snapshot(snapshots[j] as ArchSnapshot);
    log.record(r);
  }
  for (; j < snapshots.length; j++) log.snapshot(snapshots[j] as ArchSnapshot);
  log.sessionStart(resumeAfter + 1, records.at(-1)?.time ?? 0);
  return log;
}
