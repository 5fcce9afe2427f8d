// `lbt presets`: the experiment presets (configs/presets/*.yaml), one line each.
import type { Command } from 'commander';
import { ConfigError } from '../../config/errors.js';
import { listPresets, listScales } from '../../config/presets.js';
import { UserError } from '../errors.js';

export function registerPresets(program: Command): void {
  program
    .command('presets')
    .description('list the presets for `lbt search --preset NAME` (and the --scale overlays)')
    .option('--json', 'print name, file and description as JSON')
    .action((o: { json?: boolean }) => {
      let presets: ReturnType<typeof listPresets>;
      try {
        presets = listPresets();
      } catch (err) {
        if (err instanceof ConfigError) throw new UserError(err.message);
        throw err;
      }
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ presets, scales: listScales() }, null, 2)}\n`);
        return;
      }
      const w = Math.max(0, ...presets.map((p) => p.name.length));
      for (const p of presets) process.stdout.write(`${p.name.padEnd(w)}  ${p.description}\n`);
      process.stdout.write(`\nscales (--scale): ${listScales().join(', ') || 'none'}\n`);
    });
}
