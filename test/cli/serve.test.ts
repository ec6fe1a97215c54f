// `mede2 serve` and its static server: files under one folder by GET/HEAD, nothing else — no
// paths out of the folder, no dotfiles, no listings, no other methods — on 127.0.0.1 by default.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/command.js';
import { startServe } from '../../src/cli/serve.js';
import { startStaticServer, type StaticServer } from '../../src/cli/static_server.js';

/** A raw request (fetch would normalise '..' away before sending it). */
function get(url: string, path: string, method = 'GET'): Promise<{ status: number; type?: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static server', () => {
  let root: string;
  let outside: string;
  let server: StaticServer;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mede2-serve-'));
    outside = mkdtempSync(join(tmpdir(), 'mede2-outside-'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>page</title>');
    writeFileSync(join(root, 'main.js'), 'console.log(1);');
    writeFileSync(join(root, 'weights.safetensors'), 'x');
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, 'sub/index.html'), 'sub page');
    writeFileSync(join(root, '.secret'), 'no');
    writeFileSync(join(outside, 'private.txt'), 'private');
    symlinkSync(join(outside, 'private.txt'), join(root, 'link.txt'));
    server = await startStaticServer(root);
  });

  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 and serves files with their types', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await get(server.url, '/')).toEqual({ status: 200, type: 'text/html; charset=utf-8', body: '<!doctype html><title>page</title>' });
    expect(await get(server.url, '/main.js')).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect(await get(server.url, '/weights.safetensors')).toMatchObject({ status: 200, type: 'application/octet-stream' });
    expect(await get(server.url, '/sub/')).toMatchObject({ status: 200, body: 'sub page' });
    expect(await get(server.url, '/main.js?v=2')).toMatchObject({ status: 200 });
    expect(await get(server.url, '/main.js', 'HEAD')).toMatchObject({ status: 200, body: '' });
  });

  it('refuses what is not a file in the folder', async () => {
    expect((await get(server.url, '/missing.js')).status).toBe(404);
    expect((await get(server.url, '/../' + outside.split('/').pop() + '/private.txt')).status).toBe(403);
    expect((await get(server.url, '/%2e%2e/etc/passwd')).status).toBe(403);
    expect((await get(server.url, '/.secret')).status).toBe(403);
    expect((await get(server.url, '/link.txt')).status).toBe(403); // a symlink out of the folder
    expect((await get(server.url, '/main.js', 'POST')).status).toBe(405);
  });

  it('close() ends the server', async () => {
    const s = await startStaticServer(root);
    await s.close();
    await expect(get(s.url, '/')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('mede2 serve', () => {
  it('serves the page folder given, and rejects bad arguments by name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mede2-web-'));
    writeFileSync(join(dir, 'index.html'), 'the page');
    const server = await startServe(['--port', '0', '--dir', dir]);
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
      expect((await get(server.url, '/')).body).toBe('the page');
    } finally {
      await server.close();
    }
    await expect(startServe(['--port', '70000', '--dir', dir])).rejects.toThrow(UsageError);
    await expect(startServe(['--port', 'x', '--dir', dir])).rejects.toThrow(/--port expects a number/);
    await expect(startServe(['--dir', join(dir, 'nope'), '--port', '0'])).rejects.toThrow(/has no index\.html/);
    rmSync(dir, { recursive: true, force: true });
  });
});
