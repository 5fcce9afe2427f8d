// `lbt search`: architecture search (DARTS-family host, with or without LBT), then an optional
// short retrain of the found cell and a report. With no arguments: the `default` preset.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadSearchConfigNoting } from '../../config/load.js';
import { describeOptions, formatOptions } from '../../config/help.js';
import { METHOD_DEFAULTS, SearchConfig } from '../../config/schema.js';
import { genotypeToJSON } from '../../nas/genotype.js';
import { createProgress } from '../../runs/progress.js';
import { createSearchRun, resumeSearchRun, runSearchRun, type SearchRun } from '../../search/lifecycle.js';
import { withResumeHint } from '../errors.js';
import { collect, noteTakeover, refuseWithResume, stamp, withInterrupt } from '../options.js';
import { drawGenotype } from '../../report/draw.js';
import { writeReport } from '../../report/report.js';

interface Opts {
  preset?: string;
  config?: string;
  scale?: string;
  set: string[];
  out?: string;
  force?: boolean;
  resume?: string;
  breakLock?: boolean;
  quiet?: boolean;
  retrain: boolean;
  report: boolean;
}

export function registerSearch(program: Command): void {
  program
    .command('search')
    .description('search a cell (DARTS / PC-DARTS / P-DARTS, with or without LBT); default: the `default` preset')
    .option('--preset <name>', 'a preset from configs/presets (see `lbt presets`)')
    .option('--config <file>', 'a YAML or JSON config file')
    .option('--scale <name>', 'a scale overlay, e.g. smoke (tiny subsets and networks)')
    .option('--set <key=value>', 'override one config key (dotted, repeatable), e.g. --set student.arch=resnet50', collect, [])
    .option('--out <dir>', 'run directory (default runs/search-<preset>-<time>)')
    .option('--force', 'replace an existing run directory')
    .option(
      '--resume <dir>',
      'continue an interrupted run from its last checkpoint, with its own config (alone, or with --quiet, --no-retrain, --no-report, --break-lock)',
    )
    .option('--break-lock', "take the run directory's lock although another host holds it (that writer is known to be lost)")
    .option('--quiet', 'no progress output')
    .option('--no-retrain', 'skip the short retrain of the found cell')
    .option('--no-report', 'skip writing report.html')
    .addHelpText(
      'after',
      () =>
        `\nConfig keys (--set key=value; defaults per method: darts / pc-darts / p-darts):\n${formatOptions(describeOptions(SearchConfig, METHOD_DEFAULTS))}`,
    )
    .action(async (o: Opts) => {
      const { preset, config, scale, set, out: outDir, force } = o;
      refuseWithResume(
        o,
        { '--preset': preset, '--config': config, '--scale': scale, '--set': set, '--out': outDir, '--force': force },
        '--quiet, --no-retrain, --no-report, --break-lock',
      );
      const command = process.argv.slice(2);
      const lockOpts = { ...(o.breakLock && { breakLock: true }), command };
      const sr = o.resume ? await resumeSearchRun(o.resume, lockOpts) : await newRun(o, lockOpts);
      noteTakeover(sr.run);
      const quiet = o.quiet ?? false;
      const out = await withInterrupt((signal) =>
        runSearchRun(sr, {
          signal,
          retrain: o.retrain,
          progress: (phase, plan) => createProgress({ ...plan, stream: process.stderr, quiet, label: phase }),
          onSearched: (g) => process.stdout.write(`genotype (${sr.run.path('genotype')}):\n${genotypeToJSON(g)}\n`),
        }),
      ).catch((err: unknown) => {
        throw withResumeHint(err, `resume with: lbt search --resume ${sr.run.dir}`);
      });
      const r = out.retrain;
      if (r)
        process.stdout.write(
          `retrained test accuracy: ${r.testAcc.toFixed(2)}% (error ${r.testError.toFixed(2)}%, ${r.params} parameters; ${join(sr.run.dir, 'retrain')})\n`,
        );
      if (o.report) {
        const report = await writeReport([sr.run.dir], sr.run.dir, { title: `lbt run ${sr.run.dir}`, drawGenotype });
        process.stdout.write(`report: ${report.files[1]}\n`);
      }
    });
}

/** A new run from the flags: the `default` preset when none is given. */
async function newRun(o: Opts, lock: { breakLock?: boolean; command: string[] }): Promise<SearchRun> {
  const preset = o.preset ?? (o.config ? undefined : 'default');
  const loaded = loadSearchConfigNoting({
    ...(preset && { preset }),
    ...(o.config && { file: o.config }),
    ...(o.scale && { scale: o.scale }),
    sets: o.set,
  });
  for (const line of loaded.inert) process.stderr.write(`warning: ${line}\n`);
  let cfg = loaded.config;
  if (!o.retrain) cfg = { ...cfg, retrain: null };
  const dir = resolve(o.out ?? join('runs', `search-${preset ?? 'custom'}-${stamp()}`));
  return createSearchRun(cfg, { dir, force: o.force ?? false, ...(preset && { preset }), ...lock });
}
