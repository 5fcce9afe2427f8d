// `lbt gradcheck`: every architect's hypergradient against brute-force central differences of
// the one-step unrolled objective O_v(A), on a small supernet and student in float64.
import type { Command } from 'commander';
import { checkCase, GRADCHECK_CASES, type LbtBatches } from '../../lbt/index.js';
import { createDartsSupernet } from '../../nas/supernet.js';
import { resnet18 } from '../../students/resnet.js';
import * as t from '../../torch/index.js';
import { studentNet, teacherNet } from '../../search/models.js';
import { UserError } from '../errors.js';

interface Opts {
  tolerance: string;
  seed: string;
  case?: string[];
}

export function registerGradcheck(program: Command): void {
  program
    .command('gradcheck')
    .description('check each architect (DARTS-1st/2nd, LBT and its switches) against central differences of O_v(A) in float64')
    .option('--tolerance <x>', 'largest relative error accepted', '1e-4')
    .option('--seed <n>', 'random seed', '0')
    .option('--case <name...>', `only these cases (${GRADCHECK_CASES.map((c) => c.name).join(', ')})`)
    .action((o: Opts) => {
      const tol = Number(o.tolerance);
      if (!(tol > 0)) throw new UserError(`--tolerance must be a positive number, got ${o.tolerance}`);
      const cases = o.case ? GRADCHECK_CASES.filter((c) => o.case?.includes(c.name)) : GRADCHECK_CASES;
      if (o.case && cases.length !== o.case.length) throw new UserError(`unknown case in --case ${o.case.join(' ')}`);
      const failures = t.withDefaultDtype('float64', () => {
        t.manualSeed(Number(o.seed));
        // a DARTS supernet with 2 nodes per cell and 3 cells (80 alphas), a ResNet-18 with one block per stage at 1/16 width
        const sup = createDartsSupernet({ C: 4, layers: 3, steps: 2, numClasses: 3, inChannels: 1 });
        t.noGrad(() =>
          sup.archParameters().forEach((a) =>
            t.copyInPlace(
              a,
              t.scope(() => t.randnLike(a).mul(0.5)),
            ),
          ),
        );
        const stu = resnet18({ numClasses: 3, inChannels: 1, width: 1 / 16, blocks: [1, 1, 1, 1] });
        const teacher = teacherNet(sup);
        const student = studentNet(stu);
        const teacherOpt = new t.optim.SGD(teacher.weights, { lr: 0.1, momentum: 0.9, weightDecay: 3e-4 });
        const studentOpt = new t.optim.SGD(student.weights, { lr: 0.05, momentum: 0.9, weightDecay: 3e-4 });
        const batch = (n: number) => ({ x: t.keep(t.randn([n, 1, 8, 8])), y: t.keep(t.randint(0, 3, [n])) });
        const batches: LbtBatches = { train: batch(4), val: batch(4), unlabeled: t.keep(t.randn([4, 1, 8, 8])) };
        // one real step each so that the momentum buffers the unrolled steps use are non-zero
        t.scope(() => {
          t.crossEntropy(teacher.forward(batches.train.x), batches.train.y).backward();
          teacherOpt.step();
          t.crossEntropy(student.forward(batches.train.x), batches.train.y).backward();
          studentOpt.step();
        });
        teacherOpt.zeroGrad();
        studentOpt.zeroGrad();
        sup.archParameters().forEach((a) => {
          a.grad = null;
        });
        let failed = 0;
        for (const c of cases) {
          const start = performance.now();
          const r = checkCase({ teacher, teacherOpt, student, studentOpt, batches }, c, { fdScale: 1e-5, step: 1e-5 });
          const ok = r.relError <= tol;
          if (!ok) failed++;
          process.stdout.write(
            `${ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(18)} relative error ${r.relError.toExponential(2)}  ` +
              `(|grad| ${r.numericNorm.toExponential(2)}, ${r.components} components, ${((performance.now() - start) / 1000).toFixed(1)} s)\n`,
          );
        }
        teacherOpt.dispose();
        studentOpt.dispose();
        sup.dispose();
        stu.dispose();
        t.disposeAll(batches);
        return failed;
      });
      if (failures > 0) throw new UserError(`${failures} case(s) exceed relative error ${tol}`, 1);
    });
}
