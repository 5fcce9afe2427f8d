// CI smoke, second half: the ablation (Tables 5-6), λ/γ sweep (Figures 3-4) and default presets at
// `--scale smoke`, one step each (the Tables 2-4 rows: smoke.test.ts). A separate file so that the
// test runner runs the two halves in parallel.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { listPresets } from '../../src/train/presets.js';
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

for (const name of names) test(name, async () => void (await runPresetSmoke(name, data)));
