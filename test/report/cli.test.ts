// `lbt presets` and `lbt report` through the real command line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { listPresets } from '../../src/config/presets.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const lbt = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

test('lbt presets: one line per preset, name then description', () => {
  const r = lbt('presets');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => /^\S/.test(l) && !l.startsWith('scales'));
  assert.equal(lines.length, listPresets().length);
  assert.match(r.stdout, /^default\s+LBT\(RN18-reduced, DARTS-2nd\) on Fashion-MNIST/m);
  assert.match(r.stdout, /^scales \(--scale\): smoke$/m);
});

test('lbt report: writes report.md and report.html; a bad path exits 2 naming it', () => {
  const root = mkdtempSync(join(tmpdir(), 'lbt-cli-report-'));
  const run = join(root, 'run');
  mkdirSync(run);
  const summary = {
    format: 1,
    kind: 'search',
    status: 'completed',
    createdAt: '',
    updatedAt: '',
    wallSeconds: 5400,
    phaseSeconds: {},
    sessions: 1,
    device: 'cpu',
    gitRev: null,
    host: 'h',
    node: 'v20',
  };
  writeFileSync(join(run, 'run.json'), JSON.stringify(summary));
  writeFileSync(join(run, 'config.json'), JSON.stringify({ method: 'pc-darts', lbt: false, dataset: { name: 'cifar100' } }));
  writeFileSync(join(run, 'result.json'), JSON.stringify({ testError: 17.96, paramsM: 3.9, testExamples: 10000, epochs: 600 }));
  const out = join(root, 'out');
  const r = lbt('report', run, '--out', out, '--no-charts');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\| PC-DARTS \| 17\.96 \| 3\.90 \| 1\.50 \| 1 \|/);
  assert.ok(existsSync(join(out, 'report.html')));
  assert.equal(readFileSync(join(out, 'report.md'), 'utf8'), r.stdout);
  const bad = lbt('report', join(root, 'nope'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^lbt: .*nope: does not exist\n$/);
});
