// The evaluation phase on a tiny network (3 cells, C=8) and synthetic 16x16 data: schedules, loss
// going down, tensor lifetimes, bit-identical resume, NaN stops.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { splitData } from '../../src/data/load.js';
import { syntheticDataset } from '../../src/data/synthetic.js';
import { GENOTYPES } from '../../src/nas/genotype.js';
import * as t from '../../src/torch/index.js';
import { loadCheckpoint, ungroup } from '../../src/runs/checkpoint.js';
import { RetrainSection, TrainConfig } from '../../src/config/schema.js';
import { loadSearchConfig } from '../../src/config/load.js';
import { retrainAfterSearch } from '../../src/search/after.js';
import { resolveTrainConfig } from '../../src/config/load.js';
import type { Progress } from '../../src/runs/progress.js';
import { type RetrainOptions, retrain } from '../../src/retrain/loop.js';
import { retrainDropPath, retrainLr } from '../../src/retrain/schedule.js';
import { RunInterrupted } from '../../src/runs/errors.js';
import { RunDir, readMetrics, readRun } from '../../src/runs/run-dir.js';
import type { EpochRecord, MetricsRecord } from '../../src/runs/types.js';

const root = mkdtempSync(join(tmpdir(), 'lbt-retrain-'));
after(() => rmSync(root, { recursive: true, force: true }));
let runs = 0;
const newDir = () => join(root, `run-${runs++}`);

const data = splitData(
  syntheticDataset({ n: 160, nTest: 64, height: 16, width: 16, channels: 1, numClasses: 4, seed: 3 }),
  null,
  { trainSize: 48, valSize: 48, unlabeledSize: 0, testSize: 64 },
  { seed: 0, purpose: 'search' },
);

const tiny = (over: Partial<TrainConfig> = {}): TrainConfig => ({
  ...TrainConfig.parse({}),
  layers: 3,
  channels: 8,
  epochs: 3,
  batchSize: 16,
  stepsPerEpoch: 3,
  cutout: false,
  seed: 1,
  logEvery: 2,
  ...over,
});

function start(config: TrainConfig, extra: Partial<RetrainOptions> = {}) {
  const dir = newDir();
  const run = RunDir.create(dir, { kind: 'train', config });
  return { dir, promise: retrain({ config, genotype: GENOTYPES.DARTS_V2, data, run, ...extra }) };
}

/** The model tensors of a run's last checkpoint as bytes, by name. */
function finalWeights(dir: string): Map<string, Uint8Array> {
  const ck = loadCheckpoint(join(dir, 'checkpoint.safetensors'));
  const out = new Map<string, Uint8Array>();
  for (const [k, x] of ungroup('model', ck.tensors)) {
    const d = x.data();
    out.set(k, new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength)));
  }
  for (const x of ck.tensors.values()) x.dispose();
  for (const s of Object.values(ck.optimizers)) for (const x of s.tensors.values()) x.dispose();
  return out;
}

/** Records without wall-clock fields. */
const timeless = (rs: MetricsRecord[]) =>
  rs
    .filter((r) => r.kind !== 'event')
    .map((r) => {
      const { time: _t, ...rest } = r as EpochRecord;
      delete (rest as Partial<EpochRecord>).seconds;
      delete (rest as Partial<EpochRecord>).dataSeconds;
      return rest;
    });

describe('schedules (DARTS train.py: epoch e uses cosine(e); drop-path p·e/epochs)', () => {
  test('cosine over 600 epochs from 0.025 to 0', () => {
    const c = RetrainSection.parse({});
    assert.equal(retrainLr(c, 0), 0.025);
    assert.ok(Math.abs(retrainLr(c, 300) - 0.0125) < 1e-15);
    assert.ok(Math.abs(retrainLr(c, 599) - 0.0125 * (1 + Math.cos((Math.PI * 599) / 600))) < 1e-18);
    assert.ok(Math.abs(retrainLr(c, 599) - 1.71347e-7) < 1e-12); // 0.0125·(1 − cos(π/600))
  });

  test('step: lr·γ^e; linear with 5 warm-up epochs (PC-DARTS ImageNet: lr 0.5, 250 epochs)', () => {
    const s = RetrainSection.parse({ schedule: 'step', lr: 0.1, lrGamma: 0.97 });
    assert.ok(Math.abs(retrainLr(s, 3) - 0.1 * 0.97 ** 3) < 1e-15);
    const im = resolveTrainConfig([{ source: 'test', values: { dataset: { name: 'imagenet' } } }]);
    assert.equal(im.schedule, 'linear');
    const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
    near(retrainLr(im, 0), (0.5 * 1) / 5); // warm-up: (e+1)/5 of lr·245/245
    near(retrainLr(im, 4), (0.5 * 241) / 245);
    near(retrainLr(im, 5), (0.5 * 240) / 245);
    near(retrainLr(im, 244), 0.5 / 245);
    near(retrainLr(im, 245), (0.5 * 5) / (245 * 5)); // the last 5 epochs: a smaller slope
    near(retrainLr(im, 249), 0.5 / (245 * 5));
  });

  test('drop-path 0.2 ramps from 0 at epoch 0', () => {
    const c = RetrainSection.parse({});
    assert.equal(retrainDropPath(c, 0), 0);
    assert.equal(retrainDropPath(c, 300), 0.1);
    assert.equal(retrainDropPath(c, 599), (0.2 * 599) / 600);
  });
});

describe('retrain', () => {
  test('loss goes down, the lr follows the schedule, tensors do not leak, result written', async () => {
    const before = t.liveTensors();
    const live: number[] = [];
    const cfg = tiny({ epochs: 4, stepsPerEpoch: 6, lr: 0.05, dropPath: 0.2 });
    const { dir, promise } = start(cfg, { onEpoch: () => live.push(t.liveTensors()) });
    const r = await promise;
    assert.equal(t.liveTensors(), before, 'model, optimizer and batches all disposed');
    assert.equal(new Set(live).size, 1, `live tensors after each epoch: ${live}`);
    const m = readMetrics(join(dir, 'metrics.jsonl'));
    const epochs = m.filter((x): x is EpochRecord => x.kind === 'epoch');
    assert.deepEqual(
      epochs.map((e) => e.lr),
      [0, 1, 2, 3].map((e) => retrainLr(cfg, e)),
    );
    const loss = epochs.map((e) => e.teacher.train!.loss);
    assert.ok(loss[3]! < 0.75 * loss[0]!, `train loss ${loss}`);
    assert.equal(m.filter((x) => x.kind === 'step').length, 12, 'a step record every 2 of 24 steps');
    const run = readRun(dir);
    assert.equal(run.summary.status, 'completed');
    assert.deepEqual(run.result, {
      testError: r.testError,
      paramsM: r.params / 1e6,
      testExamples: 64,
      epochs: 4,
      genotype: run.result!.genotype,
    });
    assert.ok(r.testError < 50, `test error ${r.testError}% on 4 classes (chance 75%)`);
    assert.equal(r.testAcc, 100 - r.testError);
  });

  test('interrupted after epoch 1 (or mid-epoch) and resumed: bit-identical weights and records', async () => {
    const cfg = tiny({ checkpointEvery: 2, dropPath: 0.2 });
    const a = start(cfg);
    const ra = await a.promise;

    for (const abortAt of ['epoch', 'step'] as const) {
      const ac = new AbortController();
      const progress = (): Progress => ({
        step: (done) => {
          if (abortAt === 'step' && done === 4) ac.abort();
        },
        epoch: () => {},
        message: () => {},
        stop: () => {},
      });
      const onEpoch = (rec: EpochRecord) => {
        if (abortAt === 'epoch' && rec.epoch === 0) ac.abort();
      };
      const b = start(cfg, { signal: ac.signal, progress, onEpoch });
      await assert.rejects(b.promise, (e: unknown) => e instanceof RunInterrupted && e.step === (abortAt === 'epoch' ? 3 : 4));
      assert.equal(readRun(b.dir).summary.status, 'interrupted');
      const ck = loadCheckpoint(join(b.dir, 'checkpoint.safetensors'));
      assert.deepEqual([ck.meta.epoch, ck.meta.stepInEpoch], abortAt === 'epoch' ? [1, 0] : [1, 1]);
      const rb = await retrain({
        config: cfg,
        genotype: GENOTYPES.DARTS_V2,
        data,
        run: RunDir.resume(b.dir, { step: ck.meta.step }),
        resume: ck,
      });
      assert.equal(rb.testError, ra.testError);
      const wa = finalWeights(a.dir);
      const wb = finalWeights(b.dir);
      assert.deepEqual([...wb.keys()], [...wa.keys()]);
      for (const [k, v] of wa)
        assert.ok(Buffer.from(v).equals(Buffer.from(wb.get(k)!)), `${k} differs after resume (${abortAt})`);
      assert.deepEqual(timeless(readMetrics(join(b.dir, 'metrics.jsonl'))), timeless(readMetrics(join(a.dir, 'metrics.jsonl'))));
      const run = readRun(b.dir);
      assert.equal(run.summary.status, 'completed');
      assert.equal(run.summary.sessions, 2);
    }
  });

  test('a NaN or infinite loss stops the run with a message and keeps the last good checkpoint', async () => {
    // lr·γ^e with γ = 1e30 and no clipping: finite in epoch 1, blows up in epoch 2
    const cfg = tiny({ schedule: 'step', lrGamma: 1e30, gradClip: 0, epochs: 3 });
    const before = t.liveTensors();
    const { dir, promise } = start(cfg);
    await assert.rejects(promise, (e: unknown) => {
      assert.ok(e instanceof t.NonFiniteError);
      assert.match(
        e.message,
        /^non-finite value: (loss is (NaN|infinite)|gradient norm is not finite) at epoch 2 step \d+ \(lr 2\.50e\+28\); stopped, /,
      );
      assert.match(e.message, /the last good checkpoint is .*checkpoint\.safetensors \(step 3\)$/);
      assert.equal(e.checkpoint, join(dir, 'checkpoint.safetensors'));
      return true;
    });
    assert.equal(t.liveTensors(), before);
    const ck = loadCheckpoint(join(dir, 'checkpoint.safetensors'));
    assert.deepEqual([ck.meta.epoch, ck.meta.step], [1, 3]);
    for (const [k, x] of ck.tensors) {
      if (x.dtype === 'float32') assert.ok(x.toArray().every(Number.isFinite), `${k} is finite`);
      x.dispose();
    }
    for (const s of Object.values(ck.optimizers)) for (const x of s.tensors.values()) x.dispose();
    const run = readRun(dir);
    assert.equal(run.summary.status, 'failed');
    assert.match(run.summary.error ?? '', /at epoch 2/);
    const last = run.metrics.at(-1);
    assert.equal(last?.kind === 'event' && last.event, 'nan');
    assert.equal(run.result, null);
    assert.ok(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).error.includes('checkpoint'));
  });

  test('retrainAfterSearch: a train run in SEARCH/retrain pointing back, result also in the search run', async () => {
    const searchDir = newDir();
    const search = loadSearchConfig({
      scale: 'smoke',
      sets: [
        'dataset.name=fashion-mnist',
        'retrain={"epochs": 2, "stepsPerEpoch": 2, "layers": 3, "channels": 8, "batchSize": 16}',
      ],
    });
    RunDir.create(searchDir, { kind: 'search', config: search }).close();
    const r = await retrainAfterSearch({ search, genotype: GENOTYPES.PDARTS, searchDir });
    const sub = readRun(join(searchDir, 'retrain'));
    assert.equal(sub.summary.kind, 'train');
    assert.equal(sub.summary.status, 'completed');
    assert.equal(sub.summary.searchRun, '..');
    const cfg = TrainConfig.parse(sub.config);
    assert.deepEqual(
      [cfg.epochs, cfg.layers, cfg.seed, cfg.dataset.name, cfg.auxiliary],
      [2, 3, search.seed, 'fashion-mnist', true],
    );
    assert.equal(sub.result?.testError, r.testError);
    assert.deepEqual(readRun(searchDir).result, sub.result);
    assert.equal(r.epochs, 2);
    // resumed after it completed (lbt search --resume of a search stopped after its retrain): the result stands
    const again = await retrainAfterSearch({ search, genotype: GENOTYPES.PDARTS, resume: true, searchDir });
    assert.deepEqual([again.testError, again.testAcc, again.params], [r.testError, r.testAcc, r.params]);
    assert.equal(readRun(join(searchDir, 'retrain')).summary.sessions, 1, 'not trained again');
  });
});
