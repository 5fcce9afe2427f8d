// Tiny data sets in the real formats for running presets at smoke scale: CIFAR-10 and CIFAR-100
// binary distributions side by side in one directory (each is the other's D_u), and ImageNet-style
// class folders of PNG images (train/ and val/).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGenotype } from '../../src/nas/genotype.js';
import { runExperiment } from '../../src/experiment/experiment.js';
import { loadSearchConfig } from '../../src/config/load.js';
import { readRun } from '../../src/runs/run-dir.js';
import type { RunSummary } from '../../src/runs/types.js';
import { tempDir, writeCifar10, writeCifar100, writeImage } from '../data/helpers.js';

export interface SmokeData {
  /** Holds cifar-10-batches-bin/ and cifar-100-binary/. */
  cifar: string;
  /** Holds train/<class>/*.png and val/<class>/*.png. */
  imagenet: string;
  cleanup: () => void;
}

/**
 * CIFAR-10: 16 rows per batch file (80 train, 16 test); CIFAR-100: 48 train, 16 test; ImageNet:
 * `classes` classes of 10 train (1 / 1 / 1 per class at the 10% / 2.5% / 10% fractions) and 2 val images.
 */
export function writeSmokeData(classes = 6, side = 16): SmokeData {
  const tmp = tempDir('presets');
  const cifar = join(tmp.dir, 'cifar');
  writeCifar10(cifar, 16, 1);
  writeCifar100(cifar, 48, 16, 2);
  const imagenet = join(tmp.dir, 'imagenet');
  for (const [part, n] of [
    ['train', 10],
    ['val', 2],
  ] as const) {
    for (let c = 0; c < classes; c++) {
      const d = join(imagenet, part, `n0000${c}`);
      mkdirSync(d, { recursive: true });
      for (let i = 0; i < n; i++)
        writeImage(join(d, `img${i}.png`), side, side, [(40 * c + 7 * i) % 256, 90, (13 * i) % 256], 'png');
    }
  }
  return { cifar, imagenet, cleanup: tmp.cleanup };
}

/**
 * The --set lines that point a preset's dataset at the smoke data (ImageNet folders take fractions,
 * not counts: 6 images per split, so batches of 4, as a batch may not be larger than a split).
 */
export function smokeSets(datasetName: string, d: SmokeData): string[] {
  if (datasetName === 'imagenet')
    return [
      `dataset.dir=${d.imagenet}`,
      'dataset.trainSize=null',
      'dataset.valSize=null',
      'dataset.unlabeledSize=null',
      'dataset.testSize=null',
      'batchSize=4',
    ];
  return [`dataset.dir=${d.cifar}`, `dataset.unlabeledDir=${d.cifar}`];
}

/** Ablations, λ/γ sweeps and the default preset go to smoke-ablations.test.ts; the CIFAR rows of Tables 2-3 to smoke.test.ts. */
export const isAblationPreset = (name: string): boolean => /^(ablation-|sweep-|default$)/.test(name);
/** The presets that touch ImageNet (folders, 224 px) go to smoke-imagenet.test.ts: its searches and the CIFAR → ImageNet rows. */
export const isImageNetPreset = (name: string): boolean => name.endsWith('-imagenet');
/** Table 4's transfer rows: searched on CIFAR, retrained on ImageNet (retrain.dataset). */
export const isTransferPreset = (name: string): boolean => name.endsWith('-to-imagenet');

/**
 * Runs one preset at smoke scale as `lbt experiment --preset NAME --seeds 1 --scale smoke` (through the
 * library) and checks what every preset must leave: a completed search run with a genotype that
 * parses, at least one step record, and (where the preset has a retrain section) a completed retrain
 * whose result is on the search run. Returns the seed's run directory.
 */
export async function runPresetSmoke(name: string, d: SmokeData): Promise<string> {
  const preset = loadSearchConfig({ preset: name });
  const dataset = preset.dataset.name;
  const dir = join(d.cifar, '..', 'exp', name);
  const sets = dataset === 'fashion-mnist' ? [] : smokeSets(dataset, d);
  // the λ/γ sweeps hold 5K training images out as the test split: 16 of the tiny sets
  if (preset.dataset.testFromTrain !== null) sets.push('dataset.testFromTrain=16');
  // a retrain on another data set (Table 4's transfer rows): its directory too
  const other = preset.retrain?.dataset?.name;
  if (other === 'imagenet') sets.push(`retrain.dataset.dir=${d.imagenet}`);
  else if (other === 'cifar10' || other === 'cifar100') sets.push(`retrain.dataset.dir=${d.cifar}`);
  const res = await runExperiment({ dir, seeds: [0], preset: name, scale: 'smoke', sets, retrain: true, report: false });
  const seedDir = res.seeds[0]!.dir;
  const json = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;
  assert.equal(json<RunSummary>(join(seedDir, 'run.json')).status, 'completed');
  assert.doesNotThrow(() => parseGenotype(json(join(seedDir, 'genotype.json'))));
  const run = readRun(seedDir);
  assert.ok(run.metrics.filter((r) => r.kind === 'step').length >= 1, 'a step record');
  if (loadSearchConfig({ preset: name }).retrain !== null) {
    assert.equal(json<RunSummary>(join(seedDir, 'retrain', 'run.json')).status, 'completed');
    assert.ok(Number.isFinite(run.result?.testError), 'the retrain result is on the search run');
  }
  return seedDir;
}
