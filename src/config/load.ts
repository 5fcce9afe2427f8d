// Presets and scale overlays are data: configs/presets/NAME.yaml and configs/scales/NAME.yaml.
// loadSearchConfig / loadTrainConfig are the one call a command makes to turn flags into a config.
import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SearchConfig, type TrainConfig, trainDatasetFields } from './schema.js';
import {
  ConfigError,
  deepMerge,
  type Layer,
  isPlainObject,
  readConfigFile,
  resolveSearchConfig,
  resolveTrainConfig,
  setsLayer,
} from './layers.js';

/** configs/ at the package root (this file is dist/src/train/presets.js or src/train/presets.ts). */
export const CONFIGS_DIR = fileURLToPath(new URL('../../../configs/', import.meta.url));
const EXTS = ['.yaml', '.yml', '.json'];

function findFile(dir: string, name: string, what: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new ConfigError(what, null, `"${name}" is not a valid name`);
  for (const e of EXTS) {
    const p = join(dir, name + e);
    if (existsSync(p)) return p;
  }
  const known = listNames(dir);
  throw new ConfigError(what, null, `no ${what} named "${name}" in ${dir} (known: ${known.join(', ') || 'none'})`);
}

function listNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => EXTS.includes(extname(f)))
    .map((f) => basename(f, extname(f)))
    .sort();
}

export interface PresetInfo {
  name: string;
  file: string;
  description: string;
}

/** Every preset with its one-line description, sorted by name. */
export function listPresets(configsDir = CONFIGS_DIR): PresetInfo[] {
  const dir = join(configsDir, 'presets');
  return listNames(dir).map((name) => {
    const { source: file, values } = loadPreset(name, configsDir);
    const d = values.description;
    return { name, file, description: typeof d === 'string' ? d.trim().split('\n')[0]! : '' };
  });
}

/**
 * A preset as a config layer (raw values; validated when the layers are resolved). `extends: NAME`
 * starts from another preset and deep-merges this one's values over it (Table 4's transfer rows are
 * the CIFAR presets with an ImageNet retrain).
 */
export function loadPreset(name: string, configsDir = CONFIGS_DIR, chain: readonly string[] = []): Layer {
  const file = findFile(join(configsDir, 'presets'), name, 'preset');
  const { extends: base, ...values } = readConfigFile(file);
  if (base === undefined) return { source: file, values };
  if (typeof base !== 'string') throw new ConfigError(file, 'extends', 'expected the name of another preset');
  if ([...chain, name].includes(base))
    throw new ConfigError(file, 'extends', `presets extend each other in a cycle: ${[...chain, name, base].join(' -> ')}`);
  const parent = loadPreset(base, configsDir, [...chain, name]);
  return { source: file, values: deepMerge(parent.values, values) };
}

export function listScales(configsDir = CONFIGS_DIR): string[] {
  return listNames(join(configsDir, 'scales'));
}

/**
 * A scale overlay file has `search:` and `retrain:` sections. For a search config the `search`
 * section applies, and `retrain` applies to its retrain section only when that is on; for a
 * `lbt train` config the `retrain` section applies.
 */
export function loadScale(name: string, target: 'search' | 'train', configsDir = CONFIGS_DIR, retrainOn = true): Layer {
  const file = findFile(join(configsDir, 'scales'), name, 'scale');
  const raw = readConfigFile(file);
  for (const k of Object.keys(raw))
    if (!['description', 'search', 'retrain'].includes(k))
      throw new ConfigError(file, k, 'unknown key (a scale file has description, search and retrain)');
  const search = isPlainObject(raw.search) ? raw.search : {};
  const retrain = isPlainObject(raw.retrain) ? raw.retrain : {};
  if (target === 'train') {
    if (!isPlainObject(search.dataset)) return { source: file, values: retrain };
    // subset sizes apply to lbt train too
    return { source: file, values: { ...retrain, dataset: trainDatasetFields(search.dataset) } };
  }
  return { source: file, values: retrainOn ? { ...search, retrain } : search };
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
  const layers = baseLayers(o);
  const sets = setsLayer(o.sets ?? []);
  if (o.scale) layers.push(loadScale(o.scale, 'search', o.configsDir, retrainIsOn([...layers, sets])));
  layers.push(sets);
  return resolveSearchConfig(layers);
}

/** The part of a search preset that `lbt train --preset` uses: its retrain section, dataset and device. */
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

/** Flags → validated `lbt train` config; same order as loadSearchConfig, dataset defaults below the preset. */
export function loadTrainConfig(o: ConfigSources = {}): TrainConfig {
  const layers = baseLayers(o).map(trainLayerFromSearch);
  if (o.scale) layers.push(loadScale(o.scale, 'train', o.configsDir));
  layers.push(setsLayer(o.sets ?? []));
  return resolveTrainConfig(layers);
}
