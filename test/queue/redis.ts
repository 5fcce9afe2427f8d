// A Redis of the test's own: Debian's redis-server on a free loopback port, nothing saved to disk,
// in a temporary directory; stop() ends it and removes the directory.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedis {
  url: string;
  port: number;
  /** The redis-server process (a test may SIGSTOP it: a Redis that does not answer). */
  pid: number;
  stop(): Promise<void>;
}

const BIN = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync);

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}

function ready(p: ChildProcess): Promise<boolean> {
  return new Promise((done) => {
    let out = '';
    p.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('Ready to accept connections')) done(true);
    });
    p.on('exit', () => done(false));
  });
}

/** Starts redis-server on 127.0.0.1 (with requirepass when a password is given). */
export async function startRedis(o: { password?: string } = {}): Promise<TestRedis> {
  if (!BIN) throw new Error('redis-server not found: bash scripts/setup.sh installs it (apt-get install redis-server)');
  const dir = mkdtempSync(join(tmpdir(), 'lbt-redis-'));
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
    if (o.password) args.push('--requirepass', o.password);
    const p = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    if (!(await ready(p))) continue; // the port was taken in between: another one
    const auth = o.password ? `:${encodeURIComponent(o.password)}@` : '';
    return {
      url: `redis://${auth}127.0.0.1:${port}`,
      port,
      pid: p.pid!,
      stop: () =>
        new Promise<void>((done) => {
          p.once('exit', () => {
            rmSync(dir, { recursive: true, force: true });
            done();
          });
          p.kill('SIGTERM');
        }),
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error('redis-server did not start on a free port (5 tries)');
}

/** Whether a process is running (signal 0). */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
