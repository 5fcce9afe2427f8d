// The routes of `lbt serve`. Every path that names a run or an experiment is an id checked by
// ServedRoots.resolve (no "..", no symlink out of a root); nothing else on disk is reachable.
//
//   GET /                        runs and experiments
//   GET /run/<id>                a run's live page          GET /api/stream/<id>   its events (SSE)
//   GET /experiment/<id>         an experiment's seeds      GET /report/<id>       its report.html
//   GET /api/runs                the list as JSON           GET /assets/<name>     vega, vega-lite, live.js
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, join } from 'node:path';
import { RUN_FILES } from '../runs/types.js';
import { runBrief } from './brief.js';
import { experimentPage, headerText, type Listed, listPage, REPORT_FILE, runPage, type SeedRow } from './pages.js';
import { type Found, scan } from './scan.js';
import type { ServerContext } from './server.js';
import { RunWatch, type WatchEvent } from './watch.js';

const PAGE_CSP =
  "default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox";

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, csp = PAGE_CSP): void {
  res.writeHead(status, {
    'content-type': type,
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const notFound = (res: ServerResponse, what = 'not found') => send(res, 404, 'text/plain; charset=utf-8', `${what}\n`);

/** "/run/0/a%20b/c" → "0/a b/c", or null when a segment does not decode to a plain name. */
export function idFromPath(rest: string): string | null {
  const segs = rest.split('/');
  if (segs.length > 1 && segs.at(-1) === '') segs.pop(); // a trailing slash
  const out: string[] = [];
  for (const s of segs) {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      return null;
    }
    if (d === '' || d === '.' || d === '..' || /[/\\\0]/.test(d)) return null;
    out.push(d);
  }
  return out.length ? out.join('/') : null;
}

function nameOf(ctx: ServerContext, f: Found): string {
  const i = Number(f.id.split('/')[0]);
  const label = ctx.roots.roots[i]?.label ?? '';
  const rel = f.id.split('/').slice(1).join('/');
  return rel ? (ctx.roots.roots.length > 1 ? `${label}/${rel}` : rel) : label;
}

const listed = (ctx: ServerContext, f: Found): Listed => ({
  found: f,
  name: nameOf(ctx, f),
  brief: f.kind === 'run' ? runBrief(ctx.roots, f.dir) : null,
});

/** Finds the run or experiment an id names (re-scanning, so runs that appeared since are found). */
function lookup(ctx: ServerContext, id: string | null, kind: Found['kind']): { found: Found; all: Found[] } | null {
  if (id === null) return null;
  const dir = ctx.roots.resolve(id);
  if (dir === null) return null;
  const all = scan(ctx.roots);
  const found = all.find((f) => f.dir === dir && f.kind === kind);
  return found ? { found, all } : null;
}

function stream(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, found: Found): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-content-type-options': 'nosniff',
  });
  let w = ctx.watches.get(found.dir);
  if (!w) {
    w = new RunWatch(ctx.roots, found.dir, { pollMs: ctx.pollMs, drawCells: ctx.drawCells });
    ctx.watches.set(found.dir, w);
  }
  const write = (e: WatchEvent) => {
    const { type, ...rest } = e;
    const data = 'header' in rest ? { ...rest, header: headerText(rest.header) } : rest;
    res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const unsubscribe = w.subscribe(write);
  const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
  req.on('close', () => {
    clearInterval(ping);
    unsubscribe();
    if (w.subscribers === 0) ctx.watches.delete(found.dir);
  });
}

function experiment(ctx: ServerContext, res: ServerResponse, found: Found, all: Found[]): void {
  const seeds: SeedRow[] = all
    .filter((f) => f.parent === found.id && f.kind === 'run')
    .map((f) => {
      const retrain = all.find((r) => r.parent === f.id && basename(r.dir) === 'retrain');
      return {
        seed: basename(f.dir).replace(/^seed-/, ''),
        search: listed(ctx, f),
        retrain: retrain ? listed(ctx, retrain) : null,
      };
    })
    .sort((a, b) => Number(a.seed) - Number(b.seed) || a.seed.localeCompare(b.seed));
  const spec = ctx.roots.readJson<Record<string, unknown>>(join(found.dir, 'experiment.json'));
  const hasReport = ctx.roots.mtime(join(found.dir, REPORT_FILE)) >= 0;
  send(res, 200, 'text/html; charset=utf-8', experimentPage(found, nameOf(ctx, found), spec, seeds, hasReport));
}

type Handler = (ctx: ServerContext, req: IncomingMessage, res: ServerResponse, rest: string[]) => void;

function listRoute(ctx: ServerContext, res: ServerResponse): void {
  const all = scan(ctx.roots).map((f) => listed(ctx, f));
  const labels = ctx.roots.roots.map((r) => r.label);
  const exps = all.filter((f) => f.found.kind === 'experiment');
  send(
    res,
    200,
    'text/html; charset=utf-8',
    listPage(
      labels,
      exps,
      all.filter((f) => f.found.kind === 'run'),
    ),
  );
}

function runsJson(ctx: ServerContext, res: ServerResponse): void {
  const runs = scan(ctx.roots).map((f) => {
    const b = f.kind === 'run' ? runBrief(ctx.roots, f.dir) : null;
    return {
      id: f.id,
      kind: f.kind,
      name: nameOf(ctx, f),
      ...(f.parent && { parent: f.parent }),
      ...(b && { header: b.header }),
    };
  });
  send(res, 200, 'application/json', JSON.stringify(runs));
}

function runRoute(ctx: ServerContext, res: ServerResponse, id: string | null): void {
  const hit = lookup(ctx, id, 'run');
  const brief = hit ? runBrief(ctx.roots, hit.found.dir) : null;
  if (!hit || !brief) {
    notFound(res, 'no such run');
    return;
  }
  const parent = hit.all.find((f) => f.id === hit.found.parent) ?? null;
  const hasReport = ctx.roots.mtime(join(hit.found.dir, REPORT_FILE)) >= 0;
  send(res, 200, 'text/html; charset=utf-8', runPage(hit.found, nameOf(ctx, hit.found), brief, { parent, hasReport }));
}

/** report.html of a run or an experiment, as a sandboxed page. */
function reportRoute(ctx: ServerContext, res: ServerResponse, id: string | null): void {
  const dir = id === null ? null : ctx.roots.resolve(id);
  const isRun =
    dir !== null && (ctx.roots.mtime(join(dir, RUN_FILES.summary)) >= 0 || ctx.roots.mtime(join(dir, 'experiment.json')) >= 0);
  const html = isRun ? ctx.roots.readInside(join(dir, REPORT_FILE)) : null;
  if (html) send(res, 200, 'text/html; charset=utf-8', html.bytes, REPORT_CSP);
  else notFound(res, 'no report here');
}

const ROUTES: Readonly<Record<string, Handler>> = {
  assets: (ctx, _req, res, rest) => {
    const a = ctx.asset(rest.join('/'));
    if (a) send(res, 200, `${a.type}; charset=utf-8`, a.body);
    else notFound(res);
  },
  api: (ctx, req, res, rest) => {
    if (rest[0] === 'runs' && rest.length === 1) {
      runsJson(ctx, res);
      return;
    }
    const hit = rest[0] === 'stream' ? lookup(ctx, idFromPath(rest.slice(1).join('/')), 'run') : null;
    if (hit) stream(ctx, req, res, hit.found);
    else notFound(res, 'no such run');
  },
  run: (ctx, _req, res, rest) => runRoute(ctx, res, idFromPath(rest.join('/'))),
  experiment: (ctx, _req, res, rest) => {
    const hit = lookup(ctx, idFromPath(rest.join('/')), 'experiment');
    if (hit) experiment(ctx, res, hit.found, hit.all);
    else notFound(res, 'no such experiment');
  },
  report: (ctx, _req, res, rest) => reportRoute(ctx, res, idFromPath(rest.join('/'))),
};

export function routeRequest(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('read-only: GET and HEAD only\n');
    return;
  }
  const path = (req.url ?? '/').split('?')[0] as string;
  if (path === '/') {
    listRoute(ctx, res);
    return;
  }
  const [, first = '', ...rest] = path.split('/');
  const handler = Object.hasOwn(ROUTES, first) ? ROUTES[first] : undefined;
  if (handler) handler(ctx, req, res, rest);
  else notFound(res);
}
