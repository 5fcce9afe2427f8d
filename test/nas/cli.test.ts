import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'lbt-nas-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function lbt(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, LBT_NUM_THREADS: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr, last: r.stdout.trim().split('\n').at(-1) };
}

describe('lbt params', () => {
  test('the last line is the bare count', () => {
    assert.equal(lbt('params', '--genotype', 'DARTS_V2', '--dataset', 'cifar10').last, '3349342');
    assert.equal(lbt('params', '--genotype', 'DARTS', '--auxiliary').last, '3825768');
    assert.equal(lbt('params', '--genotype', 'PDARTS', '--dataset', 'imagenet').last, '4944352');
    assert.equal(lbt('params', '--supernet', 'darts').last, '1930618');
    assert.equal(lbt('params', '--supernet', 'pc-darts', '--classes', '100').last, '322708');
    assert.equal(lbt('params', '--student', 'resnet18').last, '11173962');
  });

  test('a genotype file works like its name; bad input exits 2 with a message', () => {
    const file = join(dir, 'pc.json');
    const g = lbt('genotype', 'derive', '--space', 'darts', '--alphas', writeAlphas('zeros.json', 0));
    assert.equal(g.code, 0, g.err);
    writeFileSync(file, g.out);
    assert.equal(lbt('params', '--genotype', file, '--channels', '16', '--layers', '8').code, 0);
    const bad = lbt('params', '--genotype', 'NO_SUCH_GENOTYPE');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /NO_SUCH_GENOTYPE/);
    const both = lbt('params', '--supernet', 'darts', '--student', 'resnet18');
    assert.equal(both.code, 2);
    assert.match(both.err, /exactly one of/);
  });
});

function writeAlphas(name: string, value: number, extra: Record<string, unknown> = {}): string {
  const rows = Array.from({ length: 14 }, () => new Array(8).fill(value));
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ normal: rows, reduce: rows, ...extra }));
  return file;
}

describe('lbt genotype', () => {
  test('derive prints genotype JSON; a malformed alphas file names the field', () => {
    const r = lbt('genotype', 'derive', '--space', 'darts', '--alphas', writeAlphas('uniform.json', 0.5));
    assert.equal(r.code, 0, r.err);
    const g = JSON.parse(r.out);
    assert.equal(g.format, 'lbt-genotype');
    assert.deepEqual(g.normal[0], ['max_pool_3x3', 0]);
    const pc = lbt('genotype', 'derive', '--space', 'pc-darts', '--alphas', writeAlphas('nobetas.json', 0));
    assert.equal(pc.code, 2);
    assert.match(pc.err, /betasNormal/);
    const file = join(dir, 'short.json');
    writeFileSync(file, JSON.stringify({ normal: [[0]], reduce: [] }));
    const short = lbt('genotype', 'derive', '--space', 'p-darts', '--alphas', file);
    assert.equal(short.code, 2);
    assert.match(short.err, /normal: must hold 14 rows/);
  });

  test('draw writes an SVG of both cells', () => {
    const out = join(dir, 'cell.svg');
    const r = lbt('genotype', 'draw', 'PC_DARTS_cifar', '--out', out);
    assert.equal(r.code, 0, r.err);
    const svg = readFileSync(out, 'utf8');
    assert.match(svg, /<svg/);
    assert.match(svg, /reduction cell/);
    assert.equal((svg.match(/sep_conv_5x5/g) ?? []).length, 4);
  });
});
