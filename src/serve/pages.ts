// The HTML of `lbt serve`: the list of runs and experiments, a run's live page (a shell the
// browser fills from the event stream), an experiment's seeds. Everything from disk is escaped.
import { basename, join } from 'node:path';
import { runViews } from '../report/views/catalog.js';
import { progressText, type RunHeader, resultText, timeText } from '../report/views/header.js';
import { escapeHtml, PAGE_CSS, stateBadge } from '../report/views/style.js';
import { formatMeanStd } from '../report/table.js';
import { RUN_FILES, type RunResult } from '../runs/types.js';
import type { RunBrief } from './brief.js';
import type { Found } from './scan.js';

export const runUrl = (id: string) => `/run/${id.split('/').map(encodeURIComponent).join('/')}`;
export const experimentUrl = (id: string) => `/experiment/${id.split('/').map(encodeURIComponent).join('/')}`;
export const streamUrl = (id: string) => `/api/stream/${id.split('/').map(encodeURIComponent).join('/')}`;
export const reportUrl = (id: string) => `/report/${id.split('/').map(encodeURIComponent).join('/')}`;

/** The header's texts as the page shows them (the client sets the same fields from the stream). */
export function headerText(h: RunHeader) {
  return { state: h.state, step: h.step, progress: progressText(h), time: timeText(h), result: resultText(h) };
}

function page(title: string, body: string, o: { refresh?: number; scripts?: string } = {}): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${escapeHtml(title)}</title>
${o.refresh ? `<meta http-equiv="refresh" content="${o.refresh}">` : ''}<style>${PAGE_CSS}</style></head>
<body>${body}${o.scripts ?? ''}</body></html>
`;
}

export interface Listed {
  found: Found;
  /** Shown name: the path under its root. */
  name: string;
  brief: RunBrief | null;
}

function runRow(r: Listed): string {
  const h = r.brief?.header;
  if (!h) return `<tr><td class="l">${escapeHtml(r.name)}</td><td colspan="7">unreadable run.json</td></tr>`;
  const cells = [
    `<a href="${runUrl(r.found.id)}">${escapeHtml(r.name)}</a>`,
    stateBadge(h.state),
    escapeHtml(h.kind),
    escapeHtml(h.label),
    escapeHtml(h.dataset),
    escapeHtml(progressText(h)),
    escapeHtml(timeText(h)),
    escapeHtml(resultText(h)),
  ];
  return `<tr>${cells.map((c) => `<td class="l">${c}</td>`).join('')}</tr>`;
}

function experimentRow(e: Listed, runs: readonly Listed[]): string {
  const seeds = runs.filter((r) => r.found.parent === e.found.id);
  const done = seeds.filter((r) => r.brief?.header.state === 'completed').length;
  const running = seeds.filter((r) => r.brief?.header.state === 'running').length;
  const errs = seeds.map((r) => r.brief?.result?.testError).filter((x): x is number => x !== undefined);
  const cells = [
    `<a href="${experimentUrl(e.found.id)}">${escapeHtml(e.name)}</a>`,
    escapeHtml(`${seeds.length} (${done} finished${running ? `, ${running} running` : ''})`),
    escapeHtml(errs.length ? `test error ${formatMeanStd(errs)}% over ${errs.length}` : '-'),
  ];
  return `<tr>${cells.map((c) => `<td class="l">${c}</td>`).join('')}</tr>`;
}

/** The front page: experiments, then runs (refreshes itself every 5 s). */
export function listPage(roots: readonly string[], experiments: readonly Listed[], runs: readonly Listed[]): string {
  const exps = experiments.length
    ? `<h2>Experiments</h2><table><thead><tr><th class="l">experiment</th><th class="l">seeds</th><th class="l">result (mean ± std)</th></tr></thead><tbody>${experiments
        .map((e) => experimentRow(e, runs))
        .join('\n')}</tbody></table>`
    : '';
  const head = ['run', 'state', 'kind', 'method', 'dataset', 'progress', 'time', 'result'];
  const table = runs.length
    ? `<table><thead><tr>${head.map((h) => `<th class="l">${h}</th>`).join('')}</tr></thead><tbody>${runs.map(runRow).join('\n')}</tbody></table>`
    : '<p>No runs here yet.</p>';
  return page(
    'lbt runs',
    `<h1>lbt runs</h1><p class="meta">Serving ${roots.map(escapeHtml).join(', ')} (read-only).</p>${exps}<h2>Runs</h2>${table}`,
    { refresh: 5 },
  );
}

/** The live page of one run: header, cells, the views (filled by live.js from the stream). */
export function runPage(found: Found, name: string, brief: RunBrief, o: { parent: Found | null; hasReport: boolean }): string {
  const h = brief.header;
  const t = headerText(h);
  const views = runViews(h.kind, brief.config);
  const nav = [`<a href="/">all runs</a>`];
  if (o.parent)
    nav.push(
      `<a href="${o.parent.kind === 'experiment' ? experimentUrl(o.parent.id) : runUrl(o.parent.id)}">${escapeHtml(basename(o.parent.dir))}</a>`,
    );
  const meta = [
    `${escapeHtml(h.kind)} run on ${escapeHtml(h.dataset)}`,
    escapeHtml(h.device),
    ...(brief.summary.preset ? [`preset ${escapeHtml(brief.summary.preset)}`] : []),
    ...(o.hasReport ? [`<a href="${reportUrl(found.id)}">report.html</a>`] : []),
  ];
  const figures = views
    .map(
      (v) =>
        `<figure id="view-${v.id}" hidden><div class="chart"></div><figcaption>${escapeHtml(v.caption)}</figcaption></figure>`,
    )
    .join('\n');
  const boot = JSON.stringify({
    stream: streamUrl(found.id),
    views: views.map((v) => ({ id: v.id, spec: v.spec, tables: v.tables })),
  });
  const body = `<p class="meta">${nav.join(' › ')}</p>
<h1>${escapeHtml(name)}: ${escapeHtml(h.label)}</h1>
<p class="status" id="status" data-step="${t.step}" data-state="${escapeHtml(t.state)}"><span id="state" class="state state-${escapeHtml(
    t.state,
  )}">${escapeHtml(t.state === 'completed' ? 'finished' : t.state)}</span> <span id="progress">${escapeHtml(t.progress)}</span><span id="time">${escapeHtml(
    t.time,
  )}</span><span id="result">${escapeHtml(t.result)}</span></p>
<p class="meta">${meta.join(' · ')}</p>
${h.error ? `<p><b>error:</b> ${escapeHtml(h.error)}</p>` : ''}
<figure class="cells" id="cells" hidden></figure>
<div class="row">${figures}</div>
<script type="application/json" id="boot">${boot.replace(/</g, '\\u003c')}</script>`;
  return page(`${name}: lbt`, body, {
    scripts:
      '<script src="/assets/vega.min.js"></script><script src="/assets/vega-lite.min.js"></script><script type="module" src="/assets/live.js"></script>',
  });
}

export interface SeedRow {
  seed: string;
  search: Listed;
  retrain: Listed | null;
}

/** An experiment: its request, one row per seed, the test error's mean ± std over the seeds that have one. */
export function experimentPage(
  found: Found,
  name: string,
  spec: Record<string, unknown> | null,
  seeds: readonly SeedRow[],
  hasReport: boolean,
): string {
  const results = seeds.map((s) => s.search.brief?.result ?? s.retrain?.brief?.result ?? null);
  const errs = results.filter((r): r is RunResult => r !== null).map((r) => r.testError);
  const params = results.filter((r): r is RunResult => r !== null).map((r) => r.paramsM);
  const rows = seeds.map((s, i) => {
    const h = s.search.brief?.header;
    const r = results[i];
    const link = (l: Listed | null) =>
      l?.brief ? `<a href="${runUrl(l.found.id)}">${stateBadge(l.brief.header.state)}</a>` : '-';
    return `<tr><td class="l">${escapeHtml(s.seed)}</td><td class="l">${link(s.search)} ${escapeHtml(h ? progressText(h) : '')}</td><td class="l">${link(
      s.retrain,
    )} ${escapeHtml(s.retrain?.brief ? progressText(s.retrain.brief.header) : '')}</td><td>${r ? r.testError.toFixed(2) : '-'}</td><td>${
      r ? r.paramsM.toFixed(2) : '-'
    }</td><td>${h ? escapeHtml(timeText(h)) : '-'}</td></tr>`;
  });
  const foot = `<tr><th class="l">mean ± std (${errs.length} of ${seeds.length})</th><th></th><th></th><th>${escapeHtml(
    formatMeanStd(errs),
  )}</th><th>${escapeHtml(formatMeanStd(params))}</th><th></th></tr>`;
  const what = spec ? escapeHtml(experimentRequest(spec)) : '';
  const body = `<p class="meta"><a href="/">all runs</a></p><h1>experiment ${escapeHtml(name)}</h1>
<p class="meta">${what}${hasReport ? ` · <a href="${reportUrl(found.id)}">report.html</a>` : ''}</p>
<table><thead><tr><th class="l">seed</th><th class="l">search</th><th class="l">retrain</th><th>test error (%)</th><th>params (M)</th><th>search time</th></tr></thead>
<tbody>${rows.join('\n')}</tbody><tfoot>${foot}</tfoot></table>
<p class="note">Mean ± sample standard deviation (n−1) over the seeds whose retrain finished.</p>`;
  return page(`experiment ${name}: lbt`, body, { refresh: 10 });
}

/** experiment.json as a line: "preset default, scale smoke, --set lambda=0.5, with retrain". */
function experimentRequest(spec: Record<string, unknown>): string {
  const sets = Array.isArray(spec.sets) ? spec.sets.map((x) => `--set ${String(x)}`) : [];
  return [
    spec.preset !== undefined ? `preset ${String(spec.preset)}` : `config ${String(spec.file ?? '?')}`,
    ...(spec.scale !== undefined ? [`scale ${String(spec.scale)}`] : []),
    ...sets,
    spec.retrain === false ? 'search only' : 'with retrain',
  ].join(', ');
}

export const REPORT_FILE = 'report.html';
export const reportPath = (dir: string) => join(dir, REPORT_FILE);
export { RUN_FILES };
