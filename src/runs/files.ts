// Files of a run: atomic replacement (write a temporary file in the same directory, fsync it, rename
// it over the target, fsync the directory: a reader sees the old file or the new one, never a mix),
// and JSON read back with the path (and key) named in every error.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { z } from 'zod';
import { RunDirError } from './errors.js';

let counter = 0;

/** The temporary name used next to `path` (same directory, so the rename stays on one file system). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter++}`);
}

export function isTempFile(name: string): boolean {
  return /^\..+\.tmp-\d+-\d+$/.test(name);
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // some platforms and file systems cannot fsync a directory: the rename is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface AtomicWriteOptions {
  /** fsync the data before the rename (default true). */
  fsync?: boolean;
  /** Called after the temporary file is complete and before it replaces `path` (e.g. keep a backup). */
  beforeRename?: (tempPath: string) => void;
}

/** Writes `data` to `path` atomically. On any failure the temporary file is removed and `path` is untouched. */
export function writeFileAtomic(path: string, data: string | Uint8Array, o: AtomicWriteOptions = {}): void {
  const tmp = tempPathFor(path);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    if (o.fsync !== false) fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    o.beforeRename?.(tmp);
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  if (o.fsync !== false) fsyncDir(dirname(path));
}

/** Pretty JSON with a final newline, replaced atomically (not fsynced: records, not checkpoints). */
export function writeJson(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, { fsync: false });
}

/** The OS error code of a failed file operation (ENOENT, EACCES...), else its message. */
export function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/**
 * Reads a JSON file; with a schema, validates it and returns the parsed value. A missing, unreadable
 * or malformed file, or one of the wrong shape, is a RunDirError naming the path and the first key.
 */
export function readJson<T = unknown>(path: string, schema?: z.ZodType<T>, what = 'file'): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RunDirError(path, `cannot read the ${what} (${errnoOf(e)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RunDirError(path, `not valid JSON: ${(e as Error).message}`);
  }
  if (!schema) return value as T;
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const key = issue.path.length ? `${issue.path.join('.')}: ` : '';
  throw new RunDirError(path, `not a valid ${what}: ${key}${issue.message}`);
}
