// "Identical training in the browser and on a server": the same training, run by Chromium's
// WebGPU and by Node's Dawn on the same SwiftShader driver, gives bit-identical losses and final
// weights (compared as f32 values and as the SHA-256 of their bytes).
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStaticServer, type StaticServer } from '../../src/cli/static_server.js';
import { browserAvailable, buildNodeScript, buildTestPage, launchChromium, runNodeOnSwiftShader, type Browser } from './harness.js';
import type { IdentityResult } from './identity/run.js';

const STEPS = 10;

describe.skipIf(!browserAvailable())('bit-identity: Chromium (WebGPU) vs Node (Dawn), both on SwiftShader', () => {
  let server: StaticServer;
  let browser: Browser;
  let nodeScript: string;

  beforeAll(async () => {
    const [dir, script] = await Promise.all([buildTestPage('identity', 'test/browser/identity/page.ts'), buildNodeScript('identity', 'test/browser/identity/node.ts')]);
    nodeScript = script;
    // The page reads the Stage-I fixture from the server, as files a user picked.
    cpSync('test/fixtures/qwen_vl/qwen2_5_vl/model', join(dir, 'fixtures/model'), { recursive: true });
    cpSync('test/fixtures/sft_parity/sft_parity.json', join(dir, 'fixtures/sft_parity.json'));
    server = await startStaticServer(dir);
    browser = await launchChromium();
    await browser.page.goto(server.url);
    await browser.page.waitForFunction(() => 'mede2Identity' in globalThis);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Runs `which` in the page and in Node at once (they share the 2 cores, but each waits on its GPU). */
  async function both(which: string): Promise<[IdentityResult, IdentityResult]> {
    const page = browser.page
      .evaluate(([w, s]) => (globalThis as unknown as { mede2Identity: Record<string, (steps: number) => Promise<IdentityResult>> }).mede2Identity[w](s), [which, STEPS] as const)
      .catch((e: Error) => Promise.reject(new Error(`${e.message}\n${browser.log.join('\n')}`)));
    const node = runNodeOnSwiftShader(nodeScript, [which, String(STEPS)], 240_000).then((out) => JSON.parse(out.trim().split('\n').pop()!) as IdentityResult);
    return Promise.all([page, node]);
  }

  it(`MLP: ${STEPS} AdamW steps give the same losses and weights`, async () => {
    const [web, node] = await both('mlp');
    expect(web.adapter).toMatch(/swiftshader/i);
    expect(node.adapter).toMatch(/swiftshader/i);
    expect(web.losses).toHaveLength(STEPS);
    expect(web.losses[STEPS - 1]).toBeLessThan(web.losses[0]); // it trained
    expect(web.losses).toEqual(node.losses);
    expect(web.sha256).toBe(node.sha256);
  });

  it(`Stage I: ${STEPS} steps of the tiny Qwen2.5-VL give the same losses and weights`, async () => {
    const [web, node] = await both('sft');
    expect(web.adapter).toMatch(/swiftshader/i);
    expect(node.adapter).toMatch(/swiftshader/i);
    expect(web.losses).toHaveLength(STEPS);
    expect(web.losses[STEPS - 1]).toBeLessThan(web.losses[0]);
    expect(web.losses).toEqual(node.losses);
    expect(web.sha256).toBe(node.sha256);
  });
});
