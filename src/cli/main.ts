#!/usr/bin/env node
// The `lbt` command. Each subcommand lives in commands/<name>.ts and registers itself here.
import { Command, CommanderError } from 'commander';
import { registerData } from './commands/data.js';
import { registerDoctor } from './commands/doctor.js';
import { registerExperiment } from './commands/experiment.js';
import { registerGenotype } from './commands/genotype.js';
import { registerGradcheck } from './commands/gradcheck.js';
import { registerParams } from './commands/params.js';
import { registerPresets } from './commands/presets.js';
import { registerQueue } from './commands/queue.js';
import { registerReport } from './commands/report.js';
import { registerSearch } from './commands/search.js';
import { registerServe } from './commands/serve.js';
import { registerTest } from './commands/test.js';
import { registerTrain } from './commands/train.js';
import { registerWorker } from './commands/worker.js';
import { asUserError, UserError } from './errors.js';

const program = new Command('lbt')
  .description('Learning by Teaching for neural architecture search (DARTS, PC-DARTS, P-DARTS) on libtorch')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

registerDoctor(program);
registerSearch(program);
registerTrain(program);
registerExperiment(program);
registerWorker(program);
registerQueue(program);
registerTest(program);
registerParams(program);
registerGenotype(program);
registerGradcheck(program);
registerData(program);
registerReport(program);
registerServe(program);
registerPresets(program);

try {
  await program.parseAsync(process.argv);
} catch (caught) {
  if (caught instanceof CommanderError) process.exit(caught.exitCode);
  const err = asUserError(caught);
  if (err instanceof UserError) {
    process.stderr.write(`lbt: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`lbt: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
