// Helpers for tests that compare whole run directories: every file's bytes (a refused command must
// leave a run as it was), or every file's content with wall-clock fields left out (a resumed run
// must equal an uninterrupted one).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { loadCheckpoint } from '../../src/runs/checkpoint.js';
import * as t from '../../src/torch/index.js';

/** Every file under dir (relative path → bytes as base64), directories as entries of their own. */
export function dirBytes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      const rel = relative(dir, p);
      if (statSync(p).isDirectory()) {
        out.set(`${rel}/`, '');
        walk(p);
      } else out.set(rel, readFileSync(p).toString('base64'));
    }
  };
  walk(dir);
  return out;
}

/** Asserts that a directory holds the same files with the same bytes as `before` (dirBytes). */
export function assertUnchanged(dir: string, before: Map<string, string>, what: string): void {
  const now = dirBytes(dir);
  assert.deepEqual([...now.keys()], [...before.keys()], `${what}: the files of ${dir} changed`);
  for (const [k, v] of before) assert.ok(now.get(k) === v, `${what}: ${k} changed`);
}

/** Wall-clock fields of records and run.json: they differ between any two runs. */
const CLOCK = new Set([
  'time',
  'seconds',
  'dataSeconds',
  'dataMs',
  'createdAt',
  'updatedAt',
  'finishedAt',
  'wallSeconds',
  'savedAt',
]);

/** `v` with every wall-clock field (CLOCK) left out, at any depth. */
export function withoutClock(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutClock);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k]) => !CLOCK.has(k))
      .map(([k, x]) => [k, withoutClock(x)]),
  );
}

function checkpointContent(path: string): unknown {
  const c = loadCheckpoint(path);
  const tensors = Object.fromEntries([...c.tensors].map(([k, x]) => [k, Buffer.from(x.data().buffer).toString('base64')]));
  const optimizers = Object.fromEntries(
    Object.entries(c.optimizers).map(([role, o]) => [
      role,
      { ...o, tensors: Object.fromEntries([...o.tensors].map(([k, x]) => [k, Buffer.from(x.data().buffer).toString('base64')])) },
    ]),
  );
  t.disposeAll(c.tensors);
  for (const o of Object.values(c.optimizers)) t.disposeAll(o.tensors);
  return { meta: c.meta, tensors, optimizers };
}

/** A TensorBoard event file: its name holds the run's start time and the host. */
const EVENT_FILE = /^events\.out\.tfevents\.\d+\./;

/**
 * The content of every file of a run as it should be equal between a resumed run and an
 * uninterrupted one: wall-clock fields, the session count and `resume` events left out; the run's
 * own path replaced by RUN; checkpoints by their tensors' bytes and metadata (savedAt left out).
 * TensorBoard event files are present under one name, their content not compared: it holds wall
 * times and a resumed session's start (test/search/watch-files.test.ts checks it against the records).
 */
export function runContent(dir: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const norm = (text: string) => text.split(dir).join('RUN');
  for (const rel of dirBytes(dir).keys()) {
    const p = join(dir, rel);
    if (rel.endsWith('/')) out.set(rel, null);
    else if (EVENT_FILE.test(rel)) out.set('events.out.tfevents.(start).(host)', null);
    else if (rel.endsWith('.safetensors')) out.set(rel, withoutClock(JSON.parse(norm(JSON.stringify(checkpointContent(p))))));
    else if (rel.endsWith('.jsonl')) {
      const records = norm(readFileSync(p, 'utf8'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { kind: string; event?: string })
        .filter((r) => !(r.kind === 'event' && r.event === 'resume'));
      out.set(rel, withoutClock(records));
    } else if (rel.endsWith('.json')) {
      const v = JSON.parse(norm(readFileSync(p, 'utf8'))) as Record<string, unknown>;
      if (rel === 'run.json') {
        delete v.sessions;
        delete v.pid; // the process writing it
        v.phaseSeconds = Object.keys(v.phaseSeconds as object);
      }
      out.set(rel, withoutClock(v));
    } else out.set(rel, norm(readFileSync(p, 'utf8')));
  }
  return out;
}

/** The first path (e.g. "meta.extra.epochTotals.dataMs") where two JSON values differ, with both values; null when equal. */
function firstDiff(a: unknown, b: unknown, path = ''): string | null {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d !== null) return d;
    }
    return null;
  }
  const show = (v: unknown) => String(JSON.stringify(v)).slice(0, 80);
  return a === b ? null : `${path || '(value)'}: ${show(a)} != ${show(b)}`;
}

/** Asserts that two runs hold the same files with equal content (runContent); names the first difference. */
export function assertSameRun(actual: string, expected: string): void {
  const [a, e] = [runContent(actual), runContent(expected)];
  assert.deepEqual([...a.keys()], [...e.keys()], 'the same files');
  for (const [k, v] of e) {
    const d = firstDiff(a.get(k), v);
    assert.equal(d, null, `${k} differs at ${d}`);
  }
}

/** The run.lock of pid 1 on another host (never assumed stale); `extra` overrides its fields. Returns what it wrote. */
export function writeForeignLock(dir: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const lock = {
    format: 'lbt-lock/1',
    pid: 1,
    host: `not-${hostname()}`,
    bootId: null,
    procStart: null,
    since: '2030-01-01T00:00:00Z',
    ...extra,
  };
  writeFileSync(join(dir, 'run.lock'), JSON.stringify(lock));
  return lock;
}
