// "Identical training in the browser and on a server": the same training, run by Chromium's
// WebGPU and by Node's Dawn on the same SwiftShader driver, gives bit-identical losses and final
// weights (compared as f32 values and as the SHA-256 of their bytes). Two trainings: the MLP of
// test/tensor/mlp.test.ts and Stage I on the tiny Qwen2.5-VL.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStaticServer, type StaticServer } from '../../src/cli/static_server.js';
import { browserAvailable, buildNodeScript, buildTestPage, launchChromium, runNodeOnSwiftShader, type Browser } from './harness.js';
import type { IdentityResult, IdentityResults } from './identity/run.js';

const STEPS = 10;

describe.skipIf(!browserAvailable())('bit-identity: Chromium (WebGPU) vs Node (Dawn), both on SwiftShader', () => {
  let server: StaticServer;
  let browser: Browser;
  let web: IdentityResults;
  let node: IdentityResults;

  // Both sides run at once: each spends most of its time in SwiftShader's shader compiler.
  beforeAll(async () => {
    const [dir, script] = await Promise.all([buildTestPage('identity', 'test/browser/identity/page.ts'), buildNodeScript('identity', 'test/browser/identity/node.ts')]);
    // The page reads the Stage-I fixture from the server, as files a user picked.
    cpSync('test/fixtures/qwen_vl/qwen2_5_vl/model', join(dir, 'fixtures/model'), { recursive: true });
    cpSync('test/fixtures/sft_parity/sft_parity.json', join(dir, 'fixtures/sft_parity.json'));
    server = await startStaticServer(dir);
    browser = await launchChromium();
    await browser.page.goto(server.url);
    await browser.page.waitForFunction(() => 'mede2Identity' in globalThis);
    const inPage = browser.page
      .evaluate((steps) => (globalThis as unknown as { mede2Identity: (steps: number) => Promise<IdentityResults> }).mede2Identity(steps), STEPS)
      .catch((e: Error) => Promise.reject(new Error(`${e.message}\n${browser.log.join('\n')}`)));
    const inNode = runNodeOnSwiftShader(script, [String(STEPS)], 420_000).then((out) => JSON.parse(out.trim().split('\n').pop()!) as IdentityResults);
    [web, node] = await Promise.all([inPage, inNode]);
  }, 480_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  function expectIdentical(w: IdentityResult, n: IdentityResult): void {
    expect(w.adapter).toMatch(/swiftshader/i);
    expect(n.adapter).toMatch(/swiftshader/i);
    expect(w.losses).toHaveLength(STEPS);
    expect(w.losses[STEPS - 1]).toBeLessThan(w.losses[0]); // it trained
    expect(w.losses).toEqual(n.losses);
    expect(w.sha256).toBe(n.sha256);
  }

  it(`MLP: ${STEPS} AdamW steps give the same losses and weights`, () => expectIdentical(web.mlp, node.mlp));

  it(`Stage I: ${STEPS} steps of the tiny Qwen2.5-VL give the same losses and weights`, () => expectIdentical(web.sft, node.sft));
});
