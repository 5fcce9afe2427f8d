// What every failure becomes at the CLI: one line per OS error code (with what to do), and an OS
// error that no layer wrapped still one line naming its path, never a stack trace.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asUserError, UserError } from '../../src/cli/errors.js';
import { RunDirError } from '../../src/runs/errors.js';
import { asRunFileError, osErrorText } from '../../src/runs/files.js';

const osError = (code: string, path?: string, syscall?: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: raw message`), { code, ...(path && { path }), ...(syscall && { syscall }) });

test('each OS error of issue 17 has its one line: what it means and what to do, then the code', () => {
  const lines: Record<string, string> = {
    ENOSPC: 'no space left on the device: free some space, then resume the run (ENOSPC)',
    EACCES: 'permission denied: check the permissions (or give another --out) (EACCES)',
    EISDIR: 'is a directory where a file was expected (EISDIR)',
    ENOTDIR: 'a part of the path is a file, not a directory (ENOTDIR)',
    EMFILE: 'too many open files in this process: raise the limit (ulimit -n) and try again (EMFILE)',
    EFBIG: 'file too large for the file system or the file-size limit (ulimit -f): free or raise it, then resume the run (EFBIG)',
    ERR_FS_FILE_TOO_LARGE: 'larger than 2 GiB, more than can be read at once (ERR_FS_FILE_TOO_LARGE)',
    EROFS: 'the file system is read-only: give another --out (EROFS)',
  };
  for (const [code, line] of Object.entries(lines)) assert.equal(osErrorText(osError(code)), line, code);
  assert.equal(osErrorText(osError('EWHATEVER')), 'EWHATEVER', 'an unknown code is named as it is');
});

test('an OS error becomes a RunDirError naming the path; other errors pass through', () => {
  const e = asRunFileError(osError('EMFILE'), '/runs/x/metrics.jsonl', 'cannot write');
  assert.ok(e instanceof RunDirError);
  assert.equal(
    e.message,
    '/runs/x/metrics.jsonl: cannot write: too many open files in this process: raise the limit (ulimit -n) and try again (EMFILE)',
  );
  const other = new TypeError('a bug');
  assert.equal(asRunFileError(other, '/p', 'cannot write'), other);
});

test('at the CLI an OS error that no layer wrapped is one line with its path (exit 2); a bug keeps its stack', () => {
  const e = asUserError(osError('ENOSPC', '/runs/x/report.html', 'write'));
  assert.ok(e instanceof UserError);
  assert.deepEqual(
    [e.message, e.exitCode],
    ['/runs/x/report.html: write failed: no space left on the device: free some space, then resume the run (ENOSPC)', 2],
  );
  const bare = asUserError(osError('EMFILE')) as UserError;
  assert.equal(bare.message, 'too many open files in this process: raise the limit (ulimit -n) and try again (EMFILE)');
  const bug = new TypeError('x is undefined');
  assert.equal(asUserError(bug), bug);
});
