// The directories `lbt serve` may read, and the only way the server turns a request into a path:
// an id "<root>/<relative path>" whose segments are plain names (no "..", ".", empty, NUL or
// backslash), joined under that root, and accepted only when its real path (symlinks resolved)
// is still inside the root's real path. Every file the server opens goes through readInside().
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';

/** A directory given to `lbt serve` that does not exist or is not a directory. */
export class ServeRootError extends Error {
  constructor(
    readonly path: string,
    what: string,
  ) {
    super(`${path}: ${what}`);
    this.name = 'ServeRootError';
  }
}

export interface Root {
  /** Real path (symlinks resolved). */
  dir: string;
  /** Shown in pages: the name as given. */
  label: string;
}

const BAD_SEGMENT = /^\.{1,2}$|[\\\0]/;

export class ServedRoots {
  readonly roots: readonly Root[];

  constructor(dirs: readonly string[]) {
    this.roots = dirs.map((d) => {
      let real: string;
      try {
        real = realpathSync(resolve(d));
      } catch {
        throw new ServeRootError(d, 'does not exist');
      }
      if (!statSync(real).isDirectory()) throw new ServeRootError(d, 'is not a directory');
      return { dir: real, label: d.replace(/\/+$/, '') || basename(real) };
    });
  }

  /** True when `real` (a real path) is the root `i` or inside it. */
  private within(i: number, real: string): boolean {
    const root = this.roots[i]?.dir;
    return root !== undefined && (real === root || real.startsWith(root.endsWith(sep) ? root : root + sep));
  }

  /** The real path an id names, or null when it is malformed, missing, or leads outside its root. */
  resolve(id: string): string | null {
    const [first, ...segments] = id.split('/');
    if (first === undefined || !/^\d+$/.test(first)) return null;
    const i = Number(first);
    const root = this.roots[i];
    if (!root || segments.some((s) => s === '' || BAD_SEGMENT.test(s))) return null;
    try {
      const real = realpathSync(join(root.dir, ...segments));
      return this.within(i, real) ? real : null;
    } catch {
      return null;
    }
  }

  /** The id of a real path inside root i (the inverse of resolve). */
  idOf(i: number, real: string): string {
    const root = this.roots[i]?.dir ?? '';
    const rel = real.slice(root.length).split(sep).filter(Boolean);
    return [String(i), ...rel].join('/');
  }

  /** The root whose real path holds `real`, or -1. */
  rootOf(real: string): number {
    return this.roots.findIndex((_, i) => this.within(i, real));
  }

  /** A real path for `path`, or null when it does not exist or is outside every root. */
  check(path: string): string | null {
    try {
      const real = realpathSync(path);
      return this.rootOf(real) >= 0 ? real : null;
    } catch {
      return null;
    }
  }

  /**
   * Reads bytes [from, from+max) of a regular file inside a root (null when it is missing, not a
   * regular file, or outside). The last path component is opened without following symlinks, after
   * the real path of the whole was checked.
   */
  readInside(path: string, from = 0, max = Number.POSITIVE_INFINITY): { bytes: Buffer; size: number; ino: number } | null {
    const real = this.check(path);
    if (real === null) return null;
    let fd: number;
    try {
      fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      return null;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return null;
      const n = Math.max(0, Math.min(st.size - from, max));
      const bytes = Buffer.alloc(n);
      let got = 0;
      while (got < n) {
        const k = readSync(fd, bytes, got, n - got, from + got);
        if (k === 0) break;
        got += k;
      }
      return { bytes: bytes.subarray(0, got), size: st.size, ino: st.ino };
    } finally {
      closeSync(fd);
    }
  }

  /** Modification time (ms) of a file inside a root, or -1. */
  mtime(path: string): number {
    const real = this.check(path);
    try {
      return real === null ? -1 : statSync(real).mtimeMs;
    } catch {
      return -1;
    }
  }

  readText(path: string): string | null {
    return this.readInside(path)?.bytes.toString('utf8') ?? null;
  }

  readJson<T>(path: string): T | null {
    const t = this.readText(path);
    if (t === null) return null;
    try {
      return JSON.parse(t) as T;
    } catch {
      return null;
    }
  }
}
