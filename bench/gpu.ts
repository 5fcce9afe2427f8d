// `npm run bench -- gpu`: lbt's side of scripts/gpu-check.sh. One search step on the C=16, 8-cell
// DARTS supernet at batch 64 (32x32x3, 10 classes), everything on one device: DARTS-2nd (the
// architect's unrolled step, then the weight step with clip 5) and LBT on the DARTS-2nd host (the
// same plus the ResNet-18 student's step). Prints one JSON line per variant:
// {variant, msPerStep, peakAllocatedMiB, hostReadsPerStep, device, libtorch}.
//   node dist/bench/main.js gpu [--device cuda] [--steps 5] [--batch 64] [--channels 16] [--layers 8]
import {
  Architect,
  DEFAULT_HYPERGRAD,
  netFromModule,
  StepMeter,
  studentStep,
  teacherFromModule,
  teacherStep,
} from '../src/lbt/index.js';
import { createDartsSupernet } from '../src/nas/supernet.js';
import { resnet18 } from '../src/students/resnet.js';
import * as t from '../src/torch/index.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] as string) : dflt;
}

const device = arg('device', 'cuda') as t.Device;
const steps = Number(arg('steps', '5'));
const B = Number(arg('batch', '64'));
const onCuda = device.startsWith('cuda');

function variant(name: 'darts-2nd' | 'lbt'): void {
  const withStudent = name === 'lbt';
  t.manualSeed(0);
  t.withDefaultDevice(device, () => {
    const sup = createDartsSupernet({ C: Number(arg('channels', '16')), layers: Number(arg('layers', '8')) });
    const teacher = teacherFromModule(sup, sup.archParameters(), (x, a) =>
      sup.forward(x, { normal: a[0] as t.Tensor, reduce: a[1] as t.Tensor }),
    );
    const student = withStudent ? netFromModule(resnet18()) : null;
    const sgd = { lr: 0.025, momentum: 0.9, weightDecay: 3e-4 };
    const tOpt = new t.optim.SGD(teacher.weights, sgd);
    const sOpt = student ? new t.optim.SGD(student.weights, sgd) : null;
    const arch = new Architect(teacher, DEFAULT_HYPERGRAD);
    const img = () => t.keep(t.randn([B, 3, 32, 32]).contiguous(true));
    const lab = () => t.keep(t.randint(0, 10, [B]));
    const batches = { train: { x: img(), y: lab() }, val: { x: img(), y: lab() }, unlabeled: img() };
    const wcfg = { lambda: 1, pseudoOnly: false, teacherGradClip: 5, studentGradClip: 5 };
    // the statistics stay on the device and are read once per step here (the search reads once per log interval)
    const meter = new StepMeter();
    const step = () => {
      arch.step({ teacherOpt: tOpt, student, studentOpt: sOpt, batches, meter });
      teacherStep(teacher, tOpt, batches.train, 5, meter);
      if (student && sOpt) studentStep(student, teacher, sOpt, { train: batches.train, u: batches.unlabeled }, wcfg, meter);
      meter.read();
    };
    step(); // warm-up: cuDNN algorithm search, allocator, optimizer state
    step();
    t.cudaSynchronize();
    if (onCuda) t.cudaMemory(0, { resetPeak: true });
    const reads = t.hostReads();
    const start = performance.now();
    for (let i = 0; i < steps; i++) step();
    t.cudaSynchronize();
    const ms = (performance.now() - start) / steps;
    const peak = onCuda ? t.cudaMemory(0).peakAllocated / 2 ** 20 : null;
    const out = {
      variant: name,
      msPerStep: ms,
      peakAllocatedMiB: peak,
      hostReadsPerStep: (t.hostReads() - reads) / steps,
      device,
      libtorch: t.buildInfo().version,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  });
}

if (onCuda && t.cudaDevices().length === 0) {
  process.stderr.write(`bench gpu: libtorch sees no CUDA device (CUDA compiled: ${t.buildInfo().cudaCompiled})\n`);
  process.exit(1);
}
// the paper's numbers are fp32: TF32 off; cuDNN picks its fastest kernels as the reference does
t.setEngineFlags({ tf32Matmul: false, tf32Cudnn: false, cudnnBenchmark: true });
variant('darts-2nd');
variant('lbt');
