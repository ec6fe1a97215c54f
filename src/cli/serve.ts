// `mede2 serve`: serves the training page (dist/web) on 127.0.0.1 until Ctrl-C. WebGPU needs a
// secure context, which loopback addresses are; another --host exposes the page to the network
// and, unless it is served over HTTPS by a proxy, browsers there will not offer WebGPU.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { numberOption, parseCommandArgs } from './args.js';
import { startStaticServer, type StaticServer } from './static_server.js';

/** dist/web of the installed package: the folder above this module that holds mede2's package.json. */
function defaultWebDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'mede2') return join(dir, 'dist', 'web');
    if (dirname(dir) === dir) throw new Error('serve: cannot find the mede2 package folder; pass the page folder with --dir');
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export const serve: Command = {
  name: 'serve',
  summary: 'serve the training web page (dist/web) on 127.0.0.1',
  usage: [
    'usage: mede2 serve [--port 8080] [--host 127.0.0.1] [--dir DIR] [--verbose]',
    '',
    '  --port     port to listen on (8080; 0 picks a free one)',
    '  --host     interface (127.0.0.1); anything but loopback exposes the page to the network',
    '  --dir      folder to serve (the built page, dist/web of this package)',
    '  --verbose  log each request',
  ].join('\n'),
  async run(argv) {
    const server = await startServe(argv);
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    await server.close();
  },
};

/** Parses serve's arguments and starts the server (run() then waits for Ctrl-C); exported for tests. */
export async function startServe(argv: string[]): Promise<StaticServer> {
  const { values, positionals } = parseCommandArgs(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    dir: { type: 'string' },
    verbose: { type: 'boolean' },
  });
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const port = numberOption('port', values.port, 8080)!;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port expects an integer in [0, 65535], got '${values.port}'`);
  const host = values.host ?? '127.0.0.1';
  const dir = resolve(values.dir ?? defaultWebDir());
  if (!existsSync(join(dir, 'index.html'))) throw new Error(`serve: ${dir} has no index.html (build the page with npm run build, or pass --dir)`);
  const server = await startStaticServer(dir, { host, port, log: values.verbose ? (l) => console.log(l) : undefined });
  if (!LOOPBACK.test(host)) console.warn(`serve: listening on ${host}, reachable from the network; browsers offer WebGPU only on https or loopback pages`);
  console.log(`serving ${dir} at ${server.url} (Ctrl-C to stop)`);
  return server;
}
