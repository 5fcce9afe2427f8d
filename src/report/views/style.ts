// The look shared by report.html and the pages of `lbt serve`.
export const PAGE_CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1500px;padding:0 1em;color:#222}
a{color:#1f5fa8}table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}thead{background:#f3f3f3}.note,.meta,.caption{color:#555;font-size:12px}
section{border-top:1px solid #ddd;margin-top:2em}.row{display:flex;flex-wrap:wrap;gap:1.2em;align-items:flex-start}
figure{margin:0 0 1em 0}figcaption{color:#555;font-size:12px;max-width:900px}.cells svg{max-width:min(100%,760px);height:auto}
pre{background:#f7f7f7;padding:.5em;overflow-x:auto}td.l,th.l{text-align:left}
.state{display:inline-block;padding:0 .5em;border-radius:3px;font-size:12px;font-weight:600;color:#fff;background:#777}
.state-running{background:#1f77b4}.state-completed{background:#2ca02c}.state-failed{background:#d62728}
.state-interrupted{background:#ff7f0e}.state-stale{background:#8c564b}
.status{font-size:15px;margin:.3em 0}.status span+span:not(:empty)::before{content:" · ";color:#999}`;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A state badge. */
export function stateBadge(state: string): string {
  const shown = state === 'completed' ? 'finished' : state;
  return `<span class="state state-${escapeHtml(state)}">${escapeHtml(shown)}</span>`;
}
