// `lbt serve [DIR...]`: the local web server over run and experiment directories (src/serve).
import type { Command } from 'commander';
import { serve } from '../../serve/server.js';
import { UserError } from '../errors.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('a local, read-only web page of runs and experiments that updates while they run')
    .argument('[dirs...]', 'directories holding runs and experiments (default: runs)')
    .option('--host <address>', 'address to listen on (loopback unless you change it)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free one)', '8008')
    .action(async (dirs: string[], o: { host: string; port: string }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port: not a port number: ${o.port}`);
      let served: Awaited<ReturnType<typeof serve>>;
      try {
        served = await serve({ dirs: dirs.length ? dirs : ['runs'], host: o.host, port });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new UserError(`${o.host}:${port} is in use: pick another --port`);
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
          throw new UserError(`--host ${o.host}: not an address of this machine`);
        throw err;
      }
      process.stdout.write(`lbt serve: ${served.url}/ (${served.roots.roots.map((r) => r.label).join(', ')}; Ctrl-C stops)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          served.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
