// `lbt test --run DIR`: a train run's last checkpoint evaluated on its test split (eval mode: no
// auxiliary head, no drop-path), printing test error and accuracy. Reads the run; writes nothing.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { testRun } from '../../retrain/run.js';
import { asUserError, UserError } from '../errors.js';
import { parseIntArg } from './genotype.js';

export function registerTest(program: Command): void {
  program
    .command('test')
    .description("evaluate a train run's last checkpoint on its test split (test error and accuracy)")
    .requiredOption('--run <dir>', "a run directory of `lbt train` (or a search run's retrain/ directory)")
    .option('--batch-size <n>', "evaluation batch size (default: the run's batchSize)")
    .action(async (o: { run: string; batchSize?: string }) => {
      const batchSize = o.batchSize === undefined ? undefined : parseIntArg('--batch-size', o.batchSize);
      let r: Awaited<ReturnType<typeof testRun>>;
      try {
        r = await testRun(resolve(o.run), batchSize === undefined ? {} : { batchSize });
      } catch (err) {
        const e = asUserError(err);
        if (e instanceof UserError || !(err instanceof SyntaxError)) throw e;
        throw new UserError(`${o.run}: ${err.message}`);
      }
      const err = 100 * (1 - r.acc);
      const top5 = r.top5 !== undefined ? `, top-5 error ${(100 * (1 - r.top5)).toFixed(2)}%` : '';
      const partial =
        r.epochsDone < r.epochs ? ` (checkpoint after epoch ${r.epochsDone} of ${r.epochs}: the run is unfinished)` : '';
      process.stdout.write(
        `test error: ${err.toFixed(2)}% (accuracy ${(100 * r.acc).toFixed(2)}%${top5}, loss ${r.loss.toFixed(4)}) on ${r.n} test images${partial}\n` +
          `parameters: ${(r.params / 1e6).toFixed(2)}M (${r.params.toLocaleString('en-US')}, without the auxiliary head)\n`,
      );
    });
}
