// One search step of the bench's problem, shared by `profile` and `reference`: the DARTS supernet
// (C=16, 8 cells, 10 classes, 32x32x3 by default), a ResNet-18 student, random data, and
// Algorithm 1's iteration: architect step, teacher weight step, student weight step (LBT only).
import { Architect, DEFAULT_HYPERGRAD, lbtIteration, netFromModule, StepMeter, teacherFromModule } from '../src/lbt/index.js';
import { createDartsSupernet } from '../src/nas/supernet.js';
import { resnet18 } from '../src/students/resnet.js';
import * as t from '../src/torch/index.js';

export type Variant = 'darts-1st' | 'darts-2nd' | 'lbt';
export const VARIANTS: readonly Variant[] = ['darts-2nd', 'darts-1st', 'lbt'];

export interface StepShape {
  batch: number;
  channels: number;
  layers: number;
  /** Input [inChannels, size, size]. */
  inChannels: number;
  size: number;
  classes: number;
  /** Student: ResNet-18 width multiplier and blocks per stage. */
  studentWidth: number;
  studentBlocks: [number, number, number, number];
}

/** The issue's table: C=16, 8 cells, batch 64, CIFAR-shaped data, a full ResNet-18. */
export const ISSUE_SHAPE: StepShape = {
  batch: 64,
  channels: 16,
  layers: 8,
  inChannels: 3,
  size: 32,
  classes: 10,
  studentWidth: 1,
  studentBlocks: [2, 2, 2, 2],
};

/** The default run (configs/presets/default.yaml): C=8, 5 cells, batch 32, 28x28x1, a reduced ResNet-18. */
export const DEFAULT_RUN_SHAPE: StepShape = {
  batch: 32,
  channels: 8,
  layers: 5,
  inChannels: 1,
  size: 28,
  classes: 10,
  studentWidth: 0.25,
  studentBlocks: [1, 1, 1, 1],
};

/** Reads --batch, --channels, --layers over a base shape (--shape default|issue). */
export function shapeFromArgs(argv: readonly string[]): StepShape {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const base = get('shape') === 'default' ? DEFAULT_RUN_SHAPE : ISSUE_SHAPE;
  const num = (name: string, d: number) => (get(name) === undefined ? d : Number(get(name)));
  return {
    ...base,
    batch: num('batch', base.batch),
    channels: num('channels', base.channels),
    layers: num('layers', base.layers),
  };
}

export interface StepRig {
  /** One full search step (architect, teacher step, student step for LBT). */
  step(): void;
  /** One supernet forward on the train batch (no backward). */
  forward(): void;
  dispose(): void;
}

export interface RigOptions {
  /** The supernet's straightforward forward (one op per edge and operation), as before the fused one. */
  straightforward?: boolean;
  /** No reuse of the architect's student pass in the student's weight step. */
  noReuse?: boolean;
  seed?: number;
}

export function makeRig(variant: Variant, s: StepShape, o: RigOptions = {}): StepRig {
  t.manualSeed(o.seed ?? 0);
  const sup = createDartsSupernet({ C: s.channels, layers: s.layers, numClasses: s.classes, inChannels: s.inChannels });
  sup.fused = !o.straightforward;
  const lbt = variant === 'lbt';
  const stu = lbt
    ? resnet18({ numClasses: s.classes, inChannels: s.inChannels, width: s.studentWidth, blocks: s.studentBlocks })
    : null;
  const arch = sup.archParameters();
  const teacher = teacherFromModule(sup, arch, (x, a) => sup.forward(x, { normal: a[0] as t.Tensor, reduce: a[1] as t.Tensor }));
  const student = stu ? netFromModule(stu) : null;
  const sgd = (w: readonly t.Tensor[]) => new t.optim.SGD(w, { lr: 0.025, momentum: 0.9, weightDecay: 3e-4 });
  const tOpt = sgd(teacher.weights);
  const sOpt = student ? sgd(student.weights) : null;
  const architect = new Architect(teacher, { ...DEFAULT_HYPERGRAD, firstOrder: variant === 'darts-1st' });
  // channels-last strides, as the data streams make them (src/data/stream.ts); for one channel,
  // contiguous(true) would keep NCHW strides and the network would run in the other layout
  const img = () => t.keep(t.randn([s.batch, s.size, s.size, s.inChannels]).permute([0, 3, 1, 2]));
  const labels = () => t.keep(t.randint(0, s.classes, [s.batch]));
  const train = { x: img(), y: labels() };
  const val = { x: img(), y: labels() };
  const unlabeled = img();
  const wcfg = { lambda: 1, pseudoOnly: false, teacherGradClip: 5, studentGradClip: 5 };
  const meter = new StepMeter();
  return {
    step() {
      const batches = { train, val, unlabeled };
      const reuse = !o.noReuse;
      lbtIteration({ teacher, teacherOpt: tOpt, architect, student, studentOpt: sOpt, batches, weights: wcfg, reuse, meter });
      meter.read(); // the search reads once per log interval; here once per step
    },
    forward() {
      t.noGrad(() => t.scope(() => teacher.forward(train.x)));
    },
    dispose() {
      architect.dispose();
      meter.dispose();
      tOpt.dispose();
      sOpt?.dispose();
      sup.dispose();
      stu?.dispose();
      t.disposeAll([train.x, train.y, val.x, val.y, unlabeled]);
    },
  };
}
