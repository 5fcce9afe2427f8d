// CI smoke, ImageNet presets of Table 4 at `--scale smoke` on tiny class folders (images resized to
// 224 px, so these are the slow ones): the PC-DARTS ImageNet search (K = 2, ImageNet stem), and the
// cells searched on CIFAR-10/100 and retrained on ImageNet (retrain.dataset).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildReport } from '../../src/report/report.js';
import { loadCheckpoint } from '../../src/runs/checkpoint.js';
import { TrainConfig } from '../../src/config/schema.js';
import { loadSearchConfig } from '../../src/config/load.js';
import { listPresets } from '../../src/config/presets.js';
import { readRun } from '../../src/runs/run-dir.js';
import { isImageNetPreset, isTransferPreset, runPresetSmoke, type SmokeData, writeSmokeData } from './fixtures.js';

let data: SmokeData;
before(() => {
  data = writeSmokeData();
});
after(() => data.cleanup());

test('the ImageNet preset is the PC-DARTS ImageNet search (K=2, ImageNet stem, batch 1024, lr 0.5, warm-up 5)', () => {
  const c = loadSearchConfig({ preset: 'lbt-rn50-pcdarts-imagenet' });
  assert.deepEqual(
    [
      c.supernet.pcK,
      c.supernet.stem,
      c.batchSize,
      c.weights.lr,
      c.weights.warmupEpochs,
      c.arch.lr,
      c.archWarmupEpochs,
      c.arch.gradClip,
    ],
    [2, 'imagenet', 1024, 0.5, 5, 6e-3, 35, 5],
  );
  assert.deepEqual([c.retrain?.layers, c.retrain?.channels, c.retrain?.epochs, c.retrain?.schedule], [14, 48, 250, 'linear']);
});

const names = listPresets().map((p) => p.name);

for (const name of names.filter((n) => isImageNetPreset(n) && !isTransferPreset(n))) {
  test(`${name}: runs at smoke scale; betas in its checkpoint and snapshots`, async () => {
    const dir = await runPresetSmoke(name, data);
    const ck = loadCheckpoint(join(dir, 'checkpoint.safetensors'));
    try {
      for (const cell of ['Normal', 'Reduce']) {
        const key = [...ck.tensors.keys()].find((k) => k.endsWith(`betas${cell}`));
        assert.ok(key && ck.tensors.get(key)!.shape[0] === 14, `betas${cell} (14 values) in the checkpoint`);
      }
    } finally {
      for (const x of ck.tensors.values()) x.dispose();
      for (const s of Object.values(ck.optimizers)) for (const x of s.tensors.values()) x.dispose();
    }
    assert.equal(readRun(dir).snapshots.at(-1)?.betas?.normal.length, 14);
  });
}

for (const name of names.filter(isTransferPreset)) {
  test(`${name}: searched on CIFAR, the found cell retrained on all ImageNet training images and tested on val`, async () => {
    const dir = await runPresetSmoke(name, data);
    const json = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;
    const search = readRun(dir);
    assert.match(String((search.config.dataset as { name: string }).name), /^cifar100?$/);
    const retrain = readRun(join(dir, 'retrain'));
    const cfg = TrainConfig.parse(retrain.config);
    assert.deepEqual([cfg.dataset.name, cfg.dataset.dir], ['imagenet', data.imagenet]);
    // 6 classes x 10 training images, every one in D_tr or D_val; 6 x 2 validation images tested
    const splits = json<{ train: number[]; valid: number[] }>(join(dir, 'retrain', 'splits.json'));
    assert.equal(new Set([...splits.train, ...splits.valid]).size, 60);
    assert.equal(retrain.result?.testExamples, 12);
    assert.ok(Number.isFinite(retrain.result?.top5Error), 'ImageNet results carry top-5');
    assert.deepEqual(search.result, retrain.result, 'the search run carries its retrain result');
    // the report puts the row in the ImageNet table, labelled as Table 4 does
    const report = await buildReport([dir], { noCharts: true });
    assert.match(report.markdown, /## Results on ImageNet/);
    assert.match(report.markdown, /\| [^|]*[,(]CIFAR(10|100)\) \|/);
  });
}
