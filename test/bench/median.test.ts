// The benches' one median (their printed ratios are ratios of medians).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { median } from '../../bench/median.js';

test('median: the middle value, or the mean of the two middle ones; the input is not reordered', () => {
  const v = [3, 1, 2];
  assert.equal(median(v), 2);
  assert.deepEqual(v, [3, 1, 2]);
  assert.equal(median([15.7, 14.3]), 15);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
});
