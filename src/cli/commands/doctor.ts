// `lbt doctor`: what the engine runs on, and whether it is set up for speed.
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { realpathSync } from 'node:fs';
import * as t from '../../torch/index.js';
import { UserError } from '../errors.js';

function blasInUse(): string {
  // Debian selects the BLAS behind libblas.so.3 with update-alternatives.
  for (const p of ['/usr/lib/x86_64-linux-gnu/libblas.so.3', '/usr/lib/aarch64-linux-gnu/libblas.so.3']) {
    try {
      return realpathSync(p);
    } catch {}
  }
  return 'unknown';
}

/** GFLOP/s of a 3x3 conv forward ([32,64,32,32] → 64 channels), timed for about a second. */
function convThroughput(): number {
  return t.scope(() => {
    const x = t.randn([32, 64, 32, 32]).contiguous(true);
    const w = t.randn([64, 64, 3, 3]).contiguous(true);
    const flop = 2 * 32 * 64 * 32 * 32 * 64 * 9;
    t.scope(() => t.conv2d(x, w, null, { padding: 1 })); // warm-up
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < 1000) {
      t.scope(() => t.conv2d(x, w, null, { padding: 1 }));
      n++;
    }
    return (flop * n) / ((performance.now() - start) / 1000) / 1e9;
  });
}

/** Whether CUDA is compiled in and usable, and the GPUs libtorch sees. */
function cudaReport(info: t.BuildInfo): { usable: boolean; line: string; gpus: t.CudaDeviceInfo[] } {
  if (!info.cudaCompiled) return { usable: false, line: 'not compiled (CPU libtorch; LIBTORCH=... for a CUDA build)', gpus: [] };
  const gpus = t.cudaDevices();
  if (!info.cudaAvailable || gpus.length === 0)
    return { usable: false, line: 'compiled, not usable: no CUDA device (driver, or CUDA_VISIBLE_DEVICES?)', gpus };
  return { usable: true, line: `compiled, usable: ${gpus.length} device(s), cuDNN ${info.cudnnAvailable ? 'on' : 'off'}`, gpus };
}

function gpuLine(g: t.CudaDeviceInfo): string {
  if (g.totalMemory === undefined) return g.name;
  return `${g.name}, ${(g.totalMemory / 2 ** 30).toFixed(1)} GiB, compute capability ${g.capability}, ${g.multiProcessors} SMs`;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the engine: libtorch build, BLAS, threads, devices, conv throughput')
    .option('--json', 'print the report as JSON')
    .action((o: { json?: boolean }) => {
      const info = t.buildInfo();
      const blas = blasInUse();
      const threads = t.getNumThreads();
      const cores = availableParallelism();
      const gflops = convThroughput();
      const problems: string[] = [];
      if (threads < Math.min(2, cores)) problems.push(`libtorch uses ${threads} thread(s) on ${cores} cores`);
      if (/\/blas\/libblas/.test(blas)) problems.push(`reference BLAS in use (${blas}): apt-get install libopenblas0-pthread`);
      if (!info.mkldnn) problems.push('libtorch was built without oneDNN (MKLDNN): convolutions will be slow');
      const cuda = cudaReport(info);
      const report = {
        libtorch: info.version,
        oneDNN: info.mkldnn,
        cudaCompiled: info.cudaCompiled,
        cudaUsable: cuda.usable,
        cudnn: info.cudnnAvailable,
        cudaDevices: info.cudaDeviceCount,
        gpus: cuda.gpus,
        blas,
        threads,
        cores,
        malloc: 'mallopt thresholds set',
        cpuOpenMP: /OpenMP/.test(info.parallel),
        conv3x3GflopsPerSec: Number(gflops.toFixed(1)),
        problems,
      };
      if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        const rows: [string, string][] = [
          ['libtorch', `${info.version} (oneDNN ${info.mkldnn ? 'on' : 'off'})`],
          ['CUDA', cuda.line],
          ...cuda.gpus.map((g): [string, string] => [`gpu ${g.index}`, gpuLine(g)]),
          ['BLAS', blas],
          ['threads', `${threads} of ${cores} cores`],
          ['conv 3x3 fwd', `${gflops.toFixed(1)} GFLOP/s`],
        ];
        for (const [k, v] of rows) process.stdout.write(`${k.padEnd(14)} ${v}\n`);
        process.stdout.write(problems.length ? `problems:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` : 'ok\n');
      }
      if (problems.length) throw new UserError(`doctor found ${problems.length} problem(s)`, 1);
    });
}
