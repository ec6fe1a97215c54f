// The training page end to end, driven as a user would in headless Chromium: `mede2 serve` serves
// the built page, the bundled demo model folder and a small dataset are picked, Stage I runs with
// LoRA in the worker (device auto: with only SwiftShader, a software adapter, that is the wasm
// backend), the chart and stats update, pause holds the run, and the adapter is downloaded. Node
// then loads that adapter on the same base model and gets the page's held-out loss bit for bit
// and its greedy answers; `mede2 sft` with the same options writes the same adapter bytes, and
// the page resumes from the CLI's checkpoint to the same end.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { createBackend } from '../../src/backend/select.js';
import { startServe } from '../../src/cli/serve.js';
import { sft } from '../../src/cli/sft.js';
import type { StaticServer } from '../../src/cli/static_server.js';
import { answerAccuracy, answerCases } from '../../src/eval/answers.js';
import { dirFileSet } from '../../src/io/fileset.js';
import { loadPeftAdapter } from '../../src/models/qwen2vl/adapter.js';
import { loadQwenVL } from '../../src/models/qwen2vl/load.js';
import { Runtime } from '../../src/tensor/runtime.js';
import { Tokenizer } from '../../src/text/index.js';
import { decodeTrainingState, STATE_FILE } from '../../src/train/checkpoint.js';
import { SFT_DEFAULTS } from '../../src/train/options.js';
import { SftTrainer } from '../../src/train/sft.js';
import { imageProcessorFor, readSftDataset } from '../../src/train/stage1.js';
import { ROOT, browserAvailable, launchChromium, screenshot, type Browser } from './harness.js';

const DEMO_MODEL = join(ROOT, 'demo/model');
const STEPS = 4;
/** The run's options as `mede2 sft` flags; the test types them into the form. */
const OPTIONS = { lr: '2e-3', lora: 'r=4,alpha=8', 'max-steps': String(STEPS), 'batch-tokens': '1024', 'grad-accum': '1', 'max-len': '512', 'warmup-ratio': '0', 'save-every': '2', 'eval-every': '2', seed: '3' };
const SAMPLE_TOKENS = 64; // web/session.ts's SAMPLE_TOKENS

interface PageRun {
  evalLoss: number;
  /** The greedy answers to the held-out cases at the last step, in case order. */
  answers: { id: string; text: string }[];
  /** The downloaded adapter's files, by name. */
  adapter: Record<string, Uint8Array>;
}

describe.skipIf(!browserAvailable())('the training page in Chromium', () => {
  let server: StaticServer;
  let browser: Browser;
  let work: string;
  let firstRun: PageRun;

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build.mjs', '--only-web'], { cwd: ROOT, stdio: 'pipe' });
    server = await startServe(['--port', '0']); // the package's dist/web, on 127.0.0.1
    browser = await launchChromium();
    work = mkdtempSync(join(tmpdir(), 'mede2-page-'));
    const lines = readFileSync(join(ROOT, 'demo/data/train.jsonl'), 'utf8').split('\n').filter(Boolean);
    mkdirSync(join(work, 'data'));
    writeFileSync(join(work, 'data/train.jsonl'), lines.slice(0, 8).join('\n') + '\n');
    writeFileSync(join(work, 'data/eval.jsonl'), lines.slice(100, 102).join('\n') + '\n');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** An error naming what went wrong, with the page's own log and the browser console, so a CI failure says where the run stood. */
  async function failure(page: Page, what: string): Promise<Error> {
    const pageLog = await page.textContent('#log', { timeout: 1000 }).catch(() => '(unreadable)');
    return new Error(`${what}\npage #log:\n${pageLog}\nbrowser console:\n${browser.log.join('\n')}`);
  }

  /** Waits for `predicate` in the page; a timeout fails with `what` and the logs (each wait well inside the test's own timeout). */
  async function waitFor(page: Page, what: string, predicate: () => unknown, timeout = 60_000): Promise<void> {
    await page.waitForFunction(predicate, null, { timeout }).catch(async (e: Error) => {
      throw await failure(page, `waiting for ${what}: ${e.message.split('\n')[0]}`);
    });
  }

  /** Loads the page, picks the demo model and data, fills the form, and leaves the run to `drive`. */
  async function setUp(page: Page): Promise<void> {
    await page.goto(server.url);
    await waitFor(page, 'the WebGPU check', () => document.getElementById('backend')!.textContent !== 'checking WebGPU…');
    await page.setInputFiles('#model-input', DEMO_MODEL);
    await page.setInputFiles('#data-input', [join(work, 'data/train.jsonl'), join(work, 'data/eval.jsonl')]);
    expect(await page.inputValue('#train-file')).toBe('train.jsonl');
    expect(await page.inputValue('#eval-file')).toBe('eval.jsonl');
    for (const [name, value] of Object.entries(OPTIONS)) await page.fill(`#options [name="${name}"]`, value);
  }

  /** Waits for the run to finish, then collects the held-out results and downloads the adapter. */
  async function finish(page: Page): Promise<PageRun> {
    // Done (stop disabled again, downloads enabled), or an error shown.
    await waitFor(
      page,
      'the end of the run',
      () => (document.querySelector<HTMLButtonElement>('#stop')!.disabled && !document.querySelector<HTMLButtonElement>('#download-adapter')!.disabled) || document.querySelector('#message.error:not([hidden])'),
      150_000,
    );
    if (await page.isVisible('#message.error')) throw await failure(page, `the run failed: ${await page.textContent('#message')}`);
    expect(await page.textContent('#step')).toBe(`${STEPS} / ${STEPS}`);
    expect(await page.getAttribute('#eval-loss', 'data-step')).toBe(String(STEPS));
    const evalLoss = Number(await page.getAttribute('#eval-loss', 'data-value'));
    const answers = await page.$$eval(`#samples li[data-step="${STEPS}"]`, (lis) => lis.map((li) => ({ id: li.dataset.id!, text: li.querySelector('q')!.textContent! })).reverse());
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-adapter')]);
    expect(download.suggestedFilename()).toBe(`adapter-${STEPS}.zip`);
    const adapter: Record<string, Uint8Array> = {};
    for (const [path, bytes] of Object.entries(unzipSync(readFileSync(await download.path())))) {
      expect(path.startsWith(`adapter-${STEPS}/`), path).toBe(true);
      adapter[path.slice(path.indexOf('/') + 1)] = bytes;
    }
    return { evalLoss, answers, adapter };
  }

  it('trains with LoRA, pauses, charts the loss, and the downloaded adapter reproduces the page in Node', async () => {
    const { page } = browser;
    await setUp(page);
    // The worker reaches WebGPU (SwiftShader here); auto picks wasm over a software adapter, as in Node.
    await page.selectOption('#device', 'webgpu');
    await waitFor(page, 'the SwiftShader adapter', () => document.getElementById('backend')!.textContent!.startsWith('WebGPU · google · swiftshader'));
    await page.selectOption('#device', 'auto');
    await waitFor(page, 'auto to pick wasm', () => document.getElementById('backend')!.textContent!.startsWith('wasm (CPU) · '));
    expect(await page.textContent('#backend')).toMatch(/only a software WebGPU adapter/);
    await page.click('#start');
    await page.click('#pause'); // takes effect at the next step boundary
    await waitFor(page, 'the pause', () => document.getElementById('pause')!.textContent === 'Resume', 90_000);
    const held = await page.textContent('#step');
    await page.waitForTimeout(1500);
    expect(await page.textContent('#step'), 'steps while paused').toBe(held);
    await page.click('#pause');

    // Live: a step shows up in the stats and the chart while the run goes on.
    await waitFor(page, 'a step after resuming', () => /^[1-9]\d* \//.test(document.getElementById('step')!.textContent ?? ''), 90_000);
    await screenshot(page, 'browser-page-training');
    firstRun = await finish(page);
    const points = await page.$$eval('#chart polyline', (ls) => ls.map((l) => l.getAttribute('points')!.trim().split(/\s+/).length));
    expect(points).toEqual([STEPS, STEPS / 2]); // train loss every step, held-out loss at steps 2 and 4
    expect(await page.textContent('#tps')).toMatch(/^\d+$/);
    expect(await page.textContent('#memory')).toMatch(/\d.*B \(peak .*B\)$/);
    expect(firstRun.answers).toHaveLength(2);

    // Node, on the backend the page used: the base model plus the downloaded adapter.
    const adapterDir = join(work, 'adapter');
    mkdirSync(adapterDir);
    for (const [name, bytes] of Object.entries(firstRun.adapter)) writeFileSync(join(adapterDir, name), bytes);
    const { backend } = await createBackend('wasm');
    const rt = new Runtime(backend);
    const model = await loadQwenVL(rt, dirFileSet(DEMO_MODEL), { freeze: { vision: true } });
    await loadPeftAdapter(model, dirFileSet(adapterDir));
    const tokenizer = await Tokenizer.fromFile(DEMO_MODEL);
    const heldOut = await readSftDataset(join(work, 'data/eval.jsonl'), { ...SFT_DEFAULTS, maxLen: 512 }, tokenizer, await imageProcessorFor(dirFileSet(DEMO_MODEL)));
    const trainer = new SftTrainer(model, heldOut.samples, { ...SFT_DEFAULTS, batchTokens: 1024 });
    expect((await trainer.evaluate(heldOut.samples)).loss).toBe(firstRun.evalLoss);
    const { results } = await answerAccuracy(model, tokenizer, answerCases(heldOut.examples).slice(0, 2), { maxNewTokens: SAMPLE_TOKENS });
    expect(results.map((r) => ({ id: r.id, text: r.text }))).toEqual(firstRun.answers);
    trainer.optimizer.dispose();
    model.release();
    backend.destroy();
  }, 420_000);

  it('writes the adapter mede2 sft writes, and resumes from the CLI checkpoint to the same end', async () => {
    if (!firstRun) throw new Error('needs the page run of the test before, which failed');
    const out = join(work, 'cli');
    const flags = Object.entries(OPTIONS).flatMap(([k, v]) => [`--${k}`, v]);
    await sft.run(['--model', DEMO_MODEL, '--data', join(work, 'data/train.jsonl'), '--eval', join(work, 'data/eval.jsonl'), '--out', out, '--device', 'wasm', ...flags]);
    const cliWeights = readFileSync(join(out, `checkpoint-${STEPS}/adapter_model.safetensors`));
    const config = (files: Record<string, Uint8Array>) => ({ ...JSON.parse(new TextDecoder().decode(files['adapter_config.json'])), base_model_name_or_path: null });
    expect(Buffer.from(firstRun.adapter['adapter_model.safetensors']).equals(cliWeights)).toBe(true);
    expect(config(firstRun.adapter)).toEqual(config({ 'adapter_config.json': readFileSync(join(out, `checkpoint-${STEPS}/adapter_config.json`)) }));

    const { page } = browser;
    await setUp(page);
    await page.setInputFiles('#resume-folder-input', join(out, 'checkpoint-2'));
    expect(await page.textContent('#resume-picked')).toMatch(/training_state\.bin/);
    await page.click('#start');
    await waitFor(page, 'the resume from checkpoint-2', () => /resuming after step 2/.test(document.getElementById('log')!.textContent ?? ''), 90_000);
    const resumed = await finish(page);
    expect(Buffer.from(resumed.adapter['adapter_model.safetensors']).equals(cliWeights)).toBe(true);
    expect(resumed.evalLoss).toBe(firstRun.evalLoss);
    expect(resumed.answers).toEqual(firstRun.answers);

    // The checkpoint download: the CLI's checkpoint-4 folder, with the same training state.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-checkpoint')]);
    expect(download.suggestedFilename()).toBe(`checkpoint-${STEPS}.zip`);
    const files = unzipSync(readFileSync(await download.path()));
    const dir = `checkpoint-${STEPS}`;
    expect(Object.keys(files).sort()).toEqual(readdirSync(join(out, dir)).map((f) => `${dir}/${f}`).sort());
    expect(Buffer.from(files[`${dir}/adapter_model.safetensors`]).equals(cliWeights)).toBe(true);
    const pageState = decodeTrainingState(files[`${dir}/${STATE_FILE}`], 'page');
    const cliState = decodeTrainingState(readFileSync(join(out, dir, STATE_FILE)), 'cli');
    expect({ ...pageState, config: null }).toEqual({ ...cliState, config: null }); // config differs only in paths and device
  }, 300_000);

  it('without WebGPU says so and offers wasm; refuses a run that cannot fit, with the estimate; takes dropped files; stops', async () => {
    const noGpu = await launchChromium({ webgpu: false });
    try {
      const { page } = noGpu;
      await page.goto(server.url);
      await page.waitForSelector('#message:not([hidden])', { timeout: 60_000 });
      expect(await page.textContent('#message')).toMatch(/WebGPU is not available.*no adapter[\s\S]*wasm backend/);
      await page.click('#message button');
      expect(await page.inputValue('#device')).toBe('wasm');
      await waitFor(page, 'the wasm backend', () => document.getElementById('backend')!.textContent!.startsWith('wasm (CPU)'));

      await page.setInputFiles('#model-input', DEMO_MODEL);
      // The dataset dropped onto its zone.
      const train = readFileSync(join(work, 'data/train.jsonl'), 'utf8');
      const dropped = await page.evaluateHandle((text) => {
        const dt = new DataTransfer();
        dt.items.add(new File([text], 'train.jsonl'));
        return dt;
      }, train);
      await page.dispatchEvent('#data-drop', 'drop', { dataTransfer: dropped });
      await waitFor(page, 'the dropped dataset', () => document.getElementById('data-picked')!.textContent === '1 files');
      expect(await page.inputValue('#train-file')).toBe('train.jsonl');
      await page.fill('#options [name="batch-tokens"]', '20000000'); // the MLP's activations: 20M tokens × 256 × 4 B ≈ 19 GiB
      await page.click('#start');
      await waitFor(page, 'the does-not-fit message', () => /does not fit/.test(document.getElementById('message')!.textContent ?? ''));
      const text = (await page.textContent('#message'))!;
      const mlp = JSON.parse(readFileSync(join(DEMO_MODEL, 'config.json'), 'utf8')).text_config.intermediate_size;
      expect(text).toContain(`the MLP activations of a packed row (20000000 tokens × ${mlp}, f32) take ${((20_000_000 * mlp * 4) / 2 ** 30).toFixed(2)} GiB, more than this adapter's largest buffer (4.00 GiB)`);
      expect(text).toMatch(/; lower batch tokens to at most \d+\n/); // the exact bound: test/train/footprint.test.ts
      expect(text).toMatch(/Estimate: 0\.6M parameters.*≈ \d/);
      expect(await page.isDisabled('#start')).toBe(false); // the user can change the options and try again

      // Stop: the run ends at the next step boundary with a checkpoint there (full fine-tuning: the whole model).
      await page.fill('#options [name="batch-tokens"]', '1024');
      await page.fill('#options [name="max-len"]', '512');
      await page.fill('#options [name="lora"]', 'none');
      await page.click('#start');
      await page.click('#stop');
      await waitFor(page, 'the stop', () => /stopped after step \d+/.test(document.getElementById('log')!.textContent ?? ''), 90_000);
      const step = /stopped after step (\d+)/.exec((await page.textContent('#log'))!)![1];
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-checkpoint')]);
      expect(download.suggestedFilename()).toBe(`checkpoint-${step}.zip`);
      const files = Object.keys(unzipSync(readFileSync(await download.path()))).sort();
      expect(files).toEqual(['config.json', 'generation_config.json', 'model.safetensors', STATE_FILE].map((f) => `checkpoint-${step}/${f}`));
      expect(await page.isDisabled('#download-adapter')).toBe(true); // no adapter without LoRA
    } finally {
      await noGpu.close();
    }
  }, 300_000);
});
