// The search config's dataset section → splits: fractions are of the full training set and give the
// same splits as the counts they stand for (the dataset is read once for both).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSearchConfig } from '../../src/config/load.js';
import { loadSearchData } from '../../src/search/lifecycle.js';

test('dataset sizes as fractions of Fashion-MNIST equal the counts they stand for', async () => {
  const cfg = (sizes: string[]) => loadSearchConfig({ preset: 'default', sets: sizes.map((s) => `dataset.${s}`) });
  const byFraction = await loadSearchData(cfg(['trainSize=0.01', 'valSize=0.005', 'unlabeledSize=0.01', 'testSize=0.1']));
  const byCount = await loadSearchData(cfg(['trainSize=600', 'valSize=300', 'unlabeledSize=600', 'testSize=1000']));
  assert.deepEqual(
    [
      byFraction.splits.train.length,
      byFraction.splits.valid.length,
      byFraction.splits.unlabeled.length,
      byFraction.splits.test?.length,
    ],
    [600, 300, 600, 1000],
  );
  assert.deepEqual(byFraction.splits, byCount.splits);
});
