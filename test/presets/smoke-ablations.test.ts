// CI smoke, second half: the ablation (Tables 5-6), λ/γ sweep (Figures 3-4, with their held-out test
// split) and default presets at `--scale smoke`, one step each (the Tables 2-4 rows: smoke.test.ts). A separate file so that the
// test runner runs the two halves in parallel.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { listPresets } from '../../src/config/presets.js';
import { isAblationPreset, runPresetSmoke, type SmokeData, writeSmokeData } from './fixtures.js';

let data: SmokeData;
before(() => {
  data = writeSmokeData();
});
after(() => data.cleanup());

const names = listPresets()
  .map((p) => p.name)
  .filter(isAblationPreset);

test('the ablation and sweep presets are all here (2 + 2 ablations, 4 λ and 5 γ values on two datasets, default)', () => {
  assert.equal(names.length, 4 + 18 + 1);
});

type Splits = { testFrom: string; train: number[]; valid: number[]; test: number[] };
const splitsOf = (dir: string): Splits => JSON.parse(readFileSync(join(dir, 'splits.json'), 'utf8')) as Splits;

for (const name of names)
  test(name, async () => {
    const dir = await runPresetSmoke(name, data);
    if (!name.startsWith('sweep-')) return;
    // §4.4: the test split is held out of the training set, never searched or trained on, and the
    // retrain is tested on the same images as the search holds out
    const search = splitsOf(dir);
    const retrain = splitsOf(join(dir, 'retrain'));
    assert.equal(search.testFrom, 'train');
    assert.equal(search.test.length, 16);
    const used = new Set([...search.train, ...search.valid, ...retrain.train, ...retrain.valid]);
    assert.ok(
      search.test.every((i) => !used.has(i)),
      'held-out images are in no training split',
    );
    assert.deepEqual([retrain.testFrom, retrain.test], ['train', search.test]);
  });
