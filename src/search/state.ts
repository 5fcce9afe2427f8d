// What a search holds between steps (networks, optimizers, architect) and how it goes into and
// comes out of a checkpoint. P-DARTS rebuilds the teacher side at every stage; the student persists.
import { Architect, type HypergradConfig, type Net, type TeacherNet } from '../lbt/index.js';
import { allOps, type EdgeOps } from '../nas/p-darts.js';
import type { SearchNetwork } from '../nas/supernet.js';
import type { ResNet } from '../students/resnet.js';
import * as t from '../torch/index.js';
import { type Checkpoint, captureRng, type LoadedCheckpoint, namespaced, ungroup } from '../runs/checkpoint.js';
import type { SearchConfig } from '../config/schema.js';
import { buildStudent, buildSupernet, type DataShape, studentNet, teacherNet } from './models.js';

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

export function initialOps(): StageOps {
  return { normal: allOps(), reduce: allOps() };
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
    this.net = teacherNet(this.supernet);
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
    this.net = studentNet(this.model);
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

/** Where the loop is, as stored in checkpoint metadata. */
export interface Position {
  stage: number;
  epoch: number;
  stepInEpoch: number;
  step: number;
}

export interface SearchExtra {
  ops: StageOps;
  /** Final genotypes of finished P-DARTS stages, for the record. */
  stageGenotypes: unknown[];
  [k: string]: unknown;
}

function archMap(s: SearchNetwork): Map<string, t.Tensor> {
  const a = s.arch;
  const m = new Map<string, t.Tensor>([
    ['normal', a.normal],
    ['reduce', a.reduce],
  ]);
  if (a.betasNormal && a.betasReduce) {
    m.set('betasNormal', a.betasNormal);
    m.set('betasReduce', a.betasReduce);
  }
  return m;
}

export function makeCheckpoint(
  cfg: SearchConfig,
  teacher: TeacherSide,
  student: StudentSide | null,
  pos: Position,
  dataIterators: unknown,
  extra: SearchExtra,
): Checkpoint {
  const tensors = new Map([
    ...namespaced('teacher', teacher.supernet.stateDict()),
    ...namespaced('arch', archMap(teacher.supernet)),
  ]);
  const optimizers: Checkpoint['optimizers'] = {
    weights: teacher.opt.stateDict(),
    arch: teacher.architect.optimizer.stateDict(),
  };
  if (student) {
    for (const [k, v] of namespaced('student', student.model.stateDict())) tensors.set(k, v);
    optimizers.student = student.opt.stateDict();
  }
  return {
    tensors,
    optimizers,
    meta: { kind: 'search', config: cfg, ...pos, rng: captureRng(), dataIterators, extra },
  };
}

/** Loads a checkpoint's tensors and optimizer states into freshly built sides. */
export function restoreCheckpoint(c: LoadedCheckpoint, teacher: TeacherSide, student: StudentSide | null): void {
  teacher.supernet.loadStateDict(ungroup('teacher', c.tensors));
  const arch = ungroup('arch', c.tensors);
  const own = archMap(teacher.supernet);
  t.noGrad(() => {
    for (const [k, dst] of own) {
      const src = arch.get(k);
      if (!src) throw new Error(`checkpoint has no arch/${k}`);
      t.copyInPlace(dst, src);
    }
  });
  const opt = (role: string) => {
    const s = c.optimizers[role];
    if (!s) throw new Error(`checkpoint has no ${role} optimizer state`);
    return s;
  };
  teacher.opt.loadStateDict(opt('weights'));
  teacher.architect.optimizer.loadStateDict(opt('arch'));
  if (student) {
    student.model.loadStateDict(ungroup('student', c.tensors));
    student.opt.loadStateDict(opt('student'));
  }
}
