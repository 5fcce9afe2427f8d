// `npm run bench -- engine`: our binding against Python torch on the same libtorch, interleaved in one run.
//   (a) a DARTS-like mixed block (N=64, 32x32, C=16, 5 ops) forward + backward
//   (b) a 3x3 conv forward + weight gradient at [64, 64, 32, 32]
//   (c) 10k adds of one-element tensors (per-op overhead)
// Prints median ms per side and the ratio ours/python (goal for a and b: <= 1.00).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as t from '../src/torch/index.js';
import { median } from './median.js';

const here = dirname(fileURLToPath(import.meta.url));
const refScript = join(here, '..', '..', 'bench', 'engine_ref.py');

function blockSetup() {
  t.manualSeed(0);
  const x = t.keep(t.randn([64, 16, 32, 32]).contiguous(true));
  const shapes: Record<string, number[]> = {
    dw1: [16, 1, 3, 3],
    pw1: [16, 16, 1, 1],
    dw2: [16, 1, 3, 3],
    pw2: [16, 16, 1, 1],
    dwd: [16, 1, 5, 5],
    pwd: [16, 16, 1, 1],
  };
  const ws = Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, t.keep(t.randn(s).requiresGrad_())])) as Record<
    string,
    t.Tensor
  >;
  const alpha = t.keep(t.zeros([5]).requiresGrad_());
  const lin = t.keep(t.randn([10, 16]).requiresGrad_());
  const y = t.keep(t.randint(0, 10, [64]));
  return { x, ws, alpha, lin, y };
}

function block(b: ReturnType<typeof blockSetup>): void {
  t.scope(() => {
    const { x, ws, alpha, lin, y } = b;
    const bn = (z: t.Tensor) => t.batchNorm(z, { training: true });
    const w = alpha.softmax(0);
    const wk = (k: number) => t.narrow(w, 0, k, 1);
    let s = bn(t.conv2d(t.conv2d(x.relu(), ws.dw1!, null, { padding: 1, groups: 16 }), ws.pw1!));
    s = bn(t.conv2d(t.conv2d(s.relu(), ws.dw2!, null, { padding: 1, groups: 16 }), ws.pw2!));
    const d = bn(t.conv2d(t.conv2d(x.relu(), ws.dwd!, null, { padding: 4, dilation: 2, groups: 16 }), ws.pwd!));
    const m = t.maxPool2d(x, 3, { stride: 1, padding: 1 });
    const a = t.avgPool2d(x, 3, { stride: 1, padding: 1, countIncludePad: false });
    const out = s
      .mul(wk(0))
      .add(d.mul(wk(1)))
      .add(m.mul(wk(2)))
      .add(a.mul(wk(3)))
      .add(x.mul(wk(4)));
    t.crossEntropy(t.linear(t.adaptiveAvgPool2d(out, 1).flatten(1), lin), y).backward();
  });
}

async function main(): Promise<void> {
  const threads = t.getNumThreads();
  // Debian's python3-torch lives under /usr/bin/python3 (a pyenv python3 on PATH would not see it)
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const py = spawn(python, [refScript, String(threads)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const ok = await new Promise<boolean>((resolve) => {
    py.on('error', () => resolve(false));
    py.stdin.write('adds\n');
    lines.next().then(
      (r) => resolve(!r.done),
      () => resolve(false),
    );
  });
  if (!ok) {
    process.stdout.write(
      'bench engine: skipped: python3 with torch is not installed (apt-get install python3-torch; bench-only)\n',
    );
    return;
  }
  const pyRun = async (kind: string) => {
    py.stdin.write(`${kind}\n`);
    const r = await lines.next();
    return Number(r.value);
  };
  const B = blockSetup();
  const cx = t.keep(t.randn([64, 64, 32, 32]).contiguous(true));
  const cw = t.keep(t.randn([64, 64, 3, 3]).requiresGrad_());
  const one = t.keep(t.ones([1]));
  const ours: Record<string, () => void> = {
    block: () => block(B),
    conv: () => t.scope(() => t.conv2d(cx, cw, null, { padding: 1 }).sum().backward()),
    adds: () =>
      t.scope(() => {
        let z = one;
        for (let i = 0; i < 10000; i++) {
          const n = z.add(one);
          if (z !== one) z.dispose();
          z = n;
        }
      }),
  };
  const time = (f: () => void) => {
    const s = performance.now();
    f();
    return performance.now() - s;
  };
  const reps: Record<string, number> = { block: 15, conv: 9, adds: 9 };
  process.stdout.write(`bench engine (libtorch ${t.buildInfo().version}, ${threads} threads, channels-last, interleaved)\n`);
  for (const kind of ['block', 'conv', 'adds']) {
    for (let i = 0; i < 2; i++) {
      ours[kind]!();
      await pyRun(kind);
    }
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < (reps[kind] as number); i++) {
      a.push(time(ours[kind]!));
      b.push(await pyRun(kind));
    }
    const [ma, mb] = [median(a), median(b)];
    process.stdout.write(
      `  ${kind.padEnd(6)} lbt ${ma.toFixed(2).padStart(8)} ms   python ${mb.toFixed(2).padStart(8)} ms   ratio ${(ma / mb).toFixed(2)}\n`,
    );
  }
  py.stdin.write('quit\n');
}

await main();
