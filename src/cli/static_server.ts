// A small static file server for the web page (`mede2 serve`) and the browser tests: GET/HEAD
// of files under one folder, nothing else. Bounded: paths cannot leave the folder (no `..`, no
// dotfiles, no symlinks out), no directory listings, a connection cap and request timeouts,
// and close() ends open connections too, so a test never leaves a server behind.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/jsonl; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticServerOptions {
  /** Interface to listen on; 127.0.0.1 unless a caller asks otherwise. */
  host?: string;
  /** 0: any free port. */
  port?: number;
  /** Called once per request with its method, path and status (for `mede2 serve --verbose`). */
  log?: (line: string) => void;
}

export interface StaticServer {
  /** e.g. http://127.0.0.1:8080/ */
  readonly url: string;
  close(): Promise<void>;
}

/** The file a URL path names under root, or a status code when there is none to serve. */
async function resolveFile(root: string, urlPath: string): Promise<string | 403 | 404> {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return 404;
  }
  const parts = path.split('/').filter(Boolean);
  if (parts.some((p) => p === '..' || p.startsWith('.') || p.includes('\\') || p.includes('\0'))) return 403;
  let file = join(root, ...parts);
  try {
    if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
    const real = await realpath(file);
    if (real !== root && !real.startsWith(root + sep)) return 403;
    return (await stat(real)).isFile() ? real : 404;
  } catch {
    return 404;
  }
}

/** Serves root's files on host:port until close(). */
export async function startStaticServer(root: string, options: StaticServerOptions = {}): Promise<StaticServer> {
  const base = await realpath(root).catch(() => {
    throw new Error(`serve: folder ${root} does not exist (build the page first: npm run build)`);
  });
  if (!(await stat(base)).isDirectory()) throw new Error(`serve: ${root} is not a folder`);
  const host = options.host ?? '127.0.0.1';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const done = (status: number, text?: string) => {
      options.log?.(`${req.method} ${req.url} ${status}`);
      if (text === undefined) return;
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return done(405, 'method not allowed\n');
    }
    const file = await resolveFile(base, req.url ?? '/');
    if (file === 403) return done(403, 'forbidden\n');
    if (file === 404) return done(404, 'not found\n');
    const { size } = await stat(file);
    res.writeHead(200, {
      'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': size,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    done(200);
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.maxConnections = 64;
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === 'EADDRINUSE' ? `serve: port ${options.port} on ${host} is in use; pick another with --port` : `serve: ${e.message}`)),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : options.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
