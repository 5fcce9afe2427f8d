// `npm run bench -- profile`: what one search step launches and where its time goes, for
// DARTS-2nd, DARTS-1st and LBT (ResNet-18 student) on the DARTS supernet, with the supernet's
// fused forward and with its straightforward one (one op per edge and operation). Each run is its
// own process, after a warm-up step. Prints JS → native op calls and kernels per step and per
// supernet forward (machine-independent: track them), ms per step, peak tensor memory and peak
// RSS, and the top-level ops by time.
//   node dist/bench/main.js profile [--shape issue|default] [--batch N] [--channels C] [--layers L]
//                                   [--top K] [--only fused|straightforward] [--cpu]
// --cpu: op times are the main thread's CPU time, not wall time (use with LBT_NUM_THREADS=1 on a
// busy machine: what each op computed, whatever else runs).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as t from '../src/torch/index.js';
import { makeRig, shapeFromArgs, type Variant, VARIANTS } from './step.js';

type Mode = 'fused' | 'straightforward';

interface ChildResult {
  variant: Variant;
  mode: Mode;
  stepMs: number;
  step: t.OpProfile;
  forward: t.OpProfile;
  peakTensorMiB: number;
  maxRssMiB: number;
  /** Tensor values read into JS during the step (item, toArray): one device sync each on a GPU. */
  hostReads: number;
}

function child(variant: Variant, mode: Mode): void {
  const rig = makeRig(variant, shapeFromArgs(process.argv), { straightforward: mode === 'straightforward' });
  rig.step(); // warm-up: oneDNN primitives, allocator, optimizer state
  t.peakTensorBytes(true);
  const cpuTime = process.argv.includes('--cpu');
  const reads0 = t.hostReads();
  const t0 = performance.now();
  const { profile: step } = t.profileOps(() => rig.step(), { cpuTime });
  const stepMs = performance.now() - t0;
  const hostReads = t.hostReads() - reads0;
  const peakTensorMiB = t.peakTensorBytes() / 2 ** 20;
  const { profile: forward } = t.profileOps(() => rig.forward());
  rig.dispose();
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  const out: ChildResult = { variant, mode, stepMs, step, forward, peakTensorMiB, maxRssMiB, hostReads };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function runChild(variant: Variant, mode: Mode): ChildResult {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [self, '--child', variant, mode, ...process.argv.slice(2)], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`${variant} ${mode}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as ChildResult;
}

const pad = (v: string | number, n: number) => String(v).padStart(n);
const short = (name: string) => name.replace('autograd::engine::evaluate_function: ', 'bwd ').replace('aten::', '');

function printTop(r: ChildResult, k: number): void {
  const total = Object.values(r.step.top).reduce((s, o) => s + o.ms, 0);
  process.stdout.write(`\n${r.variant} (${r.mode}): top-level ops by time, ${total.toFixed(0)} ms in ops\n`);
  const rows = Object.entries(r.step.top).sort((a, b) => b[1].ms - a[1].ms);
  for (const [name, o] of rows.slice(0, k)) {
    process.stdout.write(
      `  ${short(name).padEnd(40)} ${pad(o.count, 6)} x ${pad((o.ms / o.count).toFixed(3), 8)} ms = ` +
        `${pad(o.ms.toFixed(0), 6)} ms ${pad(((100 * o.ms) / total).toFixed(1), 5)}%\n`,
    );
  }
}

function parent(): void {
  const shape = shapeFromArgs(process.argv);
  const arg = (n: string) => {
    const i = process.argv.indexOf(`--${n}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const topK = Number(arg('top') ?? 12);
  const only = arg('only') as Mode | undefined;
  const modes: Mode[] = only ? [only] : ['straightforward', 'fused'];
  process.stdout.write(
    `step profile: DARTS supernet C=${shape.channels}, ${shape.layers} cells, batch ${shape.batch}, ` +
      `${shape.inChannels}x${shape.size}x${shape.size}; student ResNet-18 x${shape.studentWidth} ` +
      `[${shape.studentBlocks}]; ${t.getNumThreads()} threads (profiling adds about 1 us per op)\n\n`,
  );
  const results: ChildResult[] = [];
  for (const v of VARIANTS) {
    for (const m of modes) {
      process.stderr.write(`profiling ${v} (${m}) ...\n`);
      results.push(runChild(v, m));
    }
  }
  process.stdout.write('one supernet forward (train batch):\n');
  for (const m of modes) {
    const f = results.find((r) => r.mode === m)?.forward as t.OpProfile;
    process.stdout.write(`  ${m.padEnd(16)} ${pad(f.calls, 7)} op calls ${pad(f.kernels, 7)} kernels\n`);
  }
  process.stdout.write('\nvariant    forward           op calls   kernels  host reads   ms/step  peak tensors  peak RSS\n');
  for (const r of results) {
    process.stdout.write(
      `${r.variant.padEnd(10)} ${r.mode.padEnd(16)} ${pad(r.step.calls, 9)} ${pad(r.step.kernels, 9)} ${pad(r.hostReads, 11)} ` +
        `${pad(r.stepMs.toFixed(0), 9)} ${pad(r.peakTensorMiB.toFixed(0), 9)} MiB ${pad(r.maxRssMiB.toFixed(0), 5)} MiB\n`,
    );
  }
  for (const r of results) printTop(r, topK);
}

const ci = process.argv.indexOf('--child');
if (ci > 0) child(process.argv[ci + 1] as Variant, process.argv[ci + 2] as Mode);
else parent();
