// `lbt search` end to end at a tiny scale: SIGKILL mid-epoch and resume gives the same result as an
// uninterrupted run; a non-finite loss stops the run and keeps the last good checkpoint.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as t from '../../src/torch/index.js';
import { loadCheckpoint } from '../../src/runs/checkpoint.js';
import { readMetrics } from '../../src/runs/run-dir.js';
import { withoutClock } from '../runs/run-files.js';

const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
const env = { ...process.env, LBT_NUM_THREADS: '1' };
const tiny = [
  '--scale',
  'smoke',
  '--set',
  'epochs=2',
  '--set',
  'stepsPerEpoch=null',
  '--set',
  'batchSize=8',
  '--set',
  'checkpointEvery=2',
  '--set',
  'dataset.trainSize=32',
  '--set',
  'dataset.valSize=16',
  '--set',
  'dataset.unlabeledSize=16',
  '--set',
  'retrain=null',
  '--quiet',
  '--no-report',
];
const base = mkdtempSync(join(tmpdir(), 'lbt-search-'));

function archOf(dir: string): Map<string, number[]> {
  const c = loadCheckpoint(join(dir, 'checkpoint.safetensors'));
  const out = new Map<string, number[]>();
  for (const [k, v] of c.tensors) if (k.startsWith('arch/') || k.startsWith('teacher/')) out.set(k, v.toArray());
  t.disposeAll(c.tensors);
  return out;
}

test('SIGKILL mid-epoch, then --resume: architecture, weights and genotype equal an uninterrupted run', async () => {
  const a = join(base, 'a');
  const b = join(base, 'b');
  const r = spawnSync(process.execPath, [CLI, 'search', ...tiny, '--out', a], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const child = spawn(process.execPath, [CLI, 'search', ...tiny, '--set', 'logEvery=1', '--out', b], { env, stdio: 'ignore' });
  // kill after step 3 is logged: mid-epoch 0 (4 steps per epoch), one step past the step-2 checkpoint
  await new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      const m = existsSync(join(b, 'metrics.jsonl')) ? readFileSync(join(b, 'metrics.jsonl'), 'utf8') : '';
      if (m.includes('"step":3,')) {
        clearInterval(poll);
        child.kill('SIGKILL');
        resolve();
      }
    }, 20);
    child.on('exit', () => {
      clearInterval(poll);
      reject(new Error('the search ended before it could be killed'));
    });
  });
  await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(loadCheckpoint(join(b, 'checkpoint.safetensors')).meta.epoch, 0, 'killed mid-epoch 0');
  const resumed = spawnSync(process.execPath, [CLI, 'search', '--resume', b, '--quiet', '--no-report'], {
    env,
    encoding: 'utf8',
  });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(readFileSync(join(b, 'genotype.json'), 'utf8'), readFileSync(join(a, 'genotype.json'), 'utf8'));
  const [x, y] = [archOf(a), archOf(b)];
  assert.equal(x.size, y.size);
  for (const [k, v] of x) assert.deepEqual(y.get(k), v, `${k} differs after resume`);
  // issue 17 item 5: epoch 0's averages cover its 4 steps, not only the 2 after the resume
  const epochs = (dir: string) => withoutClock(readMetrics(join(dir, 'metrics.jsonl')).filter((m) => m.kind === 'epoch'));
  assert.deepEqual(epochs(b), epochs(a), 'the epoch records of the resumed run');
  const summary = JSON.parse(readFileSync(join(b, 'run.json'), 'utf8'));
  assert.equal(summary.status, 'completed');
  assert.equal(summary.sessions, 2);
});

test('a non-finite loss stops the search with a clear message and keeps the last good checkpoint', () => {
  const d = join(base, 'nan');
  const r = spawnSync(process.execPath, [CLI, 'search', ...tiny, '--set', 'weights.lr=1e30', '--out', d], {
    env,
    encoding: 'utf8',
  });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /non-finite value: .* at stage 0 epoch 0 step \d+; stopped, the last good checkpoint is .*checkpoint\.safetensors \(step \d+\)/,
  );
  assert.match(r.stderr, /resume with: lbt search --resume/);
  const c = loadCheckpoint(join(d, 'checkpoint.safetensors'));
  for (const [, v] of c.tensors) assert.ok(v.toArray().every(Number.isFinite), 'the kept checkpoint is finite');
  t.disposeAll(c.tensors);
  assert.equal(JSON.parse(readFileSync(join(d, 'run.json'), 'utf8')).status, 'failed');
});

test('an existing run directory is not overwritten without --force', () => {
  const d = join(base, 'a');
  const r = spawnSync(process.execPath, [CLI, 'search', ...tiny, '--out', d], { env, encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /exists and is not empty \(pass --force to replace it\)/);
});

test('a run directory without its splits.json is refused with the file named', () => {
  const d = join(base, 'a');
  const bad = join(base, 'no-splits');
  spawnSync('cp', ['-r', d, bad]);
  rmSync(join(bad, 'splits.json'));
  const r = spawnSync(process.execPath, [CLI, 'search', '--resume', bad, '--quiet'], { env, encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no-splits\/splits\.json: cannot read the run's splits: no such file or directory \(ENOENT\)/);
});

test('a corrupt checkpoint is refused with the file named', () => {
  const d = join(base, 'a');
  const bytes = readFileSync(join(d, 'checkpoint.safetensors'));
  const bad = join(base, 'bad');
  spawnSync('cp', ['-r', d, bad]);
  spawnSync('truncate', ['-s', String(Math.floor(bytes.length / 2)), join(bad, 'checkpoint.safetensors')]);
  const r = spawnSync(process.execPath, [CLI, 'search', '--resume', bad, '--quiet'], { env, encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /checkpoint .*bad\/checkpoint\.safetensors: /);
});

test('missing data (of the search, or of another data set for its retrain) is reported before anything is written', () => {
  const cases = [
    [['--set', 'dataset.name=cifar10', '--set', `dataset.dir=${join(base, 'none')}`], /CIFAR-10 data directory .*none not found/],
    [
      ['--set', 'retrain.dataset.name=imagenet', '--set', `retrain.dataset.dir=${join(base, 'no-imagenet')}`],
      /ImageNet directory .*no-imagenet not found\. Put the ImageNet training images as <dir>\/train\/<class>/,
    ],
  ] as const;
  for (const [sets, message] of cases) {
    const d = join(base, 'never');
    const r = spawnSync(process.execPath, [CLI, 'search', '--scale', 'smoke', ...sets, '--out', d, '--quiet'], {
      env,
      encoding: 'utf8',
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(existsSync(d), false, 'no run directory');
  }
});

test('Ctrl-C during the retrain after a search stops it with a checkpoint; --resume continues the retrain', async () => {
  const d = join(base, 'interrupted-retrain');
  const sets = ['--set', 'retrain={"epochs": 400, "stepsPerEpoch": 1, "layers": 3, "channels": 8, "batchSize": 8}'];
  const args = [CLI, 'search', '--scale', 'smoke', ...sets, '--quiet', '--no-report', '--out', d];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b) => {
    stderr += String(b);
  });
  const retrainMetrics = join(d, 'retrain', 'metrics.jsonl');
  const code = await new Promise<number | null>((resolve) => {
    const poll = setInterval(() => {
      if (existsSync(retrainMetrics) && readFileSync(retrainMetrics, 'utf8').includes('"epoch":3,')) {
        clearInterval(poll);
        child.kill('SIGINT');
      }
    }, 20);
    child.on('exit', (c) => {
      clearInterval(poll);
      resolve(c);
    });
  });
  assert.equal(code, 130, stderr);
  assert.match(stderr, /resume with: lbt search --resume /);
  const status = (dir: string) => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status;
  assert.deepEqual([status(d), status(join(d, 'retrain'))], ['interrupted', 'interrupted']);
  const resumed = spawnSync(process.execPath, [CLI, 'search', '--resume', d, '--quiet', '--no-report'], {
    env,
    encoding: 'utf8',
  });
  assert.equal(resumed.status, 0, resumed.stderr);
  const retrain = JSON.parse(readFileSync(join(d, 'retrain', 'run.json'), 'utf8'));
  assert.deepEqual([retrain.status, retrain.sessions], ['completed', 2], 'the retrain continued, not restarted');
  assert.equal(status(d), 'completed');
});
