// `lbt search`: architecture search (DARTS-family host, with or without LBT), then an optional
// short retrain of the found cell and a report. With no arguments: the `default` preset.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { SearchData } from '../../data/index.js';
import { genotypeToJSON } from '../../nas/genotype.js';
import { loadCheckpoint } from '../../runs/checkpoint.js';
import { type SearchConfig, SearchConfig as SearchSchema, METHOD_DEFAULTS } from '../../config/schema.js';
import { describeOptions, formatOptions } from '../../config/help.js';
import { loadSearchConfig } from '../../config/load.js';
import { checkDevice } from '../../runs/device.js';
import { createProgress } from '../../runs/progress.js';
import { checkRetrainData, retrainAfterSearch } from '../../retrain/run.js';
import { RunDir } from '../../runs/run-dir.js';
import { RUN_FILES } from '../../runs/types.js';
import { NonFiniteLossError, RetrainInterruptedError } from '../../retrain/loop.js';
import { runSearch, SearchStopped, stageCount } from '../../search/loop.js';
import { loadDataFor, readSplits } from '../../search/data.js';
import { readJsonFile } from '../json.js';
import { collect, stamp, withInterrupt } from '../options.js';
import { UserError } from '../errors.js';
import { writeRunReport } from '../run-report.js';

interface Opts {
  preset?: string;
  config?: string;
  scale?: string;
  set: string[];
  out?: string;
  force?: boolean;
  resume?: string;
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
    .option('--resume <dir>', 'continue an interrupted run from its last checkpoint')
    .option('--quiet', 'no progress output')
    .option('--no-retrain', 'skip the short retrain of the found cell')
    .option('--no-report', 'skip writing report.html')
    .addHelpText(
      'after',
      () =>
        `\nConfig keys (--set key=value; defaults per method: darts / pc-darts / p-darts):\n${formatOptions(describeOptions(SearchSchema, METHOD_DEFAULTS))}`,
    )
    .action(async (o: Opts) => {
      const preset = o.preset ?? (o.config || o.resume ? undefined : 'default');
      let cfg: SearchConfig;
      let run: RunDir;
      let resume = null;
      let data: SearchData;
      if (o.resume) {
        const dir = resolve(o.resume);
        cfg = SearchSchema.parse(readJsonFile(join(dir, 'config.json')));
        data = await loadDataFor(cfg, readSplits(join(dir, RUN_FILES.splits)));
        resume = loadCheckpoint(join(dir, 'checkpoint.safetensors'));
        run = RunDir.resume(dir, resume.meta.step);
      } else {
        cfg = loadSearchConfig({
          ...(preset && { preset }),
          ...(o.config && { file: o.config }),
          ...(o.scale && { scale: o.scale }),
          sets: o.set,
        });
        if (!o.retrain) cfg = { ...cfg, retrain: null };
        checkDevice(cfg.device);
        // the data (and a retrain's other data set) are checked before anything is written
        data = await loadDataFor(cfg);
        await checkRetrainData(cfg);
        const out = resolve(o.out ?? join('runs', `search-${preset ?? 'custom'}-${stamp()}`));
        run = RunDir.create(out, {
          kind: 'search',
          config: cfg,
          force: o.force ?? false,
          ...(preset && { preset }),
          device: cfg.device,
          command: process.argv.slice(2),
        });
        run.writeSplits(data.splits);
      }
      const perEpoch = Math.ceil(data.splits.train.length / cfg.batchSize);
      const steps = Math.min(perEpoch, cfg.stepsPerEpoch ?? perEpoch) * cfg.epochs * stageCount(cfg);
      const progress = createProgress({
        totalSteps: steps,
        totalEpochs: cfg.epochs * stageCount(cfg),
        stream: process.stderr,
        quiet: o.quiet ?? false,
        startStep: resume?.meta.step ?? 0,
        label: 'search',
      });
      await withInterrupt(async (signal) => {
        try {
          const res = await runSearch(cfg, { run, progress, data, resume, shouldStop: () => signal.aborted });
          progress.stop();
          run.addPhaseSeconds('search', res.seconds);
          run.writeGenotype(JSON.parse(genotypeToJSON(res.genotype)));
          process.stdout.write(`genotype (${run.path('genotype')}):\n${genotypeToJSON(res.genotype)}\n`);
          if (cfg.retrain) {
            const r = await retrainAfterSearch({
              search: cfg,
              searchDir: run.dir,
              genotype: res.genotype,
              resume: o.resume !== undefined,
              searchRun: run,
              signal,
              progress: (p) => createProgress({ ...p, stream: process.stderr, quiet: o.quiet ?? false, label: 'retrain' }),
            });
            process.stdout.write(
              `retrained test accuracy: ${r.testAcc.toFixed(2)}% (error ${r.testError.toFixed(2)}%, ${r.params} parameters; ${join(run.dir, 'retrain')})\n`,
            );
          }
          run.finish('completed');
          if (o.report) {
            const path = await writeRunReport(run.dir);
            process.stdout.write(`report: ${path}\n`);
          }
        } catch (err) {
          progress.stop();
          const resumeHint = `resume with: lbt search --resume ${run.dir}`;
          if (err instanceof SearchStopped) {
            run.finish(signal.aborted ? 'interrupted' : 'failed', err.message);
            throw new UserError(`${err.message}\n${resumeHint}`, signal.aborted ? 130 : 1);
          }
          // the retrain after the search: its own run is finished by retrain(); so is this one
          if (err instanceof RetrainInterruptedError) {
            run.finish('interrupted', err.message);
            throw new UserError(`${err.message}\n${resumeHint}`, 130);
          }
          run.finish('failed', (err as Error).message);
          if (err instanceof NonFiniteLossError) throw new UserError(err.message, 1);
          throw err;
        } finally {
          run.close();
        }
      });
    });
}
