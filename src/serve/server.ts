// `lbt serve`: a read-only local web server over run and experiment directories, on node:http.
// GET and HEAD only; paths come from ids that ServedRoots checks (roots.ts); a fixed list of
// assets; Server-Sent Events for the live run page. Bound to loopback, it answers only requests
// whose Host names a loopback address (a page elsewhere cannot reach it by DNS rebinding).
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drawCells } from '../report/views/cells.js';
import { routeRequest } from './routes.js';
import { ServedRoots } from './roots.js';
import type { CellDrawer, RunWatch } from './watch.js';

export interface ServeOptions {
  dirs: readonly string[];
  host?: string;
  port?: number;
  /** Poll interval of a followed run (ms); fs.watch usually wakes it sooner. */
  pollMs?: number;
  drawCells?: CellDrawer;
}

export interface Served {
  server: Server;
  url: string;
  roots: ServedRoots;
  close(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
const buildDir = (pkg: string) => dirname(fileURLToPath(import.meta.resolve(pkg)));

/** The only files served that are not generated: name → [path, content type]. */
export const ASSETS: Readonly<Record<string, () => [string, string]>> = {
  'vega.min.js': () => [join(buildDir('vega'), 'vega.min.js'), 'text/javascript'],
  'vega-lite.min.js': () => [join(buildDir('vega-lite'), 'vega-lite.min.js'), 'text/javascript'],
  'live.js': () => [join(here, 'client', 'live.js'), 'text/javascript'],
};

export const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost|\[::1\])$/i;

/** True when a request's Host header may be answered by a server bound to `bindHost`. */
export function hostAllowed(bindHost: string, hostHeader: string | undefined): boolean {
  if (!LOOPBACK.test(bindHost)) return true;
  if (!hostHeader) return false;
  const name = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.replace(/:\d+$/, '');
  return LOOPBACK.test(name);
}

export interface ServerContext {
  roots: ServedRoots;
  watches: Map<string, RunWatch>;
  pollMs: number;
  drawCells: CellDrawer;
  asset(name: string): { body: Buffer; type: string } | null;
}

function assetLoader(): ServerContext['asset'] {
  const cache = new Map<string, { body: Buffer; type: string }>();
  return (name) => {
    const a = ASSETS[name];
    if (!a) return null;
    let hit = cache.get(name);
    if (!hit) {
      const [path, type] = a();
      hit = { body: readFileSync(path), type };
      cache.set(name, hit);
    }
    return hit;
  };
}

/** Starts the server; resolves once it listens (port 0: a free one, see `url`). */
export async function serve(o: ServeOptions): Promise<Served> {
  const roots = new ServedRoots(o.dirs);
  const host = o.host ?? '127.0.0.1';
  const ctx: ServerContext = {
    roots,
    watches: new Map(),
    pollMs: o.pollMs ?? 1000,
    drawCells: o.drawCells ?? ((g) => drawCells(g)),
    asset: assetLoader(),
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!hostAllowed(host, req.headers.host)) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('misdirected request: use a loopback address\n');
      return;
    }
    try {
      routeRequest(ctx, req, res);
    } catch (e) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${(e as Error).message}\n`);
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(o.port ?? 8008, host, () => ok());
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    roots,
    url: `http://${shown}:${addr.port}`,
    close: () =>
      new Promise<void>((ok) => {
        for (const w of ctx.watches.values()) w.stop();
        ctx.watches.clear();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
