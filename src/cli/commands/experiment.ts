// `lbt experiment --preset NAME --seeds 10`: the search and the retrain of each seed in turn, each in
// its own run directory under the experiment directory, then the `lbt report` table (mean±std).
// Re-running the same command continues it: finished seeds are skipped, an interrupted one resumes.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { runExperiment, seedRange } from '../../experiment/experiment.js';
import { createProgress } from '../../runs/progress.js';
import { RunInterrupted } from '../../runs/errors.js';
import { UserError, withResumeHint } from '../errors.js';
import { drawGenotype } from '../../report/draw.js';
import { collect, withInterrupt } from '../options.js';
import { enqueue } from './experiment-queue.js';
import { experimentSources } from './experiment-sources.js';

export interface ExperimentFlags {
  preset?: string;
  config?: string;
  scale?: string;
  set: string[];
  seeds: string;
  seedList?: string;
  out?: string;
  force?: boolean;
  quiet?: boolean;
  retrain: boolean;
  charts: boolean;
  cells: boolean;
  queue?: string;
  runs: string;
  wait?: boolean;
}

function parseSeeds(o: ExperimentFlags): number[] {
  if (o.seedList !== undefined) {
    const parts = o.seedList.split(',').map((s) => s.trim());
    if (parts.some((p) => !/^\d+$/.test(p)))
      throw new UserError(`--seed-list: expected non-negative integers like 0,3,7, got "${o.seedList}"`);
    return parts.map(Number);
  }
  if (!/^\d+$/.test(o.seeds) || Number(o.seeds) < 1)
    throw new UserError(`--seeds: expected a positive integer, got "${o.seeds}"`);
  return seedRange(Number(o.seeds));
}

export function registerExperiment(program: Command): void {
  program
    .command('experiment')
    .description('a preset over several seeds: search + retrain per seed (resumable), then the report table with mean±std')
    .option('--preset <name>', 'a preset from configs/presets (see `lbt presets`)')
    .option('--config <file>', 'a YAML or JSON config file')
    .option('--scale <name>', 'a scale overlay, e.g. smoke (tiny subsets and networks)')
    .option('--set <key=value>', 'override one config key (dotted, repeatable); not seed', collect, [])
    .option('--seeds <n>', 'run seeds 0..n-1 (the paper: 10)', '10')
    .option('--seed-list <list>', 'run these seeds instead, e.g. 0,3,7')
    .option('--out <dir>', 'experiment directory (default runs/experiment-<preset>[-<scale>]; re-run to continue)')
    .option('--force', 'remove an existing experiment directory and start over')
    .option('--no-retrain', 'search only (no retrain, no test error)')
    .option('--no-charts', 'report tables and genotypes only (faster)')
    .option('--no-cells', 'leave the cell drawings out of the report')
    .option('--quiet', 'no progress output')
    .option('--queue <url>', 'enqueue the seeds on this Redis (redis://[:PASSWORD@]HOST:PORT[/DB]) for `lbt worker`s instead')
    .option('--runs <dir>', 'with --queue: the run directory every worker shares; --out must lie inside it', 'runs')
    .option('--wait', 'with --queue: wait for the report and print it, as the local run does')
    .action(async (o: ExperimentFlags) => {
      if (!o.preset && !o.config) throw new UserError('give --preset NAME (see `lbt presets`) or --config FILE');
      const seeds = parseSeeds(o);
      const name = (o.preset ?? 'custom') + (o.scale ? `-${o.scale}` : '');
      if (o.queue) return enqueue({ ...o, queue: o.queue }, seeds, resolve(o.out ?? join(o.runs, `experiment-${name}`)));
      const dir = resolve(o.out ?? join('runs', `experiment-${name}`));
      const quiet = o.quiet ?? false;
      const say = (line: string) => {
        if (!quiet) process.stderr.write(`${line}\n`);
      };
      const res = await withInterrupt((signal) =>
        runExperiment({
          dir,
          seeds,
          ...experimentSources(o),
          force: o.force ?? false,
          signal,
          report: { charts: o.charts, ...(o.cells && { drawGenotype }) },
          onPhase: (seed, phase, how, d) =>
            say(`seed ${seed}: ${phase} ${how === 'skip' ? 'already done' : how === 'resume' ? 'resumed' : 'started'} (${d})`),
          progress: (plan) =>
            createProgress({ ...plan, stream: process.stderr, quiet, label: `seed ${plan.seed} ${plan.phase}` }),
          onSeedDone: (s) =>
            say(
              `seed ${s.seed}: done${s.result ? `, test error ${s.result.testError.toFixed(2)}%, ${s.result.paramsM.toFixed(2)}M parameters` : ''}`,
            ),
        }),
      ).catch((err: unknown) => {
        const again =
          err instanceof RunInterrupted
            ? 'continue with the same command'
            : 'the experiment stopped; re-running the same command resumes from the last checkpoint';
        throw withResumeHint(err, again);
      });
      if (res.markdown !== null) process.stdout.write(res.markdown);
      process.stdout.write(`experiment: ${res.dir}${res.markdown !== null ? ` (report.md, report.html)` : ''}\n`);
    });
}
