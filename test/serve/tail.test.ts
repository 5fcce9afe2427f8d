// Following a growing JSON-lines file reads only the bytes appended since the last read; a file
// replaced (a resume rewrites metrics.jsonl) or truncated starts over; a line split in the middle of
// a character waits for its end. A run whose process is gone is stale.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ServedRoots } from '../../src/serve/roots.js';
import { JsonlTail } from '../../src/serve/tail.js';
import { isStale, RunWatch, type WatchEvent } from '../../src/serve/watch.js';
import { append, snapshot, summary, writeRun } from './fixtures.js';

function spied(dir: string) {
  const roots = new ServedRoots([dir]);
  const reads: number[] = [];
  const real = roots.readInside.bind(roots);
  roots.readInside = (path, from = 0, max = Number.POSITIVE_INFINITY) => {
    reads.push(from);
    return real(path, from, max);
  };
  return { roots, reads };
}

test('a tail reads each byte once: only what was appended, whole lines only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lbt-tail-'));
  const f = join(dir, 'm.jsonl');
  writeFileSync(f, '{"a":1}\n{"a":2}\n');
  const { roots, reads } = spied(dir);
  const tail = new JsonlTail<{ a: number }>(roots, f);
  assert.deepEqual(tail.read(), { reset: false, items: [{ a: 1 }, { a: 2 }] });
  assert.deepEqual(tail.read(), { reset: false, items: [] });
  appendFileSync(f, '{"a":3}\n{"a":');
  assert.deepEqual(tail.read(), { reset: false, items: [{ a: 3 }] }, 'the torn line waits');
  appendFileSync(f, '4}\n');
  assert.deepEqual(tail.read(), { reset: false, items: [{ a: 4 }] });
  assert.deepEqual(reads, [0, 16, 16, 29], 'each read starts where the last stopped');
  // a multibyte character split across two appends
  const bytes = Buffer.from('{"e":"n1←k-2"}\n');
  appendFileSync(f, bytes.subarray(0, 10));
  assert.deepEqual(tail.read().items, []);
  appendFileSync(f, bytes.subarray(10));
  assert.deepEqual(tail.read().items, [{ e: 'n1←k-2' }]);
});

test('a replaced or truncated file starts over and says so; a missing one reads as empty', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lbt-tail-'));
  const f = join(dir, 'm.jsonl');
  const tail = new JsonlTail<{ a: number }>(new ServedRoots([dir]), f);
  assert.deepEqual(tail.read(), { reset: false, items: [] });
  writeFileSync(f, '{"a":1}\n{"a":2}\n{"a":3}\n');
  assert.deepEqual(tail.read().items.length, 3);
  writeFileSync(join(dir, 'tmp'), '{"a":1}\n');
  renameSync(join(dir, 'tmp'), f); // what an atomic rewrite does
  assert.deepEqual(tail.read(), { reset: true, items: [{ a: 1 }] });
  appendFileSync(f, '{"a":2}\n');
  assert.deepEqual(tail.read(), { reset: false, items: [{ a: 2 }] });
  writeFileSync(f, ''); // truncated in place
  assert.deepEqual(tail.read(), { reset: true, items: [] });
});

test('stale: a running run whose process is gone (same host), or silent for 30 minutes elsewhere', () => {
  const gone = spawnSync(process.execPath, ['-e', '0']).pid as number;
  const now = Date.now();
  assert.equal(isStale({ ...summary({ status: 'running', host: hostname() }), pid: gone }, now, now), true);
  assert.equal(isStale({ ...summary({ status: 'running', host: hostname() }), pid: process.pid }, 0, now), false, 'alive');
  assert.equal(isStale({ ...summary({ status: 'completed', host: hostname() }), pid: gone }, 0, now), false, 'finished');
  assert.equal(isStale(summary({ status: 'running', host: 'elsewhere' }), now - 29 * 60_000, now), false);
  assert.equal(isStale(summary({ status: 'running', host: 'elsewhere' }), now - 31 * 60_000, now), true);
});

test('a live page of a long run: snapshots dropped from the thinned history, the whole tables again when the stride grows', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'lbt-thin-')), 'run');
  writeRun(dir, { status: 'running', steps: 2, report: false });
  append(dir, 'arch.jsonl', [snapshot(0, 0), snapshot(1, 0)]);
  const w = new RunWatch(new ServedRoots([dir]), dir, { maxSnapshots: 3, pollMs: 60_000 });
  const got: WatchEvent[] = [];
  const stop = w.subscribe((e) => got.push(e));
  try {
    const seqs = (rows: readonly { seq: number }[] | undefined) => [...new Set((rows ?? []).map((r) => r.seq))];
    const last = () => got.at(-1) as WatchEvent;
    assert.deepEqual(seqs((got[0] as Extract<WatchEvent, { type: 'init' }>).tables.arch), [0, 1]);
    append(dir, 'arch.jsonl', [snapshot(2, 0)]);
    w.check();
    const d2 = last();
    assert.ok(d2.type === 'delta');
    assert.deepEqual([seqs(d2.delta.arch), d2.delta.dropSeqs], [[2], undefined]);
    append(dir, 'arch.jsonl', [snapshot(3, 0), snapshot(4, 0), snapshot(5, 0)]);
    w.check();
    const init = last();
    assert.ok(init.type === 'init', 'seq 3 takes the stride to 2: the page gets the tables anew');
    assert.deepEqual(seqs(init.tables.arch), [0, 2, 4, 5]);
    append(dir, 'arch.jsonl', [snapshot(6, 0)]);
    w.check();
    const init2 = last();
    assert.ok(init2.type === 'init', 'seq 6 takes the stride to 4');
    assert.deepEqual(seqs(init2.tables.arch), [0, 4, 6]);
    append(dir, 'arch.jsonl', [snapshot(7, 0)]);
    w.check();
    const d7 = last();
    assert.ok(d7.type === 'delta');
    assert.deepEqual([seqs(d7.delta.arch), d7.delta.dropSeqs], [[7], [6]], '6 (off the stride) leaves the page, 7 arrives');
    append(dir, 'arch.jsonl', [snapshot(8, 0), snapshot(9, 0)]);
    w.check();
    const d9 = last();
    assert.ok(d9.type === 'delta');
    assert.deepEqual([seqs(d9.delta.arch), d9.delta.dropSeqs], [[8, 9], [7]], '8 on the stride, 9 the latest');
    append(dir, 'arch.jsonl', [snapshot(10, 0), snapshot(11, 0)]);
    w.check();
    const d11 = last();
    assert.ok(d11.type === 'delta');
    assert.deepEqual([seqs(d11.delta.arch), d11.delta.dropSeqs], [[11], [9]], '10 came and went within one read: never sent');
  } finally {
    stop();
  }
});
