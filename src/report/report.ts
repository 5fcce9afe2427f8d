// `lbt report`: run directories → Markdown tables and one self-contained HTML page (inline SVG and
// CSS, no scripts, no external URLs).
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { RunDirError } from '../runs/errors.js';
import { errnoOf, writeFileAtomic } from '../runs/files.js';
import { type RunData, isRunDir, readRun } from '../runs/run-dir.js';
import type { GenotypeFile } from '../nas/genotype.js';
import { progressText, resultText, runHeader, timeText } from './views/header.js';
import { inlineSvg, viewFigures } from './views/render.js';
import { ViewRows } from './views/rows.js';
import { escapeHtml, PAGE_CSS, stateBadge } from './views/style.js';
import { buildTables, type ResultTable, rowCells, TABLE_NOTE, tableHeaders, tablesMarkdown, toEntry } from './table.js';

/** Draws both cells of a genotype as one SVG (the CLI passes `lbt genotype draw`'s renderer: src/nas + @viz-js/viz). */
export type GenotypeDrawer = (genotype: GenotypeFile, title: string) => string | Promise<string>;

export interface ReportOptions {
  title?: string;
  drawGenotype?: GenotypeDrawer;
  /** Leave the charts out (tables only): fast, for many runs. */
  noCharts?: boolean;
}

export interface Report {
  markdown: string;
  html: string;
  tables: ResultTable[];
  runs: RunData[];
}

/**
 * Expands the paths given to `lbt report`: a run directory is taken as is; any other directory is
 * searched one level down for run directories (e.g. an experiment's seed-N runs).
 */
export function findRunDirs(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    if (!existsSync(abs)) throw new RunDirError(abs, 'does not exist');
    if (isRunDir(abs)) {
      out.push(abs);
      continue;
    }
    const subs = statSync(abs).isDirectory()
      ? readdirSync(abs)
          .sort()
          .map((n) => join(abs, n))
          .filter(isRunDir)
      : [];
    if (subs.length === 0) throw new RunDirError(abs, 'is not a run directory and holds none (no run.json)');
    out.push(...subs);
  }
  return [...new Set(out)];
}

export { escapeHtml, inlineSvg };

function tableHtml(t: ResultTable): string {
  const h = tableHeaders(t)
    .map((c) => `<th>${escapeHtml(c)}</th>`)
    .join('');
  const rows = t.rows
    .map(
      (r) =>
        `<tr>${rowCells(t, r)
          .map((c) => `<td>${escapeHtml(c)}</td>`)
          .join('')}</tr>`,
    )
    .join('\n');
  const dev = t.devices.length ? ` Device: ${escapeHtml(t.devices.join('; '))}.` : '';
  return `<h2>${escapeHtml(t.title)}</h2>\n<table><thead><tr>${h}</tr></thead><tbody>\n${rows}\n</tbody></table>\n<p class="note">${escapeHtml(TABLE_NOTE)}${dev}</p>`;
}

function genotypeText(g: GenotypeFile): string {
  const cell = (c: GenotypeFile['normal']) => c.map(([op, i]) => `${op}←${i}`).join(', ');
  return `normal: ${cell(g.normal)}\nreduce: ${cell(g.reduce)}`;
}

/** The same status line as the live page's: state, progress, time, result. */
function statusLine(run: RunData): string {
  const rows = new ViewRows();
  for (const r of run.metrics) rows.addRecord(r);
  const h = runHeader({
    summary: run.summary,
    config: run.config,
    progress: rows.progress,
    timing: rows.tables.timing,
    result: run.result,
  });
  const parts = [progressText(h), timeText(h), resultText(h)].filter(Boolean).map((p) => `<span>${escapeHtml(p)}</span>`);
  return `<p class="status">${stateBadge(h.state)} ${parts.join('')}</p>`;
}

async function runSection(run: RunData, label: string, o: ReportOptions): Promise<string> {
  const s = run.summary;
  const parts: string[] = [
    `<section><h2>${escapeHtml(basename(run.dir))}: ${escapeHtml(label)}</h2>`,
    statusLine(run),
    `<p class="meta">${escapeHtml(
      `${s.kind} run on ${s.deviceName ?? s.device}, ${(s.wallSeconds / 3600).toFixed(2)} h` +
        `${s.sessions > 1 ? `, ${s.sessions} sessions` : ''}${s.gitRev ? `, rev ${s.gitRev.slice(0, 10)}` : ''}`,
    )}${s.error ? `<br><b>error:</b> ${escapeHtml(s.error)}` : ''}</p>`,
  ];
  const g = run.genotype ?? run.result?.genotype ?? run.snapshots.at(-1)?.genotype ?? null;
  if (g) {
    parts.push(`<pre>${escapeHtml(genotypeText(g))}</pre>`);
    if (o.drawGenotype) parts.push(`<figure class="cells">${inlineSvg(await o.drawGenotype(g, label))}</figure>`);
  }
  if (!o.noCharts) parts.push(await viewFigures(run));
  parts.push('</section>');
  return parts.join('\n');
}

/** Reads the runs and builds the Markdown tables and the HTML page. */
export async function buildReport(paths: readonly string[], o: ReportOptions = {}): Promise<Report> {
  const runs = findRunDirs(paths).map((d) => readRun(d));
  const entries = runs.map(toEntry);
  const tables = buildTables(entries);
  const title = o.title ?? 'lbt report';
  const markdown = `# ${title}\n\n${tablesMarkdown(tables)}`;
  const sections: string[] = [];
  for (const e of entries) sections.push(await runSection(e.run, e.label, o)); // one at a time: bounded memory
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${PAGE_CSS}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${tables.map(tableHtml).join('\n')}
${sections.join('\n')}
</body></html>
`;
  return { markdown, html, tables, runs };
}

/** The report over `paths` written as report.md and report.html into `outDir` (created); a write failure names the directory. */
export async function writeReport(
  paths: readonly string[],
  outDir: string,
  o: ReportOptions = {},
): Promise<Report & { files: string[] }> {
  const report = await buildReport(paths, o);
  const files = [join(outDir, 'report.md'), join(outDir, 'report.html')];
  try {
    mkdirSync(outDir, { recursive: true });
    writeFileAtomic(files[0]!, report.markdown, { fsync: false });
    writeFileAtomic(files[1]!, report.html, { fsync: false });
  } catch (e) {
    throw new RunDirError(outDir, `cannot write the report (${errnoOf(e)})`);
  }
  return { ...report, files };
}
