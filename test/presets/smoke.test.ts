// CI smoke: the CIFAR presets of Tables 2-3 at `--scale smoke` through `lbt experiment`'s library call (one
// seed, one search step per epoch, a retrain of one step), on tiny CIFAR-10/100 binaries and ImageNet
// folders, so that no preset rots (the other presets: smoke-ablations.test.ts and smoke-imagenet.test.ts). Then what the P-DARTS and PC-DARTS runs left behind: the ops kept per
// stage, the skip dropout per stage, the betas in checkpoint and snapshots; and resume/skip.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseGenotype } from '../../src/nas/genotype.js';
import { dropOps, type EdgeOps } from '../../src/nas/p-darts.js';
import { loadCheckpoint } from '../../src/runs/checkpoint.js';
import { ExperimentError, runExperiment } from '../../src/experiment/experiment.js';
import { loadSearchConfig } from '../../src/config/load.js';
import { listPresets } from '../../src/config/presets.js';
import { readRun } from '../../src/runs/run-dir.js';
import type { ArchSnapshot, RunSummary } from '../../src/runs/types.js';
import { isAblationPreset, isImageNetPreset, runPresetSmoke, type SmokeData, smokeSets, writeSmokeData } from './fixtures.js';

let data: SmokeData;
const runs = new Map<string, string>();
const json = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;
const snapshots = (dir: string): ArchSnapshot[] => readRun(dir).snapshots;

before(() => {
  data = writeSmokeData();
});
after(() => data.cleanup());

describe('every CIFAR preset of Tables 2-3 runs at smoke scale (others: smoke-ablations, smoke-imagenet)', () => {
  for (const p of listPresets().filter((p) => !isAblationPreset(p.name) && !isImageNetPreset(p.name))) {
    test(p.name, async () => {
      runs.set(p.name, await runPresetSmoke(p.name, data));
    });
  }
});

describe('P-DARTS through the search loop', () => {
  test('stages: 8 -> 5 -> 3 ops per edge, kept by the stage-end architecture weights', () => {
    const dir = runs.get('lbt-rn18-pdarts-cifar10');
    assert.ok(dir, 'the smoke run exists');
    const snaps = snapshots(dir);
    assert.deepEqual(
      snaps.map((s) => s.stage),
      [0, 1, 2],
    );
    const widths = snaps.map((s) => s.edgeOps!.normal[0]!.length);
    assert.deepEqual(widths, [8, 5, 3]);
    for (const k of [0, 1] as const) {
      const [now, next] = [snaps[k]!, snaps[k + 1]!];
      for (const cell of ['normal', 'reduce'] as const) {
        const kept = dropOps(now.weights[cell], now.edgeOps![cell] as EdgeOps, now.edgeOps![cell][0]!.length - [5, 3][k]!, false);
        assert.deepEqual(next.edgeOps![cell], kept, `stage ${k + 1} ${cell} ops`);
      }
    }
    const normalSkips = parseGenotype(json(join(dir, 'genotype.json'))).normal.filter(([op]) => op === 'skip_connect').length;
    assert.ok(normalSkips <= 2, `at most M = 2 skip-connects in the normal cell, got ${normalSkips}`);
    const stageEvents = readRun(dir).metrics.filter((r) => r.kind === 'event' && r.event === 'stage');
    assert.equal(stageEvents.length, 2);
  });

  test('the CIFAR-100 presets drop skip-connects at 0.1 / 0.2 / 0.3, CIFAR-10 at 0 / 0.4 / 0.7', () => {
    for (const n of ['lbt-rn18-pdarts-cifar100', 'lbt-rn50-pdarts-cifar100', 'pdarts-cifar100'])
      assert.deepEqual(loadSearchConfig({ preset: n }).pdarts.dropout, [0.1, 0.2, 0.3], n);
    for (const n of ['lbt-rn18-pdarts-cifar10', 'lbt-rn50-pdarts-cifar10', 'pdarts-cifar10'])
      assert.deepEqual(loadSearchConfig({ preset: n }).pdarts.dropout, [0, 0.4, 0.7], n);
  });
});

describe('PC-DARTS through the search loop', () => {
  for (const name of ['lbt-rn18-pcdarts-cifar10']) {
    test(`${name}: betas in the checkpoint and in the genotype snapshot`, () => {
      const dir = runs.get(name);
      assert.ok(dir, 'the smoke run exists');
      const ck = loadCheckpoint(join(dir, 'checkpoint.safetensors'));
      try {
        for (const cell of ['Normal', 'Reduce']) {
          const key = [...ck.tensors.keys()].find((k) => k.endsWith(`betas${cell}`));
          assert.ok(key, `betas${cell} in the checkpoint`);
          assert.deepEqual(ck.tensors.get(key)!.shape, [14]);
        }
      } finally {
        for (const x of ck.tensors.values()) x.dispose();
        for (const s of Object.values(ck.optimizers)) for (const x of s.tensors.values()) x.dispose();
      }
      const snap = snapshots(dir).at(-1)!;
      for (const cell of ['normal', 'reduce'] as const) {
        const b = snap.betas![cell];
        assert.equal(b.length, 14);
        // softmax over each node's incoming edges: 2, 3, 4, 5 edges, each group sums to 1
        let at = 0;
        for (const n of [2, 3, 4, 5]) {
          const sum = b.slice(at, at + n).reduce((x, y) => x + y, 0);
          assert.ok(Math.abs(sum - 1) < 1e-5, `node group of ${n} sums to ${sum}`);
          at += n;
        }
      }
    });
  }
});

describe('lbt experiment: resumable as a whole', () => {
  test('a finished experiment is skipped, a lost retrain is redone, an interrupted search or retrain resumes; other sources are refused', async () => {
    const dir = join(data.cifar, '..', 'exp-resume');
    const sets = smokeSets('cifar10', data);
    const base = { dir, preset: 'darts1st-cifar10', scale: 'smoke', sets, retrain: true };
    const seen: string[] = [];
    const onPhase = (s: number, ph: string, how: string) => seen.push(`${s}:${ph}:${how}`);
    const first = await runExperiment({ ...base, seeds: [0, 1], onPhase });
    assert.deepEqual(seen.splice(0), ['0:search:start', '0:retrain:start', '1:search:start', '1:retrain:start']);
    assert.match(first.markdown ?? '', /\| DARTS-1st \| [\d.]+±[\d.]+ \|/, 'one row, mean±std over the two seeds');
    assert.ok(existsSync(join(dir, 'report.html')));

    // seed 1: retrain lost, search marked interrupted after its last checkpoint
    rmSync(join(dir, 'seed-1', 'retrain'), { recursive: true });
    const s1 = join(dir, 'seed-1', 'run.json');
    writeFileSync(s1, JSON.stringify({ ...json<RunSummary>(s1), status: 'interrupted' }));
    const again = await runExperiment({ ...base, seeds: [0, 1, 2], onPhase, report: false });
    assert.deepEqual(seen.splice(0), [
      '0:search:skip',
      '0:retrain:skip',
      '1:search:resume',
      '1:retrain:start',
      '2:search:start',
      '2:retrain:start',
    ]);
    assert.deepEqual(again.seeds[0]!.result, first.seeds[0]!.result);
    assert.equal(json<RunSummary>(s1).sessions, 2);
    assert.deepEqual(
      readdirSync(dir)
        .filter((f) => f.startsWith('seed-'))
        .sort(),
      ['seed-0', 'seed-1', 'seed-2'],
    );

    // seed 2: a retrain interrupted after its checkpoint continues from it (same result)
    const r2 = join(dir, 'seed-2', 'retrain', 'run.json');
    writeFileSync(r2, JSON.stringify({ ...json<RunSummary>(r2), status: 'interrupted' }));
    rmSync(join(dir, 'seed-2', 'retrain', 'result.json'));
    const third = await runExperiment({ ...base, seeds: [2], onPhase, report: false });
    assert.deepEqual(seen.splice(0), ['2:search:skip', '2:retrain:resume']);
    assert.deepEqual(third.seeds[0]!.result, again.seeds[2]!.result);
    assert.equal(json<RunSummary>(r2).status, 'completed');

    await assert.rejects(runExperiment({ ...base, seeds: [0], sets: [...sets, 'lambda=2'] }), ExperimentError);
    await assert.rejects(runExperiment({ ...base, seeds: [0], sets: [...sets, 'seed=3'] }), /--seeds or --seed-list/);
    await assert.rejects(runExperiment({ ...base, dir: data.imagenet, seeds: [0] }), /not an experiment directory/);
  });
});
