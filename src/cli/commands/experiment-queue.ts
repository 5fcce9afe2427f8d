// `lbt experiment ... --queue URL`: the seeds as jobs for `lbt worker`s, then (with --wait) the
// report once a worker has written it, printed as the local run prints it.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { redactUrl } from '../../queue/connection.js';
import { enqueueExperiment, waitForReport } from '../../queue/enqueue.js';
import { UserError } from '../errors.js';
import { withInterrupt } from '../options.js';
import type { ExperimentFlags } from './experiment.js';
import { experimentSources } from './experiment-sources.js';

export async function enqueue(o: ExperimentFlags & { queue: string }, seeds: number[], dir: string): Promise<void> {
  if (o.force)
    throw new UserError(
      '--force with --queue: remove the queued experiment first (lbt queue cancel NAME --all), then its directory',
    );
  const say = (line: string) => {
    if (!o.quiet) process.stderr.write(`${line}\n`);
  };
  const res = await enqueueExperiment({
    url: o.queue,
    runs: o.runs,
    dir,
    seeds,
    ...experimentSources(o),
    report: { charts: o.charts, cells: o.cells },
  });
  for (const j of res.jobs) {
    const what = j.kind === 'report' ? 'report' : `seed ${j.seed}`;
    say(`${what}: ${j.added ? 'queued' : `already in the queue (${j.state === 'completed' ? 'done' : j.state})`} [${j.id}]`);
  }
  const added = res.jobs.filter((j) => j.added).length;
  process.stdout.write(`experiment ${res.experiment}: ${added} job(s) added to ${redactUrl(o.queue)}; runs in ${res.dir}\n`);
  if (!o.wait) {
    say(`watch it: lbt queue status ${res.experiment}`);
    return;
  }
  const reportJob = res.jobs.find((j) => j.kind === 'report')!.id;
  const r = await withInterrupt((signal) =>
    waitForReport({ url: o.queue, reportJob, signal, onState: (s) => say(`report: ${s === 'completed' ? 'done' : s}`) }),
  );
  process.stdout.write(readFileSync(join(resolve(o.runs), r.report), 'utf8'));
  process.stdout.write(`experiment: ${res.dir} (report.md, report.html)\n`);
}
