// Logged numbers against hand-derived values; progress output in line mode and quiet mode.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import {
  Ema,
  RunningMean,
  allFinite,
  alphaEntropy,
  countSkipConnects,
  entropy,
  meanStd,
  softmaxRows,
} from '../../src/runs/metrics.js';
import { createProgress, formatDuration, formatEpochLine } from '../../src/runs/progress.js';
import type { EpochRecord } from '../../src/runs/types.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('alpha entropy: uniform over 8 ops is log 8, one-hot is 0, the mean over edges', () => {
  close(alphaEntropy([[0, 0, 0, 0, 0, 0, 0, 0]]), Math.log(8));
  close(
    alphaEntropy(
      [
        [1, 0, 0],
        [0.5, 0.5, 0],
      ],
      { probabilities: true },
    ),
    Math.log(2) / 2,
  );
  // softmax([0, ln 3]) = [1/4, 3/4]: H = -(1/4 ln 1/4 + 3/4 ln 3/4)
  close(alphaEntropy([[0, Math.log(3)]]), -(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75)));
  close(entropy([0, 1]), 0);
  assert.deepEqual(softmaxRows([[1000, 1000]]), [[0.5, 0.5]], 'stable for large logits');
  assert.equal(alphaEntropy([]), 0);
});

test('skip-connects are counted in the normal cell (DARTS_V2: 2; DARTS_V1: 3)', () => {
  const v2 = {
    normal: [
      ['sep_conv_3x3', 0],
      ['sep_conv_3x3', 1],
      ['sep_conv_3x3', 0],
      ['sep_conv_3x3', 1],
      ['sep_conv_3x3', 1],
      ['skip_connect', 0],
      ['skip_connect', 0],
      ['dil_conv_3x3', 2],
    ],
    reduce: [
      ['max_pool_3x3', 0],
      ['max_pool_3x3', 1],
      ['skip_connect', 2],
      ['max_pool_3x3', 1],
      ['max_pool_3x3', 0],
      ['skip_connect', 2],
      ['skip_connect', 2],
      ['max_pool_3x3', 1],
    ],
  } as const;
  assert.equal(countSkipConnects(v2), 2);
  assert.equal(countSkipConnects(v2, 'reduce'), 3);
  const v1 = {
    normal: [
      ['sep_conv_3x3', 1],
      ['sep_conv_3x3', 0],
      ['skip_connect', 0],
      ['sep_conv_3x3', 1],
      ['skip_connect', 0],
      ['sep_conv_3x3', 1],
      ['sep_conv_3x3', 0],
      ['skip_connect', 2],
    ],
    reduce: [],
  } as const;
  assert.equal(countSkipConnects(v1), 3);
});

test('running mean weights by batch size (391 steps, last batch 40: the reference epoch)', () => {
  const m = new RunningMean();
  assert.ok(Number.isNaN(m.mean));
  for (let i = 0; i < 390; i++) m.update(1, 64);
  m.update(2, 40);
  close(m.mean, (390 * 64 + 2 * 40) / (390 * 64 + 40));
  assert.equal(m.count, 25000);
  m.reset();
  m.update(3);
  assert.equal(m.mean, 3);
  const e = new Ema(0.5);
  assert.equal(e.update(4), 4, 'bias-corrected: the first value is itself');
  close(e.update(2), (0.25 * 4 + 0.5 * 2) / 0.75);
});

test('mean and sample std; finiteness check', () => {
  const { mean, std, n } = meanStd([2.5, 2.7, 2.9]);
  close(mean, 2.7, 1e-12);
  close(std, 0.2, 1e-12);
  assert.equal(n, 3);
  assert.deepEqual(meanStd([4]), { mean: 4, std: 0, n: 1 });
  assert.ok(allFinite(1, 2));
  assert.ok(!allFinite(1, Number.NaN));
  assert.ok(!allFinite(Number.POSITIVE_INFINITY));
});

const rec: EpochRecord = {
  kind: 'epoch',
  epoch: 2,
  step: 300,
  lr: 0.0249763207,
  teacher: { train: { loss: 0.51234, acc: 0.812 }, val: { loss: 0.6, acc: 0.78 } },
  student: { train: { loss: 0.4, acc: 0.9 } },
  agreement: 0.851,
  alphaEntropy: { normal: 2.0794, reduce: 2.07 },
  skipConnects: 2,
  seconds: 12.34,
  dataSeconds: 1.234,
  time: 40,
};

test('one concise line per epoch', () => {
  assert.equal(
    formatEpochLine(rec, 50, 605),
    'epoch 3/50 | lr 0.0250 | teacher train 0.512/81.2% val 0.600/78.0% | student train 0.400/90.0% | agree 85.1% | H(α) 2.079/2.070 | skip 2 | 12.3s (data 10.0%) | ETA 10m05s',
  );
  assert.equal(formatDuration(3725), '1h02m');
  assert.equal(formatDuration(42.3), '42s');
  assert.match(formatEpochLine({ ...rec, stage: 0, student: undefined }, 25), /^epoch 3\/25 stage 1 \| lr 0\.0250 \| teacher/);
});

function sink(): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  let s = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      s += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => s };
}

test('non-terminal output: one line per epoch and messages, nothing per step; quiet prints nothing', () => {
  const a = sink();
  const p = createProgress({ totalSteps: 100, totalEpochs: 50, stream: a.stream });
  for (let s = 1; s <= 10; s++) p.step(s, { epoch: 2, loss: 1 });
  p.epoch(rec);
  p.message('stage 2: 11 cells');
  p.stop();
  const lines = a.text().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^epoch 3\/50 \| .* \| ETA \d+s$/);
  assert.equal(lines[1], 'stage 2: 11 cells');
  const q = sink();
  const quiet = createProgress({ totalSteps: 100, totalEpochs: 50, stream: q.stream, quiet: true });
  quiet.step(1, { epoch: 0 });
  quiet.epoch(rec);
  quiet.message('x');
  quiet.stop();
  assert.equal(q.text(), '');
});
