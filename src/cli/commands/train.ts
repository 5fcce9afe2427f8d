// `lbt train`: the evaluation phase (paper §4.2): a genotype's network trained from scratch on
// D_tr + D_val, tested on the test split; prints the test error and the parameter count.
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { GENOTYPES, type Genotype, GenotypeFormatError, genotypeFromJSON, isGenotypeName } from '../../nas/genotype.js';
import { DATASET_DEFAULTS, TrainConfig } from '../../config/schema.js';
import { describeOptions, formatOptions } from '../../config/help.js';
import { loadTrainConfig } from '../../config/load.js';
import { createProgress } from '../../runs/progress.js';
import { type RetrainResult, retrain } from '../../retrain/loop.js';
import { createTrainRun, resumeTrainRun, type TrainRun } from '../../retrain/run.js';
import { isRunDir } from '../../runs/run-dir.js';
import { RUN_FILES } from '../../runs/types.js';
import { RunDirError } from '../../runs/errors.js';
import { osErrorText, readRunFile } from '../../runs/files.js';
import { UserError, withResumeHint } from '../errors.js';
import { collect, noteTakeover, refuseWithResume, stamp, withInterrupt } from '../options.js';

interface Opts {
  genotype?: string;
  config?: string;
  preset?: string;
  scale?: string;
  set: string[];
  out?: string;
  force?: boolean;
  resume?: string;
  breakLock?: boolean;
  quiet?: boolean;
}

export interface GenotypeSource {
  genotype: Genotype;
  /** A short name for the run directory. */
  name: string;
  /** The search run it came from, when a run directory was given. */
  searchRun?: string;
}

/** A built-in name, a genotype JSON file, or a run directory holding genotype.json. */
export function resolveGenotype(arg: string): GenotypeSource {
  if (isGenotypeName(arg)) return { genotype: GENOTYPES[arg], name: arg };
  if (!existsSync(arg)) {
    throw new UserError(
      `unknown genotype '${arg}': not a built-in name (${Object.keys(GENOTYPES).join(', ')}), a genotype file or a run directory`,
    );
  }
  const isDir = statSync(arg).isDirectory();
  const file = isDir ? join(arg, RUN_FILES.genotype) : arg;
  if (isDir && !existsSync(file))
    throw new UserError(`${arg}: a directory without ${RUN_FILES.genotype} (has the search finished?)`);
  let g: Genotype;
  try {
    g = genotypeFromJSON(readText(file));
  } catch (err) {
    if (err instanceof GenotypeFormatError) throw new UserError(`${file}: ${err.message}`);
    throw err;
  }
  const name = isDir ? basename(resolve(arg)) : basename(arg).replace(/\.json$/i, '');
  return { genotype: g, name, ...(isDir && isRunDir(arg) && { searchRun: resolve(arg) }) };
}

function readText(file: string): string {
  try {
    return readRunFile(file, 'genotype file', 16 * 2 ** 20).toString('utf8');
  } catch (err) {
    throw new UserError(err instanceof RunDirError ? err.message : `cannot read genotype file ${file}: ${osErrorText(err)}`);
  }
}

/** The lines `lbt train` ends with. */
export function formatResult(
  r: Pick<RetrainResult, 'testError' | 'top5Error' | 'testExamples' | 'paramsM'>,
  dir: string,
): string {
  const top5 = r.top5Error !== undefined ? `, top-5 error ${r.top5Error.toFixed(2)}%` : '';
  return [
    `test error: ${r.testError.toFixed(2)}% (accuracy ${(100 - r.testError).toFixed(2)}%${top5}) on ${r.testExamples} test images`,
    `parameters: ${r.paramsM.toFixed(2)}M (${Math.round(r.paramsM * 1e6).toLocaleString('en-US')}, without the auxiliary head)`,
    `run: ${dir}`,
  ].join('\n');
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('evaluation phase: train a genotype from scratch on D_tr + D_val, report test error and parameters')
    .option(
      '--genotype <name|file|run>',
      `genotype: ${Object.keys(GENOTYPES).join(', ')}, a genotype JSON file, or a search run directory (default: config key genotype, DARTS_V2)`,
    )
    .option('--config <file>', 'a YAML or JSON config file (keys below)')
    .option('--preset <name>', "a preset from configs/presets (a search preset's retrain section and dataset)")
    .option('--scale <name>', 'a scale overlay, e.g. smoke (tiny subsets and networks)')
    .option('--set <key=value>', 'override one config key (dotted, repeatable), e.g. --set epochs=100', collect, [])
    .option('--out <dir>', 'run directory (default runs/train-<genotype>-<time>)')
    .option('--force', 'replace an existing run directory')
    .option(
      '--resume <dir>',
      'continue an interrupted train run from its last checkpoint, with its own config (alone, or with --quiet, --break-lock)',
    )
    .option('--break-lock', "take the run directory's lock although another host holds it (that writer is known to be lost)")
    .option('--quiet', 'no progress output')
    .addHelpText(
      'after',
      () =>
        `\nConfig keys (--set key=value; defaults, with ImageNet's where they differ):\n${formatOptions(describeOptions(TrainConfig, DATASET_DEFAULTS))}`,
    )
    .action(async (o: Opts) => {
      const { genotype, config, preset, scale, set, out, force } = o;
      const flags = { '--genotype': genotype, '--config': config, '--preset': preset, '--scale': scale, '--set': set };
      refuseWithResume(o, { ...flags, '--out': out, '--force': force }, '--quiet, --break-lock');
      const lock = { ...(o.breakLock && { breakLock: true }), command: process.argv.slice(2) };
      const tr = o.resume ? await resumeTrainRun(o.resume, lock) : await newTrainRun(o, lock);
      noteTakeover(tr.run);
      const label = `train ${basename(tr.config.genotype).replace(/\.json$/i, '')}`;
      const r = await withInterrupt((signal) =>
        retrain({
          config: tr.config,
          genotype: tr.genotype,
          data: tr.data,
          run: tr.run,
          ...(tr.checkpoint && { resume: tr.checkpoint }),
          signal,
          progress: (plan) => createProgress({ ...plan, stream: process.stderr, quiet: o.quiet ?? false, label }),
        }),
      )
        .catch((err: unknown) => {
          throw withResumeHint(err, `resume with: lbt train --resume ${tr.run.dir}`);
        })
        .finally(() => tr.run.close());
      process.stdout.write(`${formatResult(r, tr.run.dir)}\n`);
    });
}

/** A new train run from the flags: config, genotype, run directory (after the data have loaded). */
async function newTrainRun(o: Opts, lock: { breakLock?: boolean; command: string[] }): Promise<TrainRun> {
  let cfg = loadTrainConfig({
    ...(o.preset && { preset: o.preset }),
    ...(o.config && { file: o.config }),
    ...(o.scale && { scale: o.scale }),
    sets: o.set,
  });
  if (o.genotype !== undefined) cfg = { ...cfg, genotype: o.genotype };
  const source = resolveGenotype(cfg.genotype);
  const dir = resolve(o.out ?? join('runs', `train-${source.name.replace(/[^\w.-]+/g, '_')}-${stamp()}`));
  return createTrainRun(cfg, {
    dir,
    genotype: source.genotype,
    genotypeName: source.name,
    force: o.force ?? false,
    ...(o.preset && { preset: o.preset }),
    ...lock,
    ...(source.searchRun && { searchRun: source.searchRun }),
  });
}
