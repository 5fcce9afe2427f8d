// Presets and scale overlays are data: configs/presets/NAME.yaml and configs/scales/NAME.yaml, each
// read as a config layer (a preset may `extends: NAME` another).
import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './errors.js';
import { deepMerge, isPlainObject, type Layer, readConfigFile } from './layers.js';
import { trainDatasetFields } from './schema.js';

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
