/// <reference lib="dom" />
// The run page's script (runs in the browser; no imports): renders the views' Vega-Lite specs
// with vega and vega-lite (loaded by the page) and keeps them current from the server's event
// stream: `init` brings every table, `delta` the new rows (inserted, not re-rendered from
// scratch), `cells` the derived cells' drawing.

interface Changeset {
  remove(pred: (d: unknown) => boolean): Changeset;
  insert(rows: unknown[]): Changeset;
}
interface VegaView {
  runAsync(): Promise<unknown>;
  change(name: string, cs: Changeset): VegaView;
  insert(name: string, rows: unknown[]): VegaView;
  finalize(): void;
}
interface VegaGlobal {
  View: new (runtime: unknown, o: { renderer: string; container: Element; hover: boolean }) => VegaView;
  parse(spec: unknown): unknown;
  changeset(): Changeset;
}
interface VegaLiteGlobal {
  compile(spec: unknown): { spec: unknown };
}
declare const vega: VegaGlobal;
declare const vegaLite: VegaLiteGlobal;

type Tables = Record<string, unknown[]>;
interface ViewBoot {
  id: string;
  spec: Record<string, unknown>;
  tables: string[];
}
interface HeaderText {
  state: string;
  step: number;
  progress: string;
  time: string;
  result: string;
}

const boot = JSON.parse(document.getElementById('boot')?.textContent ?? '{}') as { stream: string; views: ViewBoot[] };
const tables: Tables = {};
const views = new Map<string, VegaView>();

function hasRows(v: ViewBoot): boolean {
  return v.tables.some((t) => t !== 'kept' && (tables[t]?.length ?? 0) > 0);
}

async function create(v: ViewBoot): Promise<void> {
  const fig = document.getElementById(`view-${v.id}`);
  const box = fig?.querySelector('.chart');
  if (!fig || !box) return;
  const datasets = Object.fromEntries(v.tables.map((t) => [t, tables[t] ?? []]));
  const view = new vega.View(vega.parse(vegaLite.compile({ ...v.spec, datasets }).spec), {
    renderer: 'svg',
    container: box,
    hover: true,
  });
  views.set(v.id, view);
  fig.hidden = false;
  await view.runAsync();
}

function setHeader(h: HeaderText): void {
  const status = document.getElementById('status');
  if (!status) return;
  status.dataset.step = String(h.step);
  status.dataset.state = h.state;
  const set = (id: string, text: string) => {
    const el = document.getElementById(id);
    if (el) el.textContent = text;
  };
  const badge = document.getElementById('state');
  if (badge) {
    badge.className = `state state-${h.state}`;
    badge.textContent = h.state === 'completed' ? 'finished' : h.state;
  }
  set('progress', h.progress);
  set('time', h.time);
  set('result', h.result);
}

/** Applies new rows (`reset`: whole tables) and the snapshots dropped from the thinned `arch` history. */
async function update(delta: Tables, reset: boolean, dropSeqs: readonly number[] = []): Promise<void> {
  const dropped = (r: unknown) => dropSeqs.includes((r as { seq: number }).seq);
  if (dropSeqs.length) tables.arch = (tables.arch ?? []).filter((r) => !dropped(r));
  for (const [name, rows] of Object.entries(delta)) {
    if (reset || name === 'kept') tables[name] = [...rows];
    else tables[name] = [...(tables[name] ?? []), ...rows];
  }
  for (const v of boot.views) {
    const view = views.get(v.id);
    if (!view) {
      if (hasRows(v)) await create(v);
      continue;
    }
    let touched = false;
    for (const t of v.tables) {
      const rows = delta[t];
      const drop = t === 'arch' && dropSeqs.length > 0;
      if (!rows && !drop) continue;
      touched = true;
      if (reset || t === 'kept' || drop)
        view.change(
          t,
          vega
            .changeset()
            .remove(reset || t === 'kept' ? () => true : dropped)
            .insert(rows ?? []),
        );
      else view.insert(t, rows ?? []);
    }
    if (touched) await view.runAsync();
  }
}

let queue: Promise<void> = Promise.resolve();
const later = (fn: () => Promise<void>) => {
  queue = queue.then(fn).catch((e: unknown) => console.error(e));
};

const source = new EventSource(boot.stream);
source.addEventListener('init', (e) => {
  const p = JSON.parse((e as MessageEvent).data) as { header: HeaderText; tables: Tables; cells: string | null };
  setHeader(p.header);
  if (p.cells !== null) setCells(p.cells);
  later(() => update(p.tables, true));
});
source.addEventListener('delta', (e) => {
  const p = JSON.parse((e as MessageEvent).data) as { header: HeaderText; delta: Tables & { dropSeqs?: number[] } };
  setHeader(p.header);
  const { dropSeqs, ...rows } = p.delta;
  later(() => update(rows, false, dropSeqs));
});
source.addEventListener('cells', (e) => {
  setCells((JSON.parse((e as MessageEvent).data) as { svg: string }).svg);
});

function setCells(svg: string): void {
  const box = document.getElementById('cells');
  if (!box) return;
  const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
  const el = doc.documentElement;
  if (el.nodeName !== 'svg') return;
  box.replaceChildren(document.importNode(el, true));
  box.hidden = false;
}
