// Config layers: raw values from a file (YAML or JSON) or --set, merged in order and validated once
// by a schema. Every error names the key and the layer its value came from.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './errors.js';
import type { Raw } from './schema.js';

/** One layer of raw config values and where it came from ("configs/presets/x.yaml", "--set", ...). */
export interface Layer {
  source: string;
  values: Raw;
}

export function isPlainObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects; arrays and scalars in `over` replace those in `base`. Inputs are not mutated. */
export function deepMerge(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

/** Reads a YAML (.yaml/.yml) or JSON (.json) file whose top level is a mapping. */
export function readConfigFile(path: string): Raw {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(path, null, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let value: unknown;
  try {
    value = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new ConfigError(path, null, `not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) throw new ConfigError(path, null, 'the top level must be a mapping of keys to values');
  return value;
}

/** `key.sub=value` → {key: {sub: value}}; the value is parsed as JSON where it parses, else kept as a string. */
export function parseSet(assignment: string): Raw {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new ConfigError('--set', assignment, 'expected key=value (e.g. --set student.arch=resnet50)');
  const key = assignment.slice(0, eq).trim();
  const text = assignment.slice(eq + 1);
  const parts = key.split('.');
  if (parts.some((p) => p === '')) throw new ConfigError('--set', key, 'empty segment in the dotted key');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = text;
  }
  let out: unknown = value;
  for (const p of parts.reverse()) out = { [p]: out };
  return out as Raw;
}

export function setsLayer(sets: readonly string[]): Layer {
  return { source: '--set', values: sets.map(parseSet).reduce((a, b) => deepMerge(a, b), {}) };
}

function has(values: Raw, path: readonly PropertyKey[]): boolean {
  let v: unknown = values;
  for (const p of path) {
    if (!isPlainObject(v) || !(String(p) in v)) return false;
    v = v[String(p)];
  }
  return true;
}

/** The source of the last layer that set `path`, else of its nearest parent that one set (a missing key), else "defaults". */
function sourceOf(layers: readonly Layer[], path: readonly PropertyKey[]): string {
  for (let n = path.length; n >= 1; n--)
    for (let i = layers.length - 1; i >= 0; i--) if (has(layers[i]!.values, path.slice(0, n))) return layers[i]!.source;
  return 'defaults';
}

/** Validates merged layers with `schema`, turning the first issue into a ConfigError naming key and source. */
export function parseLayers<S extends z.ZodType>(schema: S, layers: readonly Layer[], base: Raw = {}): z.infer<S> {
  const merged = layers.reduce((acc, l) => deepMerge(acc, l.values), base);
  const r = schema.safeParse(merged);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const full = [...path, key].join('.');
    return fail(sourceOf(layers, [...path, key]), full, 'unknown key');
  }
  const key = path.length ? path.join('.') : null;
  return fail(sourceOf(layers, path), key, issue.message);
}

function fail(source: string, key: string | null, what: string): never {
  throw new ConfigError(source, key, what);
}
