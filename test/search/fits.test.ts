// Sizes checked before a search allocates anything: a batch against each split, and against memory
// through a lower bound of the supernet's activations per example.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSearchConfig } from '../../src/config/load.js';
import { DoesNotFitError } from '../../src/runs/errors.js';
import { checkBatchFitsMemory, checkBatchFitsSplits, memoryLimitBytes } from '../../src/runs/memory.js';
import { supernetFloorBytes } from '../../src/search/fits.js';

test('the supernet activation floor of DARTS on CIFAR (C=16, 8 cells, 32x32) per example', () => {
  // floats: input 3·1024 + stem 48·1024; per cell 2·C·H·W (inputs) + 14 edges · 7 ops · C·H'·W' + 4·C·H'·W':
  // cells 0-1 1,703,936 each; 2 (reduction to 16x16, C=32) 901,120; 3-4 851,968 each;
  // 5 (to 8x8, C=64) 450,560; 6-7 425,984 each: 7,367,680 floats, 4 bytes each
  assert.equal(
    supernetFloorBytes(loadSearchConfig({ preset: 'default', sets: ['supernet.channels=16', 'supernet.layers=8'] }), [3, 32, 32]),
    29_470_720,
  );
});

test('a batch larger than a split, or whose activations cannot fit in memory, is refused with what fits', () => {
  assert.throws(
    () =>
      checkBatchFitsSplits(64, [
        ['D_tr', 100],
        ['D_val', 50],
      ]),
    (e: unknown) =>
      e instanceof DoesNotFitError && e.message === 'batchSize 64 is larger than D_val (50 images): at most 50 fits',
  );
  checkBatchFitsSplits(50, [
    ['D_tr', 100],
    ['D_val', 50],
  ]);
  const mem = memoryLimitBytes();
  const perExample = 29_470_720;
  const most = Math.floor(mem / perExample);
  assert.throws(
    () => checkBatchFitsMemory('batchSize', most + 1, perExample, 'the supernet', 'cpu'),
    new RegExp(
      `^DoesNotFitError: batchSize ${most + 1} needs at least [\\d.]+ GB for the activations of the supernet, and [\\d.]+ GB of memory is there: at most about ${most} fits$`,
    ),
  );
  checkBatchFitsMemory('batchSize', most, perExample, 'the supernet', 'cpu');
  assert.throws(
    () => checkBatchFitsMemory('batchSize', 1, mem + 1, 'the supernet', 'cpu', 'supernet.channels or supernet.layers'),
    /^DoesNotFitError: the supernet needs at least [\d.]+ GB for the activations of one example, and [\d.]+ GB of memory is there: make supernet\.channels or supernet\.layers smaller$/,
  );
  checkBatchFitsMemory('batchSize', most + 1, perExample, 'the supernet', 'cuda'); // a GPU's memory is not checked here
});
