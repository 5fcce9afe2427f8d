// The Redis behind the queue: its URL (redis://[:PASSWORD@]HOST:PORT[/DB], rediss:// for TLS), checked
// and shown with the password hidden, and one connection attempt that fails in seconds with one line
// (a command; a worker then keeps reconnecting as BullMQ does).
import { Redis } from 'ioredis';

/** The BullMQ queue every lbt command uses (another Redis database, /DB in the URL, keeps projects apart). */
export const QUEUE_NAME = 'lbt';

/** A queue that cannot be reached or used, or a request about it that cannot be met; one line. */
export class QueueError extends Error {
  constructor(what: string) {
    super(what);
    this.name = 'QueueError';
  }
}

/** The URL with its password replaced by *** (for messages and logs). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** Refuses anything but redis://HOST[:PORT][/DB] or rediss://..., naming what is wrong. */
export function checkRedisUrl(url: string): void {
  const shown = redactUrl(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueError(`--queue ${shown}: not a URL (expected redis://[:PASSWORD@]HOST:PORT[/DB])`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new QueueError(`--queue ${shown}: expected a redis:// or rediss:// URL, got ${u.protocol}//`);
  if (!u.hostname) throw new QueueError(`--queue ${shown}: no host`);
  if (!/^(\/\d*)?$/.test(u.pathname)) throw new QueueError(`--queue ${shown}: the path must be a database number, e.g. /0`);
}

/** BullMQ connection options for a URL (a worker's blocking connection must retry without limit). */
export function connectionOf(url: string, o: { worker?: boolean } = {}) {
  return { url, ...(o.worker ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 3 }) };
}

/**
 * Connects once and pings: a wrong host, port or password is a QueueError within `timeoutMs`
 * instead of endless reconnection attempts.
 */
export async function probeRedis(url: string, timeoutMs = 5000): Promise<void> {
  checkRedisUrl(url);
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let lastError: Error | null = null;
  client.on('error', (e: Error) => {
    lastError = e;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    const why = (lastError as Error | null)?.message ?? (e as Error).message;
    throw new QueueError(`Redis at ${redactUrl(url)}: ${why}`);
  } finally {
    client.disconnect();
  }
}
