// Files of a run: atomic replacement (write a temporary file in the same directory, fsync it, rename
// it over the target, fsync the directory: a reader sees the old file or the new one, never a mix),
// and JSON read back with the path (and key) named in every error.
import { closeSync, constants, fstatSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
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

/**
 * Writes `data` to `path` atomically. On any failure the temporary file is removed and `path` is
 * untouched; an OS error (ENOSPC, EACCES...) is a RunDirError naming `path` and what to do.
 */
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
    throw asRunFileError(e, path, 'cannot write');
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

/** What an OS error means for a run's files and what to do about it, by code. */
const OS_ERRORS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device: free some space, then resume the run',
  EDQUOT: 'disk quota exceeded: free some space, then resume the run',
  EFBIG: 'file too large for the file system or the file-size limit (ulimit -f): free or raise it, then resume the run',
  EACCES: 'permission denied: check the permissions (or give another --out)',
  EPERM: 'operation not permitted: check the permissions (or give another --out)',
  EROFS: 'the file system is read-only: give another --out',
  EISDIR: 'is a directory where a file was expected',
  ENOTDIR: 'a part of the path is a file, not a directory',
  ENOENT: 'no such file or directory',
  EEXIST: 'exists already',
  EMFILE: 'too many open files in this process: raise the limit (ulimit -n) and try again',
  ENFILE: 'too many open files on the system: try again later',
  EIO: 'input/output error: the disk or network file system failed',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'too many symbolic links in the path',
  ESTALE: 'stale file handle (network file system): try again',
  ERR_FS_FILE_TOO_LARGE: 'larger than 2 GiB, more than can be read at once',
};

/** One line for an OS error: its meaning and what to do, then the code, e.g. "permission denied: ... (EACCES)". */
export function osErrorText(e: unknown): string {
  const code = errnoOf(e);
  const what = OS_ERRORS[code];
  return what ? `${what} (${code})` : code;
}

/** True for an error of the OS or of node:fs (it has an errno code such as ENOSPC, or ERR_FS_...). */
export function isOsError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && /^(E[A-Z0-9]+|ERR_FS_\w+)$/.test(code);
}

/** An OS error as a RunDirError naming `path` ("cannot write: no space left ... (ENOSPC)"); any other error as is. */
export function asRunFileError(e: unknown, path: string, doing: string): unknown {
  return isOsError(e) ? new RunDirError(path, `${doing}: ${osErrorText(e)}`) : e;
}

/** The most a JSON record of a run may hold (run.json, config.json, splits.json of ImageNet...). */
const MAX_JSON_BYTES = 512 * 2 ** 20;

/**
 * Reads a regular file of a run (`maxBytes` at most): a FIFO or device is refused instead of read
 * forever, and every OS error is a RunDirError naming the path.
 */
export function readRunFile(path: string, what = 'file', maxBytes = MAX_JSON_BYTES): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK); // O_NONBLOCK: opening a FIFO does not wait for a writer
    const st = fstatSync(fd);
    if (!st.isFile()) throw new RunDirError(path, `the ${what} is not a regular file`);
    if (st.size > maxBytes) throw new RunDirError(path, `the ${what} is ${st.size} bytes, more than the ${maxBytes} it may be`);
    return readFileSync(fd);
  } catch (e) {
    throw asRunFileError(e, path, `cannot read the ${what}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Reads a JSON file; with a schema, validates it and returns the parsed value. A missing, unreadable
 * or malformed file, or one of the wrong shape, is a RunDirError naming the path and the first key.
 */
export function readJson<T = unknown>(path: string, schema?: z.ZodType<T>, what = 'file'): T {
  const text = readRunFile(path, what).toString('utf8');
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
