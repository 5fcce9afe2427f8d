// Keys a config sets that the run never reads are named, one line each (lbt search warns).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSearchConfigNoting } from '../../src/config/load.js';
import { listPresets } from '../../src/config/presets.js';

const inert = (preset: string, sets: string[] = []) => loadSearchConfigNoting({ preset, sets }).inert;

test('no preset sets a key that its run does not use', () => {
  for (const p of listPresets()) assert.deepEqual(inert(p.name), [], p.name);
});

test('student, λ and γ without LBT; pcK outside PC-DARTS; P-DARTS stages and supernet.layers', () => {
  assert.deepEqual(inert('darts2nd-cifar10', ['lambda=0.5', 'student.width=2']), [
    'lambda (--set) has no effect without lbt: true',
    'student (--set) has no effect without lbt: true (there is no student)',
  ]);
  assert.deepEqual(inert('default', ['lambda=0.5', 'student.width=2']), [], 'used with lbt: true');
  assert.deepEqual(inert('default', ['supernet.pcK=2', 'pdarts.maxSkip=1']), [
    'supernet.pcK (--set) has no effect outside method: pc-darts',
    'pdarts (--set) has no effect outside method: p-darts',
  ]);
  assert.deepEqual(inert('default', ['method=pc-darts', 'supernet.pcK=2']), []);
  const [line, ...rest] = inert('default', ['method=p-darts']);
  assert.match(line ?? '', /^supernet\.layers \(.*default\.yaml\) has no effect with method: p-darts/);
  assert.deepEqual(rest, []);
});
