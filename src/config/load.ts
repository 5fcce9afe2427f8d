// Flags → a validated config: the one call a command makes. Layers, lowest first: schema defaults,
// the method's (search) or dataset's (train) defaults, the preset, the config file, the --scale
// overlay, then --set. Every error names the key and where its value came from.
import {
  DATASET_DEFAULTS,
  type DatasetName,
  METHOD_DEFAULTS,
  type Method,
  type Raw,
  SearchConfig,
  TrainConfig,
} from './schema.js';
import { inertKeys } from './inert.js';
import { deepMerge, isPlainObject, type Layer, parseLayers, readConfigFile, setsLayer } from './layers.js';
import { loadPreset, loadScale } from './presets.js';
import { trainLayerFromSearch } from './retrain.js';

function pick(layers: readonly Layer[], key: string, fallback: string): string {
  for (let i = layers.length - 1; i >= 0; i--) {
    const v = layers[i]!.values[key];
    if (typeof v === 'string') return v;
    if (isPlainObject(v) && key === 'dataset' && typeof v.name === 'string') return v.name;
  }
  return fallback;
}

/** Resolves a search config: schema defaults < METHOD_DEFAULTS[method] < layers (in order). */
export function resolveSearchConfig(layers: readonly Layer[]): SearchConfig {
  const method = pick(layers, 'method', 'darts') as Method;
  const base = METHOD_DEFAULTS[method] ?? {}; // an unknown method is reported by the schema
  const withRetrain = [...layers]; // a retrain section gets the dataset's retrain defaults below it
  const merged = layers.reduce((acc, l) => deepMerge(acc, l.values), {} as Raw);
  // the retrain's own data set (retrain.dataset.name) picks its defaults, else the search's
  const own = isPlainObject(merged.retrain) && isPlainObject(merged.retrain.dataset) ? merged.retrain.dataset.name : undefined;
  const dataset = (typeof own === 'string' ? own : pick(layers, 'dataset', 'cifar10')) as DatasetName;
  const dsDefaults = DATASET_DEFAULTS[dataset];
  if (isPlainObject(merged.retrain) && dsDefaults && Object.keys(dsDefaults).length)
    withRetrain.unshift({ source: 'defaults', values: { retrain: dsDefaults } });
  return parseLayers(SearchConfig, withRetrain, base);
}

/** Resolves a retrain config: schema defaults < DATASET_DEFAULTS[dataset] < layers. */
export function resolveTrainConfig(layers: readonly Layer[]): TrainConfig {
  const dataset = pick(layers, 'dataset', 'cifar10') as DatasetName;
  return parseLayers(TrainConfig, layers, DATASET_DEFAULTS[dataset] ?? {});
}

export interface ConfigSources {
  /** Preset name (configs/presets/NAME.yaml). */
  preset?: string;
  /** A YAML or JSON config file. */
  file?: string;
  /** Scale overlay name, e.g. "smoke" (configs/scales/NAME.yaml). */
  scale?: string;
  /** `--set key=value` assignments, applied last. */
  sets?: readonly string[];
  configsDir?: string;
}

function baseLayers(o: ConfigSources): Layer[] {
  const layers: Layer[] = [];
  if (o.preset) layers.push(loadPreset(o.preset, o.configsDir));
  if (o.file) layers.push({ source: o.file, values: readConfigFile(o.file) });
  return layers;
}

function retrainIsOn(layers: readonly Layer[]): boolean {
  let on = false;
  for (const l of layers) if ('retrain' in l.values) on = l.values.retrain !== null;
  return on;
}

/**
 * Flags → validated search config. Order, lowest first: schema defaults, the method's defaults,
 * the preset, the config file, the scale overlay, then --set. Throws ConfigError naming key and source.
 */
export function loadSearchConfig(o: ConfigSources = {}): SearchConfig {
  return loadSearchConfigNoting(o).config;
}

/**
 * loadSearchConfig, and the keys that the preset, the config file or --set give and the run never
 * reads (inert.ts; a scale overlay's are not the user's and are left out), from one read of each.
 */
export function loadSearchConfigNoting(o: ConfigSources = {}): { config: SearchConfig; inert: string[] } {
  const user = baseLayers(o);
  const sets = setsLayer(o.sets ?? []);
  const layers = [...user];
  if (o.scale) layers.push(loadScale(o.scale, 'search', o.configsDir, retrainIsOn([...user, sets])));
  layers.push(sets);
  const config = resolveSearchConfig(layers);
  return { config, inert: inertKeys([...user, sets], config) };
}

/** Flags → validated `lbt train` config; same order as loadSearchConfig, dataset defaults below the preset. */
export function loadTrainConfig(o: ConfigSources = {}): TrainConfig {
  const layers = baseLayers(o).map(trainLayerFromSearch);
  if (o.scale) layers.push(loadScale(o.scale, 'train', o.configsDir));
  layers.push(setsLayer(o.sets ?? []));
  return resolveTrainConfig(layers);
}
