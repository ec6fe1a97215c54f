// `mede2 forward` and `mede2 generate` on the tiny Qwen2.5-VL fixture: the forward CLI reproduces
// transformers' logits, loss and every gradient from the fixture's own io.safetensors (and a padded
// batch), the generate CLI matches the library, and bad input is a clear error.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { forward } from '../../src/cli/forward.js';
import { chatPromptIds, expandImageTokens, generateCommand } from '../../src/cli/generate.js';
import { UsageError } from '../../src/cli/command.js';
import { runCommand } from '../helpers/cli.js';
import { createBackend } from '../../src/backend/select.js';
import { dirFileSet } from '../../src/io/fileset.js';
import { readSafetensors, tensorArray, writeSafetensors, type TensorToWrite } from '../../src/io/safetensors.js';
import { loadPeftAdapter } from '../../src/models/qwen2vl/adapter.js';
import { generate } from '../../src/models/qwen2vl/generate.js';
import { loadQwenVL } from '../../src/models/qwen2vl/load.js';
import { layoutName } from '../../src/models/qwen2vl/names.js';
import { Runtime } from '../../src/tensor/runtime.js';
import { Tokenizer } from '../../src/text/index.js';
import { decode } from '../../src/vision/decode.js';
import { Qwen2VLImageProcessor } from '../../src/vision/qwen2vl.js';
import { maxRelError } from '../helpers/backends.js';

const fixtures = new URL('../fixtures/', import.meta.url).pathname;
const root = `${fixtures}qwen_vl/qwen2_5_vl/`;
const model = `${root}model`;
const ioPath = `${root}io.safetensors`;
const io = readSafetensors(readFileSync(ioPath)).tensors;
const f32 = (k: string) => tensorArray(io.get(k)!) as Float32Array;
const i32 = (k: string) => tensorArray(io.get(k)!) as Int32Array;
const image = `${fixtures}images/jpeg/pil_420_100x75.jpg`;
const temps: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'mede2-cli-'));
  temps.push(d);
  return d;
};
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

const readOut = (path: string) => readSafetensors(readFileSync(path)).tensors;
const i64 = (v: ArrayLike<number>, shape: number[]): TensorToWrite => ({ dtype: 'I64', shape, data: BigInt64Array.from(Array.from(v), BigInt) });

describe('mede2 forward', () => {
  it("reproduces transformers' logits, loss and every gradient from the fixture's io.safetensors", async () => {
    const out = join(tempDir(), 'out.safetensors');
    const lines = await runCommand(forward, ['--model', model, '--inputs', ioPath, '--out', out, '--grads', '--device', 'wasm']);
    const got = readOut(out);
    const T = i32('input_ids').length;
    const refGrads = [...io.keys()].filter((k) => k.startsWith('grad.'));
    expect(lines[0]).toMatch(new RegExp(`^logits \\[1, ${T}, 128\\], loss [\\d.]+, ${refGrads.length} gradients → `));
    expect(got.get('logits')!.shape).toEqual([1, T, 128]);
    const logitsErr = maxRelError(tensorArray(got.get('logits')!) as Float32Array, f32('logits'));
    expect(logitsErr, `logits rel error ${logitsErr}`).toBeLessThanOrEqual(1e-4);
    expect(got.get('loss')!.shape).toEqual([]);
    const loss = (tensorArray(got.get('loss')!) as Float32Array)[0];
    expect(Math.abs(loss - f32('loss')[0]) / f32('loss')[0]).toBeLessThanOrEqual(1e-4);
    expect([...got.keys()].filter((k) => k.startsWith('grad.')).length).toBe(refGrads.length);
    for (const k of refGrads) {
      // The fixture names gradients internally; the CLI uses the checkpoint's own (original) names.
      const name = `grad.${layoutName(k.slice('grad.'.length), 'original')}`;
      expect(got.has(name), name).toBe(true);
      const err = maxRelError(tensorArray(got.get(name)!) as Float32Array, f32(k));
      expect(err, `${name}: rel error ${err}`).toBeLessThanOrEqual(1e-3);
    }
  });

  it('a padded batch (I64, left padding, attention_mask) gives each row its own logits; padding rows are zero', async () => {
    const ids = i32('input_ids');
    const text = i32('text_input_ids');
    const L = ids.length;
    const pad = L - text.length;
    const row0 = [...Array(pad).fill(0), ...text];
    const dir = tempDir();
    writeFileSync(
      join(dir, 'in.safetensors'),
      writeSafetensors({
        input_ids: i64([...row0, ...ids], [2, L]),
        attention_mask: i64([...Array(pad).fill(0), ...Array(text.length + L).fill(1)], [2, L]),
        labels: i64([...Array(L).fill(-100), ...i32('labels')], [2, L]),
        pixel_values: { dtype: 'F32', shape: io.get('pixel_values')!.shape, data: f32('pixel_values') },
        image_grid_thw: i64(i32('image_grid_thw'), io.get('image_grid_thw')!.shape),
      }),
    );
    await runCommand(forward, ['--model', model, '--inputs', join(dir, 'in.safetensors'), '--out', join(dir, 'out.safetensors'), '--device', 'wasm']);
    const got = readOut(join(dir, 'out.safetensors'));
    const logits = tensorArray(got.get('logits')!) as Float32Array;
    const V = 128;
    expect(got.get('logits')!.shape).toEqual([2, L, V]);
    expect(logits.subarray(0, pad * V).every((v) => v === 0)).toBe(true);
    expect(maxRelError(logits.subarray(pad * V, L * V), f32('text_logits'))).toBeLessThanOrEqual(1e-4);
    expect(maxRelError(logits.subarray(L * V), f32('logits'))).toBeLessThanOrEqual(1e-4);
    const loss = (tensorArray(got.get('loss')!) as Float32Array)[0];
    expect(Math.abs(loss - f32('loss')[0]) / f32('loss')[0]).toBeLessThanOrEqual(1e-4);
  });

  it('with --adapter: the LoRA logits, and --grads gives every adapter matrix under its PEFT key', async () => {
    const out = join(tempDir(), 'out.safetensors');
    const adapter = `${fixtures}lora/ours`;
    await runCommand(forward, ['--model', model, '--inputs', ioPath, '--out', out, '--grads', '--adapter', adapter, '--device', 'wasm']);
    const got = readOut(out);
    const adapterKeys = [...readSafetensors(readFileSync(`${adapter}/adapter_model.safetensors`)).tensors.keys()];
    expect([...got.keys()].filter((k) => k.startsWith('grad.')).sort()).toEqual(adapterKeys.map((k) => `grad.${k}`).sort());
    for (const k of adapterKeys) expect(got.get(`grad.${k}`)!.shape).toEqual(readSafetensors(readFileSync(`${adapter}/adapter_model.safetensors`)).tensors.get(k)!.shape);

    const { backend } = await createBackend('wasm');
    const rt = new Runtime(backend);
    const m = await loadQwenVL(rt, dirFileSet(model));
    await loadPeftAdapter(m, dirFileSet(adapter));
    const grids = i32('image_grid_thw');
    const want = await rt.scopeAsync(() =>
      rt.noGrad(() => m.forward({ inputIds: Int32Array.from(i32('input_ids')), pixelValues: rt.tensor(f32('pixel_values'), io.get('pixel_values')!.shape), imageGridThw: [[grids[0], grids[1], grids[2]], [grids[3], grids[4], grids[5]]] }).logits!).f32(),
    );
    expect(tensorArray(got.get('logits')!)).toEqual(want);
    backend.destroy();
  });

  it('bad inputs are clear errors', async () => {
    const dir = tempDir();
    const file = (name: string, t: Record<string, TensorToWrite>) => {
      writeFileSync(join(dir, name), writeSafetensors(t));
      return join(dir, name);
    };
    const go = (inputs: string, ...extra: string[]) => forward.run(['--model', model, '--inputs', inputs, '--out', join(dir, 'o.safetensors'), '--device', 'wasm', ...extra]);
    await expect(go(file('a.safetensors', { ids: i64([1, 2], [1, 2]) }))).rejects.toThrow(/a.safetensors: no input_ids tensor \(found: ids\)/);
    await expect(go(file('b.safetensors', { input_ids: { dtype: 'F32', shape: [1, 2], data: new Float32Array(2) } }))).rejects.toThrow(/input_ids must be I64 or I32/);
    await expect(
      go(file('c.safetensors', { input_ids: i64([0, 1, 2], [1, 3]), attention_mask: i64([0, 1, 1], [1, 3]), labels: i64([5, 1, 2], [1, 3]) })),
    ).rejects.toThrow(/labels\[0\] = 5 sits on padding \(attention_mask 0\); padding must be labelled -100/);
    await expect(go(file('d.safetensors', { input_ids: i64([1, 2, 3], [1, 3]) }), '--grads')).rejects.toThrow(/--grads needs labels/);
    await expect(go(file('e.safetensors', { input_ids: i64([1, 2, 3], [1, 3]), pixel_values: { dtype: 'F32', shape: [1, 1176], data: new Float32Array(1176) } }))).rejects.toThrow(
      /pixel_values and image_grid_thw go together/,
    );
    await expect(forward.run(['--model', model])).rejects.toThrow(UsageError);
  });
});

describe('mede2 generate', () => {
  it('expands one image placeholder per image to its token count; keeps exact runs; rejects the rest', () => {
    expect(Array.from(expandImageTokens([1, 9, 2, 9, 9, 9, 3], 9, [2, 3]))).toEqual([1, 9, 9, 2, 9, 9, 9, 3]);
    expect(() => expandImageTokens([1, 9, 9, 2], 9, [3])).toThrow(/image 0 needs 3 tokens 9 \(or one placeholder to expand\), the prompt has a run of 2/);
    expect(() => expandImageTokens([1, 2], 9, [3])).toThrow(/1 image\(s\) given but the prompt has 0 placeholder run\(s\) of token 9/);
    expect(() => expandImageTokens([9, 1, 9], 9, [1])).toThrow(/more image placeholder runs/);
  });

  it("a text prompt goes through the chat template as one user turn, the image's placeholder expanded", async () => {
    const tk = await Tokenizer.fromFile(`${fixtures}tokenizer/qwen2`);
    const ids = chatPromptIds(tk, 'what is this?', [[1, 4, 6]], 2);
    const text = '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n<|vision_start|>' + '<|image_pad|>'.repeat(6) + '<|vision_end|>what is this?<|im_end|>\n<|im_start|>assistant\n';
    expect(Array.from(ids)).toEqual(Array.from(tk.encode(text, { addSpecialTokens: false }).ids));
    expect(Array.from(ids).filter((i) => i === tk.tokenToId('<|image_pad|>')).length).toBe(6);
  });

  it('prints the ids the library generates, for a text prompt and for an image with one placeholder', async () => {
    const { backend } = await createBackend('wasm');
    const rt = new Runtime(backend);
    const m = await loadQwenVL(rt, dirFileSet(model));
    const prompt = [1, 2, 3, 7, 8];
    const text = await generate(m, { inputIds: Int32Array.from(prompt), maxNewTokens: 8, temperature: 0.8, topK: 20, seed: 4, stopTokens: [151645] });
    expect(await runCommand(generateCommand, ['--model', model, '--prompt-ids', prompt.join(','), '--max-new-tokens', '8', '--temperature', '0.8', '--top-k', '20', '--seed', '4', '--device', 'wasm'])).toEqual([
      `ids: ${text.tokens.join(',')}`,
      'finish: length',
    ]);

    const batch = await Qwen2VLImageProcessor.fromConfig({}).preprocess(await decode(readFileSync(image)));
    const [t, h, w] = batch.imageGridThw[0];
    const withImage = [1, 2, 118, ...Array((t * h * w) / 4).fill(120), 119, 3, 4];
    const pixels = rt.keep(rt.tensor(batch.pixelValues, batch.shape));
    const greedy = await generate(m, { inputIds: Int32Array.from(withImage), pixelValues: pixels, imageGridThw: batch.imageGridThw, maxNewTokens: 6 });
    const lines = await runCommand(generateCommand, ['--model', model, '--image', image, '--prompt-ids', '1,2,118,120,119,3,4', '--max-new-tokens', '6', '--device', 'wasm']);
    expect(lines[0]).toBe(`ids: ${greedy.tokens.join(',')}`);
    pixels.release();
    m.release();
    backend.destroy();
  });

  it('usage errors name what is wrong', async () => {
    await expect(generateCommand.run(['--model', model, '--max-new-tokens', '3'])).rejects.toThrow(/give the prompt as --prompt-ids or as --prompt/);
    await expect(generateCommand.run(['--model', model, '--prompt-ids', '1,x', '--max-new-tokens', '3'])).rejects.toThrow(/--prompt-ids expects comma-separated token ids/);
    await expect(generateCommand.run(['--model', model, '--prompt', 'hi', '--max-new-tokens', '3'])).rejects.toThrow(/--prompt needs \S+\/tokenizer.json; give --prompt-ids instead/);
    await expect(generateCommand.run(['--model', model, '--prompt-ids', '1', '--max-new-tokens', '0', '--device', 'wasm'])).rejects.toThrow(/maxNewTokens must be a positive integer/);
  });
});
