// `lbt queue status|retry|cancel`: the queued experiments, their jobs and states.
import type { Command } from 'commander';
import { cancelJobs, formatStatus, queueStatus, retryJobs } from '../../queue/status.js';
import { UserError } from '../errors.js';

/** The queue URL of a command: --queue, else $LBT_QUEUE (keeps a password out of the process list). */
export function queueUrl(flag: string | undefined): string {
  const url = flag ?? process.env.LBT_QUEUE;
  if (!url) throw new UserError('give --queue redis://HOST:PORT (or set LBT_QUEUE)');
  return url;
}

const QUEUE_HELP = 'the Redis of the queue, redis://[:PASSWORD@]HOST:PORT[/DB] (default: $LBT_QUEUE)';

export function registerQueue(program: Command): void {
  const queue = program.command('queue').description('the queued experiments: status, retry, cancel');
  queue
    .command('status [experiment]')
    .description('each experiment and its jobs: waiting, active (worker, progress), delayed, done, failed (message)')
    .option('--queue <url>', QUEUE_HELP)
    .option('--json', 'print the jobs as JSON')
    .action(async (experiment: string | undefined, o: { queue?: string; json?: boolean }) => {
      const groups = await queueStatus(queueUrl(o.queue), experiment);
      process.stdout.write(o.json ? `${JSON.stringify(groups, null, 2)}\n` : `${formatStatus(groups).join('\n')}\n`);
    });
  queue
    .command('retry <experiment>')
    .description("the experiment's failed jobs back to waiting (a seed resumes from its last checkpoint)")
    .option('--queue <url>', QUEUE_HELP)
    .action(async (experiment: string, o: { queue?: string }) => {
      const ids = await retryJobs(queueUrl(o.queue), experiment);
      process.stdout.write(ids.length ? `retried ${ids.length}: ${ids.join(' ')}\n` : 'no failed jobs\n');
    });
  queue
    .command('cancel <experiment>')
    .description("remove the experiment's unfinished jobs (running ones stop with a checkpoint); enqueue it again to resume")
    .option('--queue <url>', QUEUE_HELP)
    .option('--all', 'its finished jobs too (the queue forgets the experiment)')
    .action(async (experiment: string, o: { queue?: string; all?: boolean }) => {
      const r = await cancelJobs(queueUrl(o.queue), experiment, { all: o.all ?? false });
      process.stdout.write(`removed ${r.removed.length} job(s)${r.removed.length ? `: ${r.removed.join(' ')}` : ''}\n`);
      if (r.stillActive.length)
        throw new UserError(`still active (their worker did not stop them within a minute): ${r.stillActive.join(' ')}`, 1);
    });
}
