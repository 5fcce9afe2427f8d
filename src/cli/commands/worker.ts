// `lbt worker --queue URL --runs DIR [--gpus 0,1 | --slots N]`: runs queued jobs (seeds of
// experiments, their reports), one per slot, each in a process of its own. SIGTERM or Ctrl-C: the
// running searches checkpoint and their jobs go back to the queue; a second signal exits at once.
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { cpuSlots, gpuSlots, startWorker } from '../../queue/worker.js';
import { UserError } from '../errors.js';
import { queueUrl } from './queue.js';

interface Opts {
  queue?: string;
  runs: string;
  gpus?: string;
  slots?: string;
  stallSeconds: string;
  pollSeconds: string;
  name?: string;
  quiet?: boolean;
}

const positive = (flag: string, v: string): number => {
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0) throw new UserError(`${flag}: expected a positive number, got "${v}"`);
  return Number(v);
};

function slotsOf(o: Opts) {
  if (o.gpus !== undefined && o.slots !== undefined) throw new UserError('give --gpus or --slots, not both');
  if (o.gpus !== undefined) {
    const ids = o.gpus.split(',').map((s) => s.trim());
    if (ids.some((id) => !/^\d+$/.test(id)) || new Set(ids).size !== ids.length)
      throw new UserError(`--gpus: expected distinct GPU indices like 0,1, got "${o.gpus}"`);
    return gpuSlots(ids);
  }
  const n = o.slots ?? '1';
  if (!/^\d+$/.test(n) || Number(n) < 1) throw new UserError(`--slots: expected a positive integer, got "${n}"`);
  return cpuSlots(Number(n));
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run queued experiment jobs (one per GPU or CPU slot, each in its own process) until stopped')
    .option('--queue <url>', 'the Redis of the queue, redis://[:PASSWORD@]HOST:PORT[/DB] (default: $LBT_QUEUE)')
    .option('--runs <dir>', 'the run directory every worker shares (e.g. on NFS), as mounted here', 'runs')
    .option('--gpus <ids>', 'one slot per GPU, e.g. 0,1 (each job sees only its GPU as cuda:0)')
    .option('--slots <n>', 'N CPU slots, each job given cores/N threads (default 1)')
    .option('--stall-seconds <s>', "take over a lost worker's job after about 1-2x this", '30')
    .option('--poll-seconds <s>', 'how often a report waiting for its seeds looks again', '60')
    .option('--name <name>', 'this worker in `lbt queue status` (default host:pid)')
    .option('--quiet', 'no log lines')
    .action(async (o: Opts) => {
      const url = queueUrl(o.queue);
      const slots = slotsOf(o);
      const log = (line: string) => {
        if (!o.quiet) process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
      };
      const worker = await startWorker({
        url,
        runs: o.runs,
        slots,
        entry: fileURLToPath(new URL('../queue-child.js', import.meta.url)),
        stallSeconds: positive('--stall-seconds', o.stallSeconds),
        reportPollSeconds: positive('--poll-seconds', o.pollSeconds),
        ...(o.name && { name: o.name }),
        log,
      });
      await new Promise<void>((done) => {
        let signals = 0;
        const onSignal = () => {
          if (++signals > 1) process.exit(130);
          log('stopping: running searches checkpoint and go back to the queue (again to exit at once)');
          worker.stop().then(done, done);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      log('stopped');
    });
}
