// `lbt serve` over HTTP: the pages of a finished run, a running run and an experiment; nothing
// outside the served directories (.., encoded, absolute, symlinks); read-only; loopback Host only;
// the live stream pushing appended records.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Served, serve } from '../../src/serve/server.js';
import { append, SECRET, servedTree, snapshot, stepRecord } from './fixtures.js';

let srv: Served;
let tree: ReturnType<typeof servedTree>;

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function get(path: string, o: { method?: string; host?: string } = {}): Promise<Reply> {
  const u = new URL(srv.url);
  return new Promise((ok, fail) => {
    const req = request(
      { host: u.hostname, port: u.port, path, method: o.method ?? 'GET', headers: o.host ? { host: o.host } : {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

before(async () => {
  tree = servedTree();
  srv = await serve({ dirs: [tree.runs], port: 0, pollMs: 100, drawCells: async () => '<svg><text>cells</text></svg>' });
});
after(() => srv.close());

test('binds 127.0.0.1 by default', () => {
  assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});

test('the list: runs with state, method, dataset, progress and result; the experiment; no link to outside', async () => {
  const r = await get('/');
  assert.equal(r.status, 200);
  assert.match(r.headers['content-security-policy'] as string, /default-src 'none'/);
  for (const name of ['done', 'live', 'exp/seed-0', 'exp/seed-0/retrain', 'exp/seed-1'])
    assert.ok(r.body.includes(`>${name}</a>`), name);
  assert.match(r.body, /state-running">running</);
  assert.match(r.body, /state-completed">finished</);
  assert.match(r.body, /LBT\(RN18-reduced,DARTS-2nd\)/);
  assert.match(r.body, /Fashion-MNIST/);
  assert.match(r.body, /step 4\/4 \(100%\) · epoch 2\/2/);
  assert.match(r.body, /step 2\/4 \(50%\) · epoch 2\/2/, 'the running run: 2 of epochs 2 × stepsPerEpoch 2, in its second epoch');
  assert.match(r.body, /test error 9\.50%, 0\.12 M params/);
  assert.match(
    r.body,
    /href="\/experiment\/0\/exp">exp<\/a><\/td><td class="l">2 \(2 finished\)<\/td><td class="l">test error 10\.00±1\.41% over 2<\/td>/,
  );
  assert.ok(!r.body.includes('link-out') && !r.body.includes('stolen'), 'a symlink out of the root is not listed');
  const api = JSON.parse((await get('/api/runs')).body) as { id: string; kind: string; parent?: string }[];
  assert.deepEqual(
    api.map((x) => [x.id, x.kind, x.parent ?? null]),
    [
      ['0/done', 'run', null],
      ['0/done2', 'run', null],
      ['0/exp', 'experiment', null],
      ['0/exp/seed-0', 'run', '0/exp'],
      ['0/exp/seed-0/retrain', 'run', '0/exp/seed-0'],
      ['0/exp/seed-1', 'run', '0/exp'],
      ['0/live', 'run', null],
    ],
  );
});

test('a run page: the header, the views of a search run, the stream it reads, the report link', async () => {
  const r = await get('/run/0/done');
  assert.equal(r.status, 200);
  assert.match(r.body, /<span id="progress">step 4\/4 \(100%\) · epoch 2\/2<\/span>/);
  assert.match(r.body, /data-step="4"/);
  for (const id of ['arch-now', 'arch-normal', 'arch-reduce', 'curves', 'arch-stats', 'teaching', 'timing'])
    assert.ok(r.body.includes(`id="view-${id}"`), id);
  assert.ok(!r.body.includes('id="view-betas"'), 'betas only for PC-DARTS');
  assert.match(r.body, /"stream":"\/api\/stream\/0\/done"/);
  assert.match(r.body, /href="\/report\/0\/done">report\.html/);
  const live = await get('/run/0/live');
  assert.match(live.body, /state-running">running</);
  assert.ok(!live.body.includes('report.html'), 'no report yet');
  const report = await get('/report/0/done');
  assert.equal(report.status, 200);
  assert.equal(report.body, '<!DOCTYPE html><title>r</title><p>the report</p>');
  assert.match(report.headers['content-security-policy'] as string, /sandbox/);
});

test('an experiment page: a row per seed with links, mean ± std of the test error', async () => {
  const r = await get('/experiment/0/exp');
  assert.equal(r.status, 200);
  assert.match(r.body, /href="\/run\/0\/exp\/seed-0"/);
  assert.match(r.body, /href="\/run\/0\/exp\/seed-0\/retrain"/);
  assert.match(r.body, /href="\/run\/0\/exp\/seed-1"/);
  assert.match(r.body, /<td>9\.00<\/td>/);
  assert.match(r.body, /<td>11\.00<\/td>/);
  assert.match(r.body, /mean ± std \(2 of 2\)<\/th><th><\/th><th><\/th><th>10\.00±1\.41<\/th>/);
  assert.match(r.body, /preset default, with retrain/);
});

test('nothing outside the served directory: .., encoded, absolute, symlinked directories and files', async () => {
  const tries = [
    '/report/0/../../outside/stolen',
    '/report/0/..%2F..%2Foutside%2Fstolen',
    '/report/0/%2e%2e/outside/stolen',
    '/report/0/%252e%252e/outside/stolen',
    '/report/%2Fetc',
    '/report/0/%2Fetc%2Fpasswd',
    '/report//etc/passwd',
    '/report/1/stolen',
    '/report/0/link-out',
    '/run/0/link-out',
    '/api/stream/0/link-out',
    '/report/0/done2',
    '/report/0/done/..%5C..%5Coutside',
    '/report/0/done%00',
    '/run/0/%ff',
    '/assets/../package.json',
    '/assets/%2e%2e%2fpackage.json',
    '/etc/passwd',
    '//etc/passwd',
  ];
  for (const path of tries) {
    const r = await get(path);
    assert.equal(r.status, 404, path);
    assert.ok(!r.body.includes(SECRET), path);
  }
});

test('read-only: other methods get 405; a Host that is not loopback gets 421 (no DNS rebinding)', async () => {
  for (const method of ['POST', 'PUT', 'DELETE']) assert.equal((await get('/', { method })).status, 405, method);
  assert.equal((await get('/', { host: 'evil.example:80' })).status, 421);
  assert.equal((await get('/', { host: `localhost:${new URL(srv.url).port}` })).status, 200);
  assert.equal((await get('/', { method: 'HEAD' })).body, '');
});

/** Reads server-sent events from `path` until `until` says stop (or the timeout). */
function events(path: string, until: (evs: { event: string; data: unknown }[]) => boolean, ms = 8000) {
  const u = new URL(srv.url);
  return new Promise<{ event: string; data: unknown }[]>((ok, fail) => {
    const got: { event: string; data: unknown }[] = [];
    const req = request({ host: u.hostname, port: u.port, path }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev && data) got.push({ event: ev, data: JSON.parse(data) });
        }
        if (until(got)) {
          req.destroy();
          ok(got);
        }
      });
    });
    req.on('error', (e) => (got.length ? undefined : fail(e)));
    req.end();
    setTimeout(() => {
      req.destroy();
      fail(new Error(`timed out; got ${got.map((g) => g.event).join(',')}`));
    }, ms);
  });
}

test('the stream: init with every table, then the rows of appended records and snapshots, then the cells', async () => {
  const dir = join(tree.runs, 'live');
  const seen = events('/api/stream/0/live', (evs) =>
    evs.some((e) => e.event === 'delta' && JSON.stringify(e.data).includes('"step":4')),
  );
  await new Promise((r) => setTimeout(r, 300));
  append(dir, 'metrics.jsonl', [stepRecord(3, 9), stepRecord(4, 12)]);
  const evs = await seen;
  const init = evs[0] as {
    event: string;
    data: { header: { step: number; progress: string }; tables: { curves: unknown[]; arch: unknown[] } };
  };
  assert.equal(init.event, 'init');
  assert.equal(init.data.header.step, 2);
  assert.equal(
    init.data.tables.curves.length,
    2 * 4 + 10,
    'two step records × (teacher, student) × (loss, acc); an epoch record: 2 models × 2 splits × 2 + agreement + pseudo',
  );
  assert.equal(init.data.tables.arch.length, 2 * 14 * 8, 'one snapshot: 2 cells × 14 edges × 8 ops');
  const deltas = evs
    .filter((e) => e.event === 'delta')
    .map((e) => e.data as { header: { step: number }; delta: { curves?: { step: number }[]; timing?: unknown[] } });
  const rows = deltas.flatMap((d) => d.delta.curves ?? []);
  assert.deepEqual([...new Set(rows.map((r) => r.step))], [3, 4], 'only the new records');
  assert.equal(deltas.at(-1)?.header.step, 4);
  // a new snapshot file: its rows and the new kept edges, and the drawing
  const more = events('/api/stream/0/live', (e) =>
    e.some((x) => x.event === 'delta' && JSON.stringify(x.data).includes('"kept"')),
  );
  await new Promise((r) => setTimeout(r, 300));
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'genotypes', 'epoch-001.json'), JSON.stringify(snapshot(4, 1, 0.05)));
  const evs2 = await more;
  assert.ok(evs2.some((e) => e.event === 'cells' || JSON.stringify(e.data).includes('cells')));
  const d = evs2.find((e) => e.event === 'delta' && JSON.stringify(e.data).includes('"kept"'))?.data as {
    delta: { arch: { step: number; op: string; dev: number; key: string }[]; kept: { key: string; keptOp: string }[] };
  };
  assert.equal(d.delta.arch.length, 2 * 14 * 8);
  const sep = d.delta.arch.find((r) => r.key === 'normal n0←k-2' && r.op === 'sep_conv_3x3');
  assert.ok(Math.abs((sep?.dev ?? 0) - 0.05) < 1e-12, 'dev = w − 1/8');
  assert.deepEqual(d.delta.kept.slice(0, 3), [
    { key: 'normal n0←k-2', keptOp: 'sep_conv_3x3' },
    { key: 'normal n0←k-1', keptOp: 'sep_conv_3x3' },
    { key: 'normal n1←k-2', keptOp: 'skip_connect' },
  ]);
});
