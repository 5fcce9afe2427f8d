// Every tensor a search, retrain or experiment makes lives on the run's device (issue 12). The
// audit: the children run on device cpu with LBT_DEFAULT_DEVICE=cuda, so any tensor made without
// the run's device (a model, a mask, a random draw, optimizer state, a restored checkpoint) goes to
// the default device instead, which this CPU build cannot make, and the run fails. Where CUDA is
// usable the same tensor would meet CPU tensors in one op and fail there. Batches are host tensors by
// design (runs move them with batchToDevice), and say so.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
const env = { ...process.env, LBT_NUM_THREADS: '1', LBT_DEFAULT_DEVICE: 'cuda' };
const base = mkdtempSync(join(tmpdir(), 'lbt-device-audit-'));
after(() => rmSync(base, { recursive: true, force: true }));

const tiny = [
  '--scale',
  'smoke',
  '--set',
  'device=cpu',
  '--set',
  'dataset.name=fashion-mnist',
  '--set',
  'dataset.trainSize=16',
  '--set',
  'dataset.valSize=16',
  '--set',
  'dataset.unlabeledSize=16',
  '--set',
  'dataset.testSize=16',
  '--set',
  'batchSize=8',
  '--quiet',
  '--no-report',
];
const status = (dir: string): string => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status;
const contains = (file: string, text: string): boolean => existsSync(file) && readFileSync(file, 'utf8').includes(text);

/** Runs the CLI and sends SIGINT once `file` contains `text`; resolves with the exit code and stderr. */
function interruptWhen(args: string[], file: string, text: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b) => {
    stderr += String(b);
  });
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      if (contains(file, text)) {
        clearInterval(poll);
        child.kill('SIGINT');
      }
    }, 20);
    child.on('exit', (code) => {
      clearInterval(poll);
      resolve({ code, stderr });
    });
  });
}

function runCli(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr;
}

test('LBT-DARTS-2nd: a search interrupted and resumed, its retrain interrupted and resumed, all on the run device', async () => {
  const d = join(base, 'lbt');
  const retrain = 'retrain={"epochs": 40, "stepsPerEpoch": 1, "layers": 3, "channels": 8, "batchSize": 8}';
  const args = ['search', '--preset', 'lbt-rn18-darts2nd-cifar10', ...tiny, '--set', 'epochs=2', '--set', 'stepsPerEpoch=3'];
  const first = await interruptWhen(
    [...args, '--set', 'logEvery=1', '--set', retrain, '--out', d],
    join(d, 'metrics.jsonl'),
    '"step":2,',
  );
  assert.equal(first.code, 130, first.stderr);
  assert.equal(status(d), 'interrupted');
  const second = await interruptWhen(
    ['search', '--resume', d, '--quiet', '--no-report'],
    join(d, 'retrain', 'metrics.jsonl'),
    '"epoch":2,',
  );
  assert.equal(second.code, 130, second.stderr);
  assert.deepEqual([status(d), status(join(d, 'retrain'))], ['interrupted', 'interrupted']);
  runCli(['search', '--resume', d, '--quiet', '--no-report']);
  assert.deepEqual([status(d), status(join(d, 'retrain'))], ['completed', 'completed']);
});

test('P-DARTS stages and PC-DARTS partial channels, and an experiment, on the run device', () => {
  for (const preset of ['lbt-rn18-pdarts-cifar10', 'lbt-rn18-pcdarts-cifar10']) {
    const d = join(base, preset);
    runCli([
      'search',
      '--preset',
      preset,
      ...tiny,
      '--set',
      'epochs=1',
      '--set',
      'stepsPerEpoch=2',
      '--set',
      'retrain=null',
      '--out',
      d,
    ]);
    assert.equal(status(d), 'completed');
  }
  const e = join(base, 'experiment');
  const sets = ['--set', 'epochs=1', '--set', 'stepsPerEpoch=2', '--set', 'retrain={"epochs": 1, "stepsPerEpoch": 1}'];
  runCli([
    'experiment',
    '--preset',
    'darts1st-cifar10',
    '--seeds',
    '1',
    '--out',
    e,
    ...tiny.slice(0, -1),
    ...sets,
    '--no-charts',
  ]);
  assert.equal(status(join(e, 'seed-0')), 'completed');
});
