// CI smoke, ImageNet presets of Table 4 (PC-DARTS ImageNet search, K = 2, ImageNet stem) at
// `--scale smoke` on tiny class folders (images resized to 224 px, so these are the slow ones).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { listPresets, loadSearchConfig } from '../../src/train/presets.js';
import { readRun } from '../../src/train/run-dir.js';
import { isImageNetPreset, runPresetSmoke, type SmokeData, writeSmokeData } from './fixtures.js';

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

for (const name of listPresets()
  .map((p) => p.name)
  .filter(isImageNetPreset)) {
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
