// `lbt train` and `lbt test` through the CLI: bad input exits 2 naming it, --help lists every config
// key with its default, and a smoke run's result is what `lbt test` measures again.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FASHION_MNIST_DIR } from '../../src/data/idx.js';
import { UserError } from '../../src/cli/errors.js';
import { resolveGenotype } from '../../src/cli/commands/train.js';
import { asUserError } from '../../src/cli/errors.js';
import { TrainConfig } from '../../src/config/schema.js';
import { loadTrainData, resumeTrainRun, testRun } from '../../src/retrain/run.js';
import { RunDirError } from '../../src/runs/errors.js';
import { describeOptions } from '../../src/config/help.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'lbt-train-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function lbt(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, LBT_NUM_THREADS: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('lbt train / lbt test', () => {
  test('an unknown genotype name exits 2 naming it', () => {
    const r = lbt('train', '--genotype', 'NOPE');
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /^lbt: unknown genotype 'NOPE': not a built-in name \(DARTS_V1, DARTS_V2/);
  });

  test('a bad genotype file exits 2 naming the file and the field', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ format: 'lbt-genotype', version: 1, normal: [['sep_conv_9x9', 0]], reduce: [] }));
    assert.throws(
      () => resolveGenotype(file),
      (e: unknown) => e instanceof UserError && e.exitCode === 2 && e.message.startsWith(`${file}: invalid genotype: normal`),
    );
    assert.throws(() => resolveGenotype(dir), /a directory without genotype.json/);
  });

  test('a missing data directory is a UserError with the data layer message', async () => {
    const cfg = TrainConfig.parse({ dataset: { name: 'cifar10', dir: join(dir, 'nowhere') } });
    await assert.rejects(loadTrainData(cfg), (e: unknown) => {
      const u = asUserError(e);
      return u instanceof UserError && /CIFAR-10 data directory .*nowhere not found/.test(u.message);
    });
  });

  test('--help lists every config key with its default', () => {
    const r = lbt('train', '--help');
    assert.equal(r.code, 0, r.err);
    for (const flag of ['--genotype', '--config', '--preset', '--scale', '--set', '--out', '--force', '--resume', '--quiet'])
      assert.ok(r.out.includes(flag), flag);
    const keys = r.out.slice(r.out.indexOf('Config keys'));
    for (const d of describeOptions(TrainConfig)) {
      const line = keys.split('\n').find((l) => l.trim().startsWith(`${d.key} `));
      assert.ok(line, `--help lists ${d.key}`);
      if (d.default !== undefined)
        assert.ok(line.includes(JSON.stringify(d.default)), `${d.key} shows ${JSON.stringify(d.default)}`);
    }
    assert.match(r.out, /layers +20 \(imagenet: 14\)/);
  });

  test('a smoke run on Fashion-MNIST prints test error and parameters; lbt test measures the same', {
    skip: !existsSync(FASHION_MNIST_DIR),
  }, () => {
    const out = join(dir, 'smoke');
    const r = lbt(
      'train',
      '--genotype',
      'PDARTS',
      '--scale',
      'smoke',
      '--set',
      'dataset.name=fashion-mnist',
      '--out',
      out,
      '--quiet',
    );
    assert.equal(r.code, 0, r.err);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    assert.equal(result.testExamples, 16);
    const lines = r.out.trim().split('\n');
    assert.equal(
      lines[0],
      `test error: ${result.testError.toFixed(2)}% (accuracy ${(100 - result.testError).toFixed(2)}%) on 16 test images`,
    );
    assert.match(
      lines[1]!,
      new RegExp(
        `^parameters: ${result.paramsM.toFixed(2)}M \\(${Math.round(result.paramsM * 1e6).toLocaleString('en-US')}, without`,
      ),
    );
    const again = lbt('test', '--run', out);
    assert.equal(again.code, 0, again.err);
    assert.ok(again.out.startsWith(`test error: ${result.testError.toFixed(2)}% (accuracy`), again.out);
  });

  test('a completed run is not resumed; lbt test wants a train run directory', {
    skip: !existsSync(FASHION_MNIST_DIR),
  }, async () => {
    await assert.rejects(
      resumeTrainRun(join(dir, 'smoke')),
      (e: unknown) => e instanceof RunDirError && /has completed/.test(e.message),
    );
    await assert.rejects(
      testRun(join(dir, 'nothing-here')),
      (e: unknown) => e instanceof RunDirError && /nothing-here: not a run directory/.test(e.message),
    );
  });
});
