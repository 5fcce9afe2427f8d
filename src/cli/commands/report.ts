// `lbt report RUN...`: the paper-style result tables (Markdown, printed and written) and a
// self-contained HTML page with the cell drawings, architecture-weight heatmaps and curves.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { buildReport } from '../../report/report.js';
import { drawGenotype } from '../run-report.js';
import { RunDirError } from '../../runs/run-dir.js';
import { UserError } from '../errors.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('result tables (Markdown) and an HTML page with cells, architecture weights and curves, from run directories')
    .argument('<runs...>', 'run directories, or directories holding run directories (e.g. an experiment)')
    .option('--out <dir>', 'where report.md and report.html go', 'report')
    .option('--title <text>', 'page and table title', 'lbt report')
    .option('--no-charts', 'tables and genotypes only (faster)')
    .option('--no-cells', 'leave out the cell drawings')
    .option('--quiet', 'do not print the Markdown tables')
    .action(async (runs: string[], o: { out: string; title: string; charts: boolean; cells: boolean; quiet?: boolean }) => {
      let report: Awaited<ReturnType<typeof buildReport>>;
      try {
        report = await buildReport(runs, {
          title: o.title,
          noCharts: !o.charts,
          ...(o.cells && { drawGenotype }),
        });
      } catch (err) {
        if (err instanceof RunDirError) throw new UserError(err.message);
        throw err;
      }
      const out = resolve(o.out);
      try {
        mkdirSync(out, { recursive: true });
        writeFileSync(join(out, 'report.md'), report.markdown);
        writeFileSync(join(out, 'report.html'), report.html);
      } catch (err) {
        throw new UserError(
          `cannot write the report to ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
      if (!o.quiet) process.stdout.write(report.markdown);
      process.stderr.write(`${report.runs.length} run(s); wrote ${join(out, 'report.md')} and ${join(out, 'report.html')}\n`);
    });
}
