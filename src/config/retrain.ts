// The retrain settings: one type, TrainConfig (`lbt train`'s config), which retrain() takes. A search
// config carries them as its `retrain` section (the same keys, plus an optional `dataset` of its own);
// these two functions are the only conversions, and they set one precedence, lowest first:
//
//   schema defaults < the retrain data set's defaults (DATASET_DEFAULTS: ImageNet's 14 cells, C=48...)
//     < the preset's `retrain` section < the config file < the --scale overlay's `retrain` < --set
//
// The run settings a retrain shares with its search (seed, device, deterministic, checkpointEvery,
// logEvery) come from the search config; its data set is `retrain.dataset`, else the search's.
import { ConfigError } from './errors.js';
import { isPlainObject, type Layer } from './layers.js';
import { type SearchConfig, TrainConfig, trainDatasetFields } from './schema.js';

/** A search preset (or file) as an `lbt train` layer: its retrain section, data set and device. Other layers pass through. */
export function trainLayerFromSearch(l: Layer): Layer {
  const v = l.values;
  if (!('method' in v || 'retrain' in v || 'lbt' in v)) return l;
  const out: Record<string, unknown> = isPlainObject(v.retrain) ? { ...v.retrain } : {};
  // the retrain's own data set (retrain.dataset) wins over the search's
  if (isPlainObject(v.dataset) && !isPlainObject(out.dataset)) out.dataset = trainDatasetFields(v.dataset);
  else if (out.dataset === null) delete out.dataset;
  for (const k of ['device', 'deterministic', 'description'] as const) if (k in v) out[k] = v[k];
  return { source: l.source, values: out };
}

/** The TrainConfig of a search's retrain section (resolved already), training `genotypeRef`. */
export function retrainConfigOf(search: SearchConfig, genotypeRef: string): TrainConfig {
  if (!search.retrain) throw new ConfigError('config', 'retrain', 'the search config has no retrain section');
  const { dataset: own, ...retrainSettings } = search.retrain;
  return TrainConfig.parse({
    genotype: genotypeRef,
    seed: search.seed,
    device: search.device,
    deterministic: search.deterministic,
    engine: search.engine,
    checkpointEvery: search.checkpointEvery,
    logEvery: search.logEvery,
    dataset: own ?? trainDatasetFields(search.dataset),
    ...retrainSettings,
  });
}
