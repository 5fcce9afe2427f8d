// Atomic file replacement: write a temporary file in the same directory, fsync it, rename it over
// the target, fsync the directory. A reader sees the old file or the new one, never a mix.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

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
