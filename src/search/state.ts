// What a search holds between steps (networks, optimizers, architect, streams, position) and how it
// goes into and comes out of a checkpoint. P-DARTS rebuilds the teacher side at every stage; the
// student persists.
import { Architect, type HypergradConfig, type Net, type TeacherNet } from '../lbt/index.js';
import { archEntries, loadArchTensors } from '../nas/arch.js';
import { allOps, type EdgeOps } from '../nas/p-darts.js';
import { numEdges } from '../nas/primitives.js';
import type { SearchNetwork } from '../nas/supernet.js';
import type { ResNet } from '../students/resnet.js';
import * as t from '../torch/index.js';
import { autocastOf } from '../runs/device.js';
import type { SearchConfig } from '../config/schema.js';
import type { SplitData } from '../data/load.js';
import type { BatchStream, StreamState } from '../data/stream.js';
import {
  type Checkpoint,
  CheckpointError,
  captureRng,
  type LoadedCheckpoint,
  namespaced,
  restoreRng,
  saveCheckpoint,
  ungroup,
} from '../runs/checkpoint.js';
import type { Progress } from '../runs/progress.js';
import type { RunDir } from '../runs/run-dir.js';
import { buildStudent, buildSupernet, type DataShape, studentNet, teacherNet } from './models.js';
import type { Position, SearchPlan } from './plan.js';
import type { EpochTotals, EpochTotalsState } from './step.js';

export function hypergradConfig(cfg: SearchConfig): HypergradConfig {
  return {
    lambda: cfg.lambda,
    gamma: cfg.gamma,
    firstOrder: cfg.order === 'first',
    paperForm: cfg.paperForm,
    studentOnly: cfg.studentOnly,
    pseudoOnly: cfg.pseudoOnly,
    fdScale: 0.01,
    hvp: 'finite-difference',
  };
}

/** The P-DARTS operations still on per edge (all eight everywhere for DARTS and PC-DARTS). */
export interface StageOps {
  normal: EdgeOps;
  reduce: EdgeOps;
}

export function initialOps(steps: number): StageOps {
  return { normal: allOps(numEdges(steps)), reduce: allOps(numEdges(steps)) };
}

/** The teacher side: supernet, its weight optimizer and the architect. */
export class TeacherSide {
  readonly supernet: SearchNetwork;
  readonly net: TeacherNet;
  readonly opt: t.optim.SGD;
  readonly architect: Architect;

  constructor(cfg: SearchConfig, shape: DataShape, stage: number, ops: StageOps) {
    const pd = cfg.method === 'p-darts';
    this.supernet = buildSupernet(
      cfg,
      shape,
      pd
        ? {
            layers: cfg.pdarts.layers[stage] as number,
            opsNormal: ops.normal,
            opsReduce: ops.reduce,
            skipDropRate: cfg.pdarts.dropout[stage] as number,
          }
        : undefined,
    );
    // built under the run's default device (runSearch): autocast follows it
    this.net = teacherNet(this.supernet, autocastOf(cfg.engine, t.getDefaultDevice()));
    this.opt = new t.optim.SGD(this.net.weights, {
      lr: cfg.weights.lr,
      momentum: cfg.weights.momentum,
      weightDecay: cfg.weights.weightDecay,
    });
    this.architect = new Architect(this.net, hypergradConfig(cfg), {
      lr: cfg.arch.lr,
      betas: cfg.arch.betas,
      eps: cfg.arch.eps,
      weightDecay: cfg.arch.weightDecay,
      gradClip: cfg.arch.gradClip > 0 ? cfg.arch.gradClip : null,
    });
  }

  dispose(): void {
    this.architect.dispose();
    this.opt.dispose();
    this.supernet.dispose();
  }
}

/** The student side (LBT only): a ResNet and its optimizer. */
export class StudentSide {
  readonly model: ResNet;
  readonly net: Net;
  readonly opt: t.optim.SGD;

  constructor(cfg: SearchConfig, shape: DataShape) {
    this.model = buildStudent(cfg, shape);
    this.net = studentNet(this.model, autocastOf(cfg.engine, t.getDefaultDevice()));
    this.opt = new t.optim.SGD(this.net.weights, {
      lr: cfg.student.lr,
      momentum: cfg.student.momentum,
      weightDecay: cfg.student.weightDecay,
    });
  }

  dispose(): void {
    this.opt.dispose();
    this.model.dispose();
  }
}

export interface SearchExtra {
  ops: StageOps;
  /** Final genotypes of finished P-DARTS stages, for the record. */
  stageGenotypes: unknown[];
  [k: string]: unknown;
}

/** The three batch streams of a search: D_tr by epochs; D_val and D_u drawn as needed. */
export interface Streams {
  train: BatchStream;
  valid: BatchStream;
  unlabeled: BatchStream;
}

/** A search between steps: everything the loop's pieces read and change. */
export interface Searching {
  readonly cfg: SearchConfig;
  readonly plan: SearchPlan;
  readonly run: RunDir;
  readonly data: SplitData;
  readonly device: t.Device;
  readonly streams: Streams;
  /** Rebuilt at every P-DARTS stage. */
  teacher: TeacherSide;
  readonly student: StudentSide | null;
  readonly extra: SearchExtra;
  pos: Position;
  readonly progress: Progress;
  readonly started: number;
  /** The running totals of the epoch in progress (saved with a mid-epoch checkpoint), or null between epochs. */
  totals: EpochTotals | null;
  /** The global step of the last checkpoint written. */
  savedStep: number;
}

/** Writes the search's resumable state: networks, optimizers, position, RNG, data iterators. */
export function saveSearchCheckpoint(s: Searching): void {
  const { teacher, student } = s;
  const tensors = new Map([
    ...namespaced('teacher', teacher.supernet.stateDict()),
    ...namespaced('arch', new Map(archEntries(teacher.supernet.arch))),
  ]);
  const optimizers: Checkpoint['optimizers'] = {
    weights: teacher.opt.stateDict(),
    arch: teacher.architect.optimizer.stateDict(),
  };
  if (student) {
    for (const [k, v] of namespaced('student', student.model.stateDict())) tensors.set(k, v);
    optimizers.student = student.opt.stateDict();
  }
  const dataIterators = Object.fromEntries(Object.entries(s.streams).map(([k, st]) => [k, (st as BatchStream).state()]));
  const midEpoch = s.totals && s.pos.stepInEpoch > 0 ? { epochTotals: s.totals.toJSON() } : {};
  const extra = { ...s.extra, ...midEpoch };
  const meta = {
    kind: 'search' as const,
    config: s.cfg,
    ...s.pos,
    ...captureRng(),
    dataIterators,
    extra,
    records: s.run.records,
  };
  saveCheckpoint(s.run.path('checkpoint'), { tensors, optimizers, meta });
  s.savedStep = s.pos.step;
}

/** A checkpoint's extra: the search's (P-DARTS ops, stage genotypes) and the running totals of a mid-epoch one. */
export function splitExtra(c: LoadedCheckpoint): { extra: SearchExtra; totals: EpochTotalsState | null } {
  const { epochTotals, ...extra } = (c.meta.extra ?? {}) as SearchExtra & { epochTotals?: EpochTotalsState };
  return { extra: extra as SearchExtra, totals: c.meta.stepInEpoch > 0 ? (epochTotals ?? null) : null };
}

/** Loads a checkpoint into a freshly opened search: networks, optimizers, data iterators and RNG. */
export function restoreSearch(s: Searching, c: LoadedCheckpoint): void {
  const path = s.run.path('checkpoint');
  try {
    restoreSides(c, path, s.teacher, s.student);
    const it = c.meta.dataIterators as Record<keyof Streams, StreamState>;
    for (const k of Object.keys(s.streams) as (keyof Streams)[]) s.streams[k].restore(it[k]);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(path, `does not fit this run's networks or data (${(e as Error).message})`);
  }
  restoreRng(c.meta);
}

function restoreSides(c: LoadedCheckpoint, path: string, teacher: TeacherSide, student: StudentSide | null): void {
  teacher.supernet.loadStateDict(ungroup('teacher', c.tensors));
  const missing = loadArchTensors(teacher.supernet.arch, ungroup('arch', c.tensors));
  if (missing !== null) throw new CheckpointError(path, `has no arch/${missing} (a checkpoint of another search space?)`);
  const opt = (role: string) => {
    const o = c.optimizers[role];
    if (!o) throw new CheckpointError(path, `has no ${role} optimizer state`);
    return o;
  };
  teacher.opt.loadStateDict(opt('weights'));
  teacher.architect.optimizer.loadStateDict(opt('arch'));
  if (student) {
    student.model.loadStateDict(ungroup('student', c.tensors));
    student.opt.loadStateDict(opt('student'));
  }
}

/** Frees the networks and closes the streams. */
export function closeSearch(s: Searching): void {
  s.teacher.dispose();
  s.student?.dispose();
  for (const st of Object.values(s.streams)) (st as BatchStream).close();
}
