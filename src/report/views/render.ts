// The views rendered to SVG in Node by Vega (headless, no canvas, no network: the data is inline),
// for report.html. Vega is loaded on first use so other commands start fast.
import type { RunData } from '../../runs/run-dir.js';
import type { ArchSnapshot } from '../../runs/types.js';
import { hasData, runViews, withTables } from './catalog.js';
import { runTables } from './rows.js';
import type { Spec } from './specs.js';
import { escapeHtml } from './style.js';

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: Spec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** An SVG made inline-safe: no XML prolog, no namespace URLs (HTML5 knows inline <svg>). */
export function inlineSvg(svg: string): string {
  return svg
    .replace(/<\?xml[^>]*\?>/g, '')
    .replace(/<!DOCTYPE[^>]*>/gi, '')
    .replace(/\s+xmlns(:\w+)?="[^"]*"/g, '');
}

/** At most `max` snapshots, evenly spaced, the first and the last kept (a long run's charts stay light). */
export function thin(snaps: readonly ArchSnapshot[], max = 240): readonly ArchSnapshot[] {
  if (snaps.length <= max) return snaps;
  const out: ArchSnapshot[] = [];
  for (let i = 0; i < max; i++) out.push(snaps[Math.round((i * (snaps.length - 1)) / (max - 1))] as ArchSnapshot);
  return out;
}

/** A run's views (the live page's, see catalog.ts) as figures with inline SVG, those that have data. */
export async function viewFigures(run: RunData): Promise<string> {
  const tables = runTables(run.metrics, thin(run.arch.length ? run.arch : run.snapshots), run.summary.kind);
  const views = runViews(run.summary.kind, run.config).filter((v) => hasData(v, tables));
  const figures: string[] = [];
  for (const v of views) {
    const svg = inlineSvg(await renderSvg(withTables(v, tables)));
    figures.push(`<figure id="view-${v.id}">${svg}<figcaption>${escapeHtml(v.caption)}</figcaption></figure>`);
  }
  return `<div class="row">${figures.join('\n')}</div>`;
}
