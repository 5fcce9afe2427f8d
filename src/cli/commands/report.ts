// `lbt report RUN...`: the paper-style result tables (Markdown, printed and written) and a
// self-contained HTML page with the cell drawings, architecture-weight heatmaps and curves.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { drawGenotype } from '../../report/draw.js';
import { writeReport } from '../../report/report.js';

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
      const report = await writeReport(runs, resolve(o.out), {
        title: o.title,
        noCharts: !o.charts,
        ...(o.cells && { drawGenotype }),
      });
      if (!o.quiet) process.stdout.write(report.markdown);
      process.stderr.write(`${report.runs.length} run(s); wrote ${report.files.join(' and ')}\n`);
    });
}
