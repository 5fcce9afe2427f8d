// A toy supernet (two mixed edges, four ops each) and a toy student, for exact checks in float64.
import * as t from '../../src/torch/index.js';
import { netFromModule, teacherFromModule } from '../../src/lbt/index.js';
import type { LbtBatches, Net, TeacherNet } from '../../src/lbt/index.js';

const { nn } = t;

class ToySupernet extends nn.Module {
  declare stem: t.nn.Sequential;
  declare e0: t.nn.Sequential;
  declare e1: t.nn.Sequential;
  declare e2: t.nn.Sequential;
  declare head: t.nn.Linear;
  constructor() {
    super();
    this.registerModule(
      'stem',
      new nn.Sequential(new nn.Conv2d(2, 4, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(4, { affine: false })),
    );
    this.registerModule(
      'e0',
      new nn.Sequential(new nn.Conv2d(4, 4, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(4, { affine: false })),
    );
    this.registerModule(
      'e1',
      new nn.Sequential(new nn.Conv2d(4, 4, 1, { bias: false }), new nn.BatchNorm2d(4, { affine: false })),
    );
    this.registerModule(
      'e2',
      new nn.Sequential(new nn.Conv2d(4, 4, 3, { padding: 2, dilation: 2, groups: 4, bias: false }), new nn.BatchNorm2d(4)),
    );
    this.registerModule('head', new nn.Linear(4, 3));
  }
  forward(x: t.Tensor, arch: readonly t.Tensor[]): t.Tensor {
    const [alphas, betas] = arch as [t.Tensor, t.Tensor];
    const w = alphas.softmax(1); // [2 edges, 4 ops]
    const b = betas.softmax(0); // edge normalisation over the 2 edges
    const h = this.stem.forward(x);
    const ops = (z: t.Tensor) => [
      this.e0.forward(z),
      this.e1.forward(z),
      this.e2.forward(z),
      t.avgPool2d(z, 3, { stride: 1, padding: 1, countIncludePad: false }),
    ];
    const mixed = (z: t.Tensor, e: number) =>
      ops(z).reduce((acc, o, k) => acc.add(o.mul(t.narrow(t.narrow(w, 0, e, 1), 1, k, 1).reshape([]))), t.zerosLike(z));
    const n1 = mixed(h.relu(), 0)
      .mul(t.narrow(b, 0, 0, 1))
      .add(mixed(t.tanh(h), 1).mul(t.narrow(b, 0, 1, 1)));
    return this.head.forward(t.adaptiveAvgPool2d(n1.relu(), 1).flatten(1));
  }
}

class ToyStudent extends nn.Layer {
  declare body: t.nn.Sequential;
  declare head: t.nn.Linear;
  constructor() {
    super();
    this.registerModule('body', new nn.Sequential(new nn.Conv2d(2, 3, 3, { padding: 1 }), new nn.BatchNorm2d(3), new nn.ReLU()));
    this.registerModule('head', new nn.Linear(3, 3));
  }
  forward(x: t.Tensor): t.Tensor {
    return this.head.forward(t.adaptiveAvgPool2d(t.tanh(this.body.forward(x)), 1).flatten(1));
  }
}

export interface Toy {
  teacher: TeacherNet;
  student: Net;
  teacherOpt: t.optim.SGD;
  studentOpt: t.optim.SGD;
  batches: LbtBatches;
  dispose(): void;
}

/** Builds the toy problem in float64, with momentum buffers already populated by one SGD step. */
export function makeToy(seed = 1): Toy {
  return t.withDefaultDtype('float64', () => {
    t.manualSeed(seed);
    const sup = new ToySupernet();
    const alphas = t.keep(t.randn([2, 4]).mul(0.5).requiresGrad_());
    const betas = t.keep(t.randn([2]).mul(0.5).requiresGrad_());
    const teacher = teacherFromModule(sup, [alphas, betas], (x, a) => sup.forward(x, a));
    const stu = new ToyStudent();
    const student = netFromModule(stu);
    const teacherOpt = new t.optim.SGD(teacher.weights, { lr: 0.1, momentum: 0.9, weightDecay: 3e-4 });
    const studentOpt = new t.optim.SGD(student.weights, { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
    const keep = (x: t.Tensor) => t.keep(x);
    const batches: LbtBatches = {
      train: { x: keep(t.randn([4, 2, 5, 5])), y: keep(t.tensor([0, 1, 2, 1], [4], { dtype: 'int64' })) },
      val: { x: keep(t.randn([4, 2, 5, 5])), y: keep(t.tensor([2, 0, 1, 0], [4], { dtype: 'int64' })) },
      unlabeled: keep(t.randn([5, 2, 5, 5])),
    };
    // one real step each, so that the unrolled steps see non-zero momentum buffers
    t.scope(() => {
      t.crossEntropy(teacher.forward(batches.train.x), batches.train.y).backward();
      teacherOpt.step();
      teacherOpt.zeroGrad();
      alphas.grad = null;
      betas.grad = null;
      t.crossEntropy(student.forward(batches.train.x), batches.train.y).backward();
      studentOpt.step();
      studentOpt.zeroGrad();
    });
    return {
      teacher,
      student,
      teacherOpt,
      studentOpt,
      batches,
      dispose() {
        teacherOpt.dispose();
        studentOpt.dispose();
        sup.dispose();
        stu.dispose();
        t.disposeAll([alphas, betas, batches]);
      },
    };
  });
}
