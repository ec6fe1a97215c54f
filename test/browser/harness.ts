// Browser test harness (Node side): bundles test pages with esbuild, serves them from
// 127.0.0.1, drives Debian's Chromium with playwright-core (WebGPU through SwiftShader), and runs
// Node counterparts in a child process on the same SwiftShader driver.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
export const CHROMIUM = '/usr/bin/chromium';
/** The Vulkan ICD of the SwiftShader that Debian's Chromium ships (and uses for WebGPU headless). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Headless Chromium with no network chatter and nothing kept between runs (WebGPU is added by launchChromium). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Whether the browser tests can run. Missing pieces are a failure in CI (`.ci/run` installs
 * Chromium) and a skip, with the reason printed, elsewhere.
 */
export function browserAvailable(): boolean {
  const missing = [CHROMIUM, SWIFTSHADER_ICD].filter((f) => !existsSync(f));
  if (!missing.length) return true;
  const why = `browser tests need Debian's chromium (apt-get install chromium): missing ${missing.join(', ')}`;
  if (process.env.CI) throw new Error(why);
  console.warn(`${why}; skipped`);
  return false;
}

const NODE_BANNER = "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

/** Bundles a test page entry into dist/test/<name>/ with an index.html loading it; returns that folder. */
export async function buildTestPage(name: string, entry: string): Promise<string> {
  const dir = join(ROOT, 'dist/test', name);
  mkdirSync(dir, { recursive: true });
  await build({ entryPoints: { page: entry }, outdir: dir, bundle: true, format: 'esm', platform: 'browser', target: 'es2022', absWorkingDir: ROOT, logLevel: 'warning' });
  writeFileSync(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>${name}</title><script type="module" src="page.js"></script>\n`);
  return dir;
}

/** Bundles a Node script into dist/test/<name>.mjs (inside the package, so `webgpu` resolves); returns its path. */
export async function buildNodeScript(name: string, entry: string): Promise<string> {
  const outfile = join(ROOT, 'dist/test', `${name}.mjs`);
  await build({ entryPoints: [entry], outfile, bundle: true, format: 'esm', platform: 'node', target: 'es2022', external: ['webgpu'], banner: { js: NODE_BANNER }, absWorkingDir: ROOT, logLevel: 'warning' });
  return outfile;
}

/**
 * Runs a Node script in a child process whose Vulkan loader sees only SwiftShader (Dawn picks
 * its driver when the process creates its instance, so the variable must be set at start).
 * Resolves with stdout; rejects with stderr on a non-zero exit or after timeoutMs.
 */
export function runNodeOnSwiftShader(script: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: ROOT,
      env: { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER_ICD, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(out);
      else reject(new Error(`${script} ${args.join(' ')}: ${signal ? `killed (${signal}, limit ${timeoutMs} ms)` : `exit ${code}`}\n${err}`));
    });
  });
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Browser console lines and page errors, for failure messages. */
  log: string[];
  close(): Promise<void>;
}

/**
 * A fresh headless Chromium (own user-data-dir, removed on close) with one page. With webgpu
 * (default) it offers WebGPU through SwiftShader; without, navigator.gpu finds no adapter, as in
 * a browser where WebGPU is unavailable.
 */
export async function launchChromium({ webgpu = true } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'mede2-chromium-'));
  const args = webgpu ? ['--enable-unsafe-webgpu', ...CHROMIUM_ARGS] : CHROMIUM_ARGS;
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args });
  const page = context.pages()[0] ?? (await context.newPage());
  const log: string[] = [];
  page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  return {
    context,
    page,
    log,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot as test-results/<name>.png for a person to look at; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(ROOT, 'test-results', `${name}.png`);
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  return path;
}
