// Reading the files of a data set: regular files only (a FIFO or a device would be read forever), at
// most what one read can hold, and every OS error a DataFileError naming the path and what to do.
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { DataFileError } from './errors.js';

/** The most node:fs reads at once (2 GiB - 1); no data file lbt reads in one piece is near it. */
const MAX_READ = 2 ** 31 - 1;

const OS_ERRORS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied: make it readable by this user',
  EPERM: 'operation not permitted: make it readable by this user',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is a file, not a directory',
  ENOENT: 'no such file or directory',
  EMFILE: 'too many open files in this process: raise the limit (ulimit -n) and try again',
  ENFILE: 'too many open files on the system: try again later',
  EIO: 'input/output error: the disk or network file system failed',
  ELOOP: 'too many symbolic links in the path',
  ENAMETOOLONG: 'the path is too long',
  ESTALE: 'stale file handle (network file system): try again',
  ERR_FS_FILE_TOO_LARGE: 'larger than 2 GiB, more than can be read at once: is it the right file?',
};

/** An OS error on a data path as a DataFileError ("cannot read the data file: permission denied... (EACCES)"); any other error as is. */
export function asDataFileError(e: unknown, path: string, doing: string): unknown {
  if (e instanceof DataFileError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string' || !/^(E[A-Z0-9]+|ERR_FS_\w+)$/.test(code)) return e;
  const what = OS_ERRORS[code];
  return new DataFileError(path, `${doing}: ${what ? `${what} (${code})` : code}`);
}

/** Opens a regular file for reading (O_NONBLOCK: a FIFO does not block the open) and returns its fd and size. */
function openRegular(path: string, what: string): { fd: number; size: number } {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new DataFileError(path, `the ${what} is a directory, not a file`);
    if (!st.isFile()) throw new DataFileError(path, `the ${what} is not a regular file (a FIFO, socket or device): give a file`);
    return { fd, size: st.size };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Reads a whole data file; see the file comment for what is refused. */
export function readDataFile(path: string, what = 'data file'): Buffer {
  let fd: number | undefined;
  try {
    const f = openRegular(path, what);
    fd = f.fd;
    if (f.size > MAX_READ)
      throw new DataFileError(
        path,
        `the ${what} is ${(f.size / 2 ** 30).toFixed(1)} GiB, more than can be read at once: is it the right file?`,
      );
    return readFileSync(fd);
  } catch (e) {
    throw asDataFileError(e, path, `cannot read the ${what}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The first `n` bytes of a regular file (fewer when it is shorter), e.g. to check a signature. */
export function readDataHead(path: string, n: number, what = 'data file'): Buffer {
  let fd: number | undefined;
  try {
    fd = openRegular(path, what).fd;
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } catch (e) {
    throw asDataFileError(e, path, `cannot read the ${what}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Whether `path` exists; a path that cannot be looked at (no permission on its directory) is a DataFileError, not "missing". */
export function dataPathExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw asDataFileError(e, path, 'cannot access');
  }
}
