// `npm run bench -- architect`: one architect step on the C=16, 8-cell DARTS supernet at batch 64
// (32x32, 3 channels, 10 classes) with a ResNet-18 student: DARTS-1st, DARTS-2nd, LBT on the
// DARTS-2nd host, and the paper's literal two-pair form. Each variant runs in its own process
// (peak RSS is per process); rounds interleave the variants. Prints ms per step and the ratios.
//   node dist/bench/main.js architect [--rounds 2] [--batch 64] [--channels 16] [--layers 8]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Architect, DEFAULT_HYPERGRAD, type HypergradConfig, StepMeter } from '../src/lbt/index.js';
import { createDartsSupernet } from '../src/nas/supernet.js';
import { resnet18 } from '../src/students/resnet.js';
import * as t from '../src/torch/index.js';
import { studentNet, teacherNet } from '../src/search/models.js';

const VARIANTS: Record<string, { student: boolean; cfg: Partial<HypergradConfig> }> = {
  'darts-1st': { student: false, cfg: { firstOrder: true } },
  'darts-2nd': { student: false, cfg: {} },
  lbt: { student: true, cfg: {} },
  'lbt-two-pairs': { student: true, cfg: { separatePairs: true } },
};

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

function child(variant: string): void {
  const v = VARIANTS[variant];
  if (!v) throw new Error(`unknown variant ${variant}`);
  const B = arg('batch', 64);
  t.manualSeed(0);
  const sup = createDartsSupernet({ C: arg('channels', 16), layers: arg('layers', 8) });
  const stu = resnet18();
  const teacher = teacherNet(sup);
  const student = studentNet(stu);
  const tOpt = new t.optim.SGD(teacher.weights, { lr: 0.025, momentum: 0.9, weightDecay: 3e-4 });
  const sOpt = new t.optim.SGD(student.weights, { lr: 0.025, momentum: 0.9, weightDecay: 3e-4 });
  const arch = new Architect(teacher, { ...DEFAULT_HYPERGRAD, ...v.cfg });
  const img = () => t.keep(t.randn([B, 3, 32, 32]).contiguous(true));
  const batches = {
    train: { x: img(), y: t.keep(t.randint(0, 10, [B])) },
    val: { x: img(), y: t.keep(t.randint(0, 10, [B])) },
    unlabeled: img(),
  };
  const meter = new StepMeter();
  const step = () => {
    arch.step({ teacherOpt: tOpt, student: v.student ? student : null, studentOpt: v.student ? sOpt : null, batches, meter });
    meter.read();
  };
  step(); // warm-up: oneDNN primitives, allocator, Adam state
  const s = performance.now();
  step();
  const ms = performance.now() - s;
  process.stdout.write(`${JSON.stringify({ ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
}

function parent(): void {
  const rounds = arg('rounds', 2);
  const self = fileURLToPath(import.meta.url);
  const res: Record<string, { ms: number[]; rss: number[] }> = {};
  for (let r = 0; r < rounds; r++) {
    for (const name of Object.keys(VARIANTS)) {
      const out = spawnSync(process.execPath, [self, '--child', name, ...process.argv.slice(2)], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`${name}: ${out.stderr}`);
      const { ms, maxRssMiB } = JSON.parse(out.stdout.trim().split('\n').at(-1) as string) as { ms: number; maxRssMiB: number };
      const e = (res[name] ??= { ms: [], rss: [] });
      e.ms.push(ms);
      e.rss.push(maxRssMiB);
      process.stderr.write(`round ${r + 1} ${name}: ${ms.toFixed(0)} ms\n`);
    }
  }
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number;
  const base = med(res['darts-2nd']!.ms);
  process.stdout.write(
    `architect step, C=${arg('channels', 16)} ${arg('layers', 8)} cells, batch ${arg('batch', 64)}, ResNet-18 student, ${t.getNumThreads()} threads, median of ${rounds}\n`,
  );
  for (const [name, e] of Object.entries(res)) {
    process.stdout.write(
      `  ${name.padEnd(14)} ${med(e.ms).toFixed(0).padStart(7)} ms   x${(med(e.ms) / base).toFixed(2)} of DARTS-2nd   peak RSS ${Math.max(...e.rss).toFixed(0)} MiB\n`,
    );
  }
  const two = med(res['lbt-two-pairs']!.ms);
  const one = med(res.lbt!.ms);
  process.stdout.write(
    `  LBT / DARTS-2nd = ${(one / base).toFixed(2)} (goal <= 1.27); combined / two-pair = ${(one / two).toFixed(2)}\n`,
  );
}

const ci = process.argv.indexOf('--child');
if (ci > 0) child(process.argv[ci + 1] as string);
else parent();
