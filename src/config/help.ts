// Every option of a config schema with its type, default and description (for `lbt search --help`),
// read from the schema itself through zod's JSON Schema export, so the help cannot drift.
import { z } from 'zod';
import type { Raw } from './schema.js';

export interface OptionDoc {
  /** Dotted key as typed in --set (e.g. "student.arch"). */
  key: string;
  type: string;
  default: unknown;
  description: string;
  /** Defaults that differ per method (or dataset), e.g. {"pc-darts": 256}. */
  overrides: Record<string, unknown>;
}

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  anyOf?: JsonSchema[];
}

function typeName(s: JsonSchema): string {
  if (s.properties) return 'object';
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join('|');
  if (s.anyOf) return s.anyOf.map(typeName).join('|');
  if (s.prefixItems) return `[${s.prefixItems.map(typeName).join(', ')}]`;
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : ['any'];
  return types.map((t) => (t === 'array' && s.items ? `${typeName(s.items)}[]` : t)).join('|');
}

function objectOf(s: JsonSchema): JsonSchema | null {
  if (s.properties) return s;
  for (const a of s.anyOf ?? []) if (a.properties) return a;
  return null;
}

function lookup(raw: Raw, path: string[]): unknown {
  let v: unknown = raw;
  for (const p of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Raw)[p];
  }
  return v;
}

/**
 * Lists every leaf option of `schema` (nested sections flattened to dotted keys). `overrides` maps a
 * name (a method or dataset) to its defaults table, so the docs show where the default differs.
 */
export function describeOptions(schema: z.ZodType, overrides: Readonly<Record<string, Raw>> = {}): OptionDoc[] {
  const root = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out: OptionDoc[] = [];
  const walk = (s: JsonSchema, path: string[], section: string) => {
    for (const [k, child] of Object.entries(s.properties ?? {})) {
      const obj = objectOf(child);
      const p = [...path, k];
      if (obj && !child.anyOf) {
        walk(obj, p, child.description ?? section);
        continue;
      }
      const ov: Record<string, unknown> = {};
      for (const [name, table] of Object.entries(overrides)) {
        const v = lookup(table, p);
        if (v !== undefined && JSON.stringify(v) !== JSON.stringify(child.default)) ov[name] = v;
      }
      out.push({
        key: p.join('.'),
        type: typeName(child),
        default: child.default,
        description: child.description ?? '',
        overrides: ov,
      });
      if (obj) walk(obj, p, child.description ?? section); // a nullable section: list its keys too
    }
  };
  walk(objectOf(root) ?? root, [], '');
  return out;
}

/** Options as aligned text lines: key, default (with per-method defaults), description. */
export function formatOptions(docs: readonly OptionDoc[]): string {
  const show = (v: unknown) => (v === undefined ? '-' : JSON.stringify(v));
  const rows = docs.map((d) => {
    const ov = Object.entries(d.overrides).map(([n, v]) => `${n}: ${show(v)}`);
    return [d.key, `${show(d.default)}${ov.length ? ` (${ov.join(', ')})` : ''}`, `${d.description} [${d.type}]`];
  });
  const w0 = Math.max(...rows.map((r) => r[0]!.length));
  const w1 = Math.min(36, Math.max(...rows.map((r) => r[1]!.length)));
  return rows.map(([k, d, s]) => `  ${k!.padEnd(w0)}  ${d!.padEnd(w1)}  ${s}`).join('\n');
}
