// The search config's dataset section → the data layer's loader (src/data).
import { readFileSync } from 'node:fs';
import { type LoadedDataset, loadDataset, loadSearchData, type SearchData, SplitIndices } from '../data/index.js';
import type { SearchConfig } from '../config/schema.js';
import { RunDirError } from '../runs/run-dir.js';

type Sizes = Pick<SearchConfig['dataset'], 'trainSize' | 'valSize' | 'unlabeledSize' | 'testSize'>;

/** Loads the dataset and its splits as the config says (a resumed run passes its saved splits). */
export async function loadDataFor(cfg: SearchConfig, saved?: SplitIndices): Promise<SearchData> {
  const d = cfg.dataset;
  let sizes: Sizes = d;
  let ds: LoadedDataset | undefined;
  if ([d.trainSize, d.valSize, d.unlabeledSize, d.testSize].some((v) => v !== null && v < 1)) {
    // fractions are of the full training (test) set: count it first
    ds = await loadDataset({ dataset: d.name, ...(d.dir !== null && { dir: d.dir }) });
    const of = (v: number | null, n: number) => (v === null ? null : v < 1 ? Math.max(1, Math.floor(v * n)) : v);
    sizes = {
      trainSize: of(d.trainSize, ds.train.n),
      valSize: of(d.valSize, ds.train.n),
      unlabeledSize: of(d.unlabeledSize, ds.train.n),
      testSize: of(d.testSize, d.testFromTrain || (ds.test?.n ?? 0)),
    };
  }
  return loadSearchData(
    {
      dataset: d.name,
      seed: cfg.seed,
      ...(d.dir !== null && { dir: d.dir }),
      ...(d.unlabeledDir !== null && { unlabeledDir: d.unlabeledDir }),
      ...(sizes.trainSize !== null && { trainSize: sizes.trainSize }),
      ...(sizes.valSize !== null && { validSize: sizes.valSize }),
      ...(sizes.unlabeledSize !== null && { unlabeledSize: sizes.unlabeledSize }),
      ...(sizes.testSize !== null && { testSize: sizes.testSize }),
      ...(d.testFromTrain !== null && { testFromTrain: d.testFromTrain }),
    },
    saved,
    ds,
  );
}

/** A run directory's splits.json, validated; a missing or bad file is a RunDirError naming it. */
export function readSplits(path: string): SplitIndices {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RunDirError(path, `cannot read the run's splits (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return SplitIndices.parse(JSON.parse(text));
  } catch (e) {
    throw new RunDirError(path, `not a valid splits file: ${(e as Error).message.split('\n')[0]}`);
  }
}
