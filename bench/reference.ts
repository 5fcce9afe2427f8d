// `npm run bench -- reference`: one search step of lbt beside the DARTS reference's own step
// (quark0/darts cnn/, on Debian's python3-torch: the same libtorch), interleaved in one run, on
// the problem: the C=16, 8-cell supernet, batch 64, random CIFAR-shaped data, an
// architect step plus the weight step. Prints per round and the medians' ratios:
//   DARTS-2nd lbt/reference (goal <= 0.40), DARTS-1st (<= 0.35), LBT / lbt's DARTS-2nd (<= 1.20)
// and every side's peak RSS. The reference checkout is not part of lbt: point LBT_DARTS_REF at it
// (its root or its cnn/ folder), e.g. git clone https://github.com/quark0/darts /tmp/darts.
//   LBT_DARTS_REF=/tmp/darts node dist/bench/main.js reference [--rounds 2] [--batch 64] [--channels 16] [--layers 8]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as t from '../src/torch/index.js';
import { makeRig, shapeFromArgs, type Variant } from './step.js';
import { median } from './median.js';

const here = dirname(fileURLToPath(import.meta.url));
const refScript = join(here, '..', '..', 'bench', 'reference_step.py');

interface Sample {
  ms: number;
  maxRssMiB: number;
}

/** lbt's side: a fresh process per sample (peak RSS per variant), one warm-up step, one timed step. */
function child(variant: Variant): void {
  const rig = makeRig(variant, shapeFromArgs(process.argv));
  rig.step();
  const s = performance.now();
  rig.step();
  const ms = performance.now() - s;
  rig.dispose();
  process.stdout.write(`${JSON.stringify({ ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
}

function lbtSample(variant: Variant): Sample {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [self, '--child', variant, ...process.argv.slice(2)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`lbt ${variant}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as Sample;
}

function referenceDir(): string | null {
  const dir = process.env.LBT_DARTS_REF;
  if (!dir) return null;
  for (const d of [join(dir, 'cnn'), dir])
    if (existsSync(join(d, 'model_search.py')) && existsSync(join(d, 'architect.py'))) return d;
  throw new Error(`LBT_DARTS_REF=${dir}: no model_search.py and architect.py there or in its cnn/ folder`);
}

/** The reference's side: one long-lived python process, asked for one timed step at a time. */
async function startReference(dir: string, shape: ReturnType<typeof shapeFromArgs>) {
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const args = [refScript, dir, String(t.getNumThreads()), String(shape.batch), String(shape.channels), String(shape.layers)];
  const py = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  py.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const ask = async (kind: 'darts-2nd' | 'darts-1st'): Promise<Sample> => {
    py.stdin.write(`${kind}\n`);
    const r = await lines.next();
    if (r.done) throw new Error(`reference step failed: ${err.trim().split('\n').slice(-5).join('\n')}`);
    return JSON.parse(r.value) as Sample;
  };
  return { ask, stop: () => py.stdin.end('quit\n') };
}

async function parent(): Promise<void> {
  const shape = shapeFromArgs(process.argv);
  const ri = process.argv.indexOf('--rounds');
  const rounds = ri > 0 ? Number(process.argv[ri + 1]) : 2;
  const dir = referenceDir();
  if (dir === null) {
    process.stdout.write(
      'bench reference: skipped: set LBT_DARTS_REF to a checkout of https://github.com/quark0/darts ' +
        '(and apt-get install python3-torch); bench-only, never committed\n',
    );
    return;
  }
  const probe = spawnSync(existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', ['-c', 'import torch']);
  if (probe.status !== 0) {
    process.stdout.write('bench reference: skipped: python3 with torch is not installed (apt-get install python3-torch)\n');
    return;
  }
  const ref = await startReference(dir, shape);
  const res: Record<string, Sample[]> = {};
  const add = (k: string, s: Sample) => {
    (res[k] ??= []).push(s);
    process.stderr.write(`  ${k.padEnd(16)} ${s.ms.toFixed(0).padStart(7)} ms  peak RSS ${s.maxRssMiB.toFixed(0)} MiB\n`);
  };
  try {
    for (let r = 0; r < rounds; r++) {
      process.stderr.write(`round ${r + 1}\n`);
      for (const v of ['darts-2nd', 'darts-1st'] as const) {
        add(`lbt ${v}`, lbtSample(v));
        add(`ref ${v}`, await ref.ask(v));
      }
      add('lbt lbt', lbtSample('lbt'));
    }
  } finally {
    ref.stop();
  }
  const m = (k: string) => median((res[k] ?? []).map((s) => s.ms));
  const rss = (k: string) => Math.max(...(res[k] ?? []).map((s) => s.maxRssMiB));
  const row = (name: string, lbt: string, refKey: string | null, ratio: number, goal: number, of: string) => {
    const refMs = refKey ? `${(m(refKey) / 1000).toFixed(1)} s (${rss(refKey).toFixed(0)} MiB)` : '—';
    process.stdout.write(
      `| ${name} | ${(m(lbt) / 1000).toFixed(1)} s (${rss(lbt).toFixed(0)} MiB) | ${refMs} | ${ratio.toFixed(2)} ${of} | ≤ ${goal.toFixed(2)} |\n`,
    );
  };
  process.stdout.write(
    `\nC=${shape.channels}, ${shape.layers} cells, batch ${shape.batch}, ${t.getNumThreads()} threads, ` +
      `architect step + weight step(s), median of ${rounds} (peak RSS)\n\n`,
  );
  process.stdout.write('| step | lbt | DARTS reference code | ratio | goal |\n|---|---|---|---|---|\n');
  row('DARTS-2nd', 'lbt darts-2nd', 'ref darts-2nd', m('lbt darts-2nd') / m('ref darts-2nd'), 0.4, 'of the reference');
  row('DARTS-1st', 'lbt darts-1st', 'ref darts-1st', m('lbt darts-1st') / m('ref darts-1st'), 0.35, 'of the reference');
  row('LBT (ResNet-18) on DARTS-2nd', 'lbt lbt', null, m('lbt lbt') / m('lbt darts-2nd'), 1.2, "of lbt's DARTS-2nd");
}

const ci = process.argv.indexOf('--child');
if (ci > 0) child(process.argv[ci + 1] as Variant);
else await parent();
