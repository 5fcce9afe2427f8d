// Config layers: raw values from a file (YAML or JSON) or --set, merged in order and validated once
// by a schema. Every error names the key and the layer its value came from.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
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

/** Key segments that would reach an object's prototype instead of setting a config key: refused everywhere. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Throws a ConfigError naming the first forbidden key (see FORBIDDEN_KEYS) anywhere in `value`. */
function checkKeys(value: unknown, source: string, path: readonly string[] = []): void {
  if (typeof value !== 'object' || value === null) return;
  for (const k of Object.keys(value)) {
    const at = [...path, k];
    if (FORBIDDEN_KEYS.has(k)) throw new ConfigError(source, at.join('.'), `"${k}" is not a config key`);
    checkKeys((value as Record<string, unknown>)[k], source, at);
  }
}

/** The most a config file may be (configs are a few KB); a FIFO or device is refused, not read forever. */
const MAX_CONFIG_BYTES = 16 * 2 ** 20;

function readConfigText(path: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ConfigError(path, null, 'not a regular file');
    if (st.size > MAX_CONFIG_BYTES) throw new ConfigError(path, null, `${st.size} bytes: too large for a config file`);
    return readFileSync(fd, 'utf8');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(path, null, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Reads a YAML (.yaml/.yml) or JSON (.json) file whose top level is a mapping. */
export function readConfigFile(path: string): Raw {
  const text = readConfigText(path);
  let value: unknown;
  try {
    value = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new ConfigError(path, null, `not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) throw new ConfigError(path, null, 'the top level must be a mapping of keys to values');
  checkKeys(value, path);
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
  const bad = parts.find((p) => FORBIDDEN_KEYS.has(p));
  if (bad) throw new ConfigError('--set', key, `"${bad}" is not a config key`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = text;
  }
  checkKeys(value, '--set', parts);
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
