// LoRA on Qwen2.5-VL: PEFT's init (B = 0: the model is unchanged), LoRA-only training with
// dropout, merging, PEFT adapter files (written as peft writes them, read back bit-exactly, bad
// ones rejected with errors naming file and key), and — with test/fixtures/peft_lora from
// tools/fixtures/peft_lora.py — logits against peft itself for our adapter and for peft's own.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/tensor/runtime.js';
import { backward } from '../../src/tensor/autograd.js';
import { AdamW } from '../../src/optim/adamw.js';
import { blobFileSet, dirFileSet, type FileSet } from '../../src/io/fileset.js';
import { pyFloat, pythonJson } from '../../src/io/py_json.js';
import { readSafetensors, tensorArray, writeSafetensors } from '../../src/io/safetensors.js';
import { loadQwenVL } from '../../src/models/qwen2vl/load.js';
import type { LoadOptions, QwenVL } from '../../src/models/qwen2vl/model.js';
import { generate } from '../../src/models/qwen2vl/generate.js';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, adapterConfigJson, loadPeftAdapter, parseAdapterConfig, peftAdapterFiles, savePeftAdapter } from '../../src/models/qwen2vl/adapter.js';
import type { Grid } from '../../src/models/qwen2vl/vision.js';
import type { LoraConfig } from '../../src/nn/lora.js';
import { maxRelError, testBackends } from '../helpers/backends.js';

const backends = await testBackends();
const fixtures = new URL('../fixtures/', import.meta.url).pathname;
const base = `${fixtures}qwen_vl/qwen2_5_vl/model`;
const t5 = `${fixtures}qwen_vl/qwen2_5_vl/t5`;
const ours = `${fixtures}lora/ours`;
const peftDir = `${fixtures}peft_lora`;
const io = readSafetensors(readFileSync(`${fixtures}qwen_vl/qwen2_5_vl/io.safetensors`)).tensors;
const arr = (k: string) => tensorArray(io.get(k)!);
const ids = Int32Array.from(arr('input_ids') as Int32Array);
const labels = Int32Array.from(arr('labels') as Int32Array);
const pixelData = Float32Array.from(arr('pixel_values') as Float32Array);
const pixelShape = io.get('pixel_values')!.shape;
const gridData = arr('image_grid_thw') as Int32Array;
const grids = Array.from({ length: gridData.length / 3 }, (_, i) => [gridData[3 * i], gridData[3 * i + 1], gridData[3 * i + 2]] as Grid);

const LORA: LoraConfig = { r: 4, alpha: 8, dropout: 0.1, targetModules: ['q_proj', 'v_proj', 'down_proj', 'qkv', 'mlp.0'], useRslora: false };
const temps: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'mede2-lora-'));
  temps.push(d);
  return d;
};
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** An adapter folder in memory: ours with some files replaced (null removes one). */
function oursWith(replace: Record<string, Uint8Array | string | null>): FileSet {
  const files = new Map<string, Blob>();
  for (const name of [ADAPTER_CONFIG, ADAPTER_WEIGHTS]) files.set(name, new Blob([readFileSync(join(ours, name))]));
  for (const [name, v] of Object.entries(replace)) {
    if (v === null) files.delete(name);
    else files.set(name, new Blob([typeof v === 'string' ? v : new Uint8Array(v)]));
  }
  return blobFileSet(files, 'bad-adapter');
}

function oursConfig(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ours, ADAPTER_CONFIG), 'utf8'));
}

function oursTensors(): Map<string, { dtype: 'F32' | 'I32'; shape: number[]; data: Float32Array | Int32Array }> {
  const t = readSafetensors(readFileSync(join(ours, ADAPTER_WEIGHTS))).tensors;
  return new Map([...t].map(([k, v]) => [k, { dtype: 'F32' as const, shape: v.shape, data: Float32Array.from(tensorArray(v) as Float32Array) }]));
}

describe('adapter_config.json as peft writes it', () => {
  it("Python's json.dumps(indent=2, sort_keys=True): floats, ints, ASCII escapes, empty containers", () => {
    expect(pythonJson({ b: pyFloat(0), a: [pyFloat(1e-5), pyFloat(0.05), pyFloat(1e16), pyFloat(123), 7], c: {}, d: [], e: 'café', f: null, g: true })).toBe(
      '{\n  "a": [\n    1e-05,\n    0.05,\n    1e+16,\n    123.0,\n    7\n  ],\n  "b": 0.0,\n  "c": {},\n  "d": [],\n  "e": "caf\\u00e9",\n  "f": null,\n  "g": true\n}',
    );
  });

  it('our config round-trips through the parser; unsupported LoRA variants are refused', () => {
    const json = JSON.parse(adapterConfigJson({ ...LORA, excludeModules: ['model.visual.blocks.0.attn.qkv'], useRslora: true, alpha: 12.5 }, { baseModel: 'Qwen/Qwen2.5-VL-7B-Instruct' }));
    expect(json).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 12.5, lora_dropout: 0.1, use_rslora: true, inference_mode: true, task_type: 'CAUSAL_LM' });
    expect(json.target_modules).toEqual(['down_proj', 'mlp.0', 'q_proj', 'qkv', 'v_proj']);
    expect(parseAdapterConfig(json)).toEqual({ ...LORA, targetModules: json.target_modules, excludeModules: ['model.visual.blocks.0.attn.qkv'], useRslora: true, alpha: 12.5 });
    for (const [field, value, msg] of [
      ['use_dora', true, /use_dora = true is not supported/],
      ['rank_pattern', { q_proj: 8 }, /rank_pattern = \{"q_proj":8\} is not supported/],
      ['bias', 'all', /bias = "all" is not supported/],
      ['modules_to_save', ['lm_head'], /modules_to_save = \["lm_head"\] is not supported/],
      ['peft_type', 'IA3', /peft_type "IA3" is not supported \(only LORA adapters\)/],
      ['r', 0, /r must be a positive integer, got 0/],
      ['lora_dropout', 1, /lora_dropout must be a number in \[0, 1\), got 1/],
      ['target_modules', null, /target_modules is missing/],
      ['target_modules', [3], /target_modules must be a list of module names or a regex string/],
    ] as const)
      expect(() => parseAdapterConfig({ ...json, [field]: value }, 'x/adapter_config.json'), field).toThrow(new RegExp(`^x/adapter_config.json: ${msg.source}`));
  });
});

describe.each(backends)('LoRA on Qwen2.5-VL on $name', ({ backend }) => {
  const rt = new Runtime(backend);
  const load = (opts: LoadOptions = {}, dir = base) => loadQwenVL(rt, dirFileSet(dir), opts);
  const logitsOf = (m: QwenVL) =>
    rt.scopeAsync(() => rt.noGrad(() => m.forward({ inputIds: ids, pixelValues: rt.tensor(pixelData, pixelShape), imageGridThw: grids }).logits!).f32());
  const lossOf = (m: QwenVL) =>
    rt.scopeAsync(() => rt.noGrad(() => m.forward({ inputIds: ids, labels, pixelValues: rt.tensor(pixelData, pixelShape), imageGridThw: grids, logits: 'none' }).loss!).item());

  it("PEFT's init: B = 0, so logits equal the base model's exactly; targets span the LM, the vision blocks and the merger", async () => {
    const plain = await load();
    const lora = await load({ lora: LORA, seed: 3 });
    expect([...lora.lora!.pairs.keys()].filter((m) => m.startsWith('model.visual.')).sort()).toEqual([
      'model.visual.blocks.0.attn.qkv', 'model.visual.blocks.0.mlp.down_proj', 'model.visual.blocks.1.attn.qkv', 'model.visual.blocks.1.mlp.down_proj', 'model.visual.merger.mlp.0',
    ]);
    expect(lora.lora!.pairs.size).toBe(11);
    for (const { a, b } of lora.lora!.pairs.values()) {
      expect((await b.f32()).every((v) => v === 0)).toBe(true);
      expect((await a.f32()).some((v) => v !== 0)).toBe(true);
    }
    expect(await logitsOf(lora)).toEqual(await logitsOf(plain));
    plain.release();
    lora.release();
  });

  it("'all-linear' targets every linear layer but the head; exclude_modules leaves modules out", async () => {
    const m = await load();
    const all = m.loraTargets({ ...LORA, targetModules: 'all-linear' }).map((t) => t.module);
    expect(all.length).toBe(2 * 7 + 2 * 5 + 2); // LM q k v o gate up down; vision qkv proj gate up down; merger mlp.0 mlp.2
    expect(all).not.toContain('lm_head');
    const some = m.loraTargets({ ...LORA, targetModules: ['q_proj', 'down_proj'], excludeModules: ['model.visual.blocks.1.mlp.down_proj', 'layers.0.self_attn.q_proj'] }).map((t) => t.module);
    expect(some.sort()).toEqual(['model.language_model.layers.0.mlp.down_proj', 'model.language_model.layers.1.mlp.down_proj', 'model.language_model.layers.1.self_attn.q_proj', 'model.visual.blocks.0.mlp.down_proj']);
    const regex = m.loraTargets({ ...LORA, targetModules: String.raw`model\.language_model\.layers\.1\..*_proj` }).map((t) => t.module);
    expect(regex.length).toBe(7);
    expect(() => m.loraTargets({ ...LORA, targetModules: ['nothing'] })).toThrow(/target_modules \["nothing"\] match no linear layer/);
    m.release();
  });

  it('LoRA-only training with dropout changes the adapters and nothing else; eval and generation never drop', async () => {
    const m = await load({ lora: LORA, seed: 3, keepPacked: false });
    const before = new Map<string, Float32Array>();
    for (const [name, w] of m.params) before.set(name, await w.f32());
    const evalLoss = await lossOf(m);
    expect(await lossOf(m)).toBe(evalLoss);
    const opt = new AdamW(m.trainable(), { lr: 0.02, weightDecay: 0 });
    expect(opt.params.length).toBe(22);
    m.training = true;
    const trainLosses: number[] = [];
    for (let step = 0; step < 2; step++)
      trainLosses.push(
        await rt.scopeAsync(async () => {
          const r = m.forward({ inputIds: ids, labels, pixelValues: rt.tensor(pixelData, pixelShape), imageGridThw: grids, logits: 'none' });
          backward(r.loss!);
          opt.step();
          opt.zeroGrad();
          return r.loss!.item();
        }),
      );
    // B = 0 at the first step: dropout cannot change the loss yet, only the (zero) branch's gradient path.
    expect(Math.abs(trainLosses[0] - evalLoss) / evalLoss).toBeLessThan(1e-6);
    for (const [name, w] of m.params) {
      expect(w.grad, `${name} has no gradient`).toBeNull();
      expect(await w.f32(), `${name} is unchanged`).toEqual(before.get(name));
    }
    for (const [module, { a, b }] of m.lora!.pairs) {
      expect((await b.f32()).some((v) => v !== 0), `${module} lora_B moved`).toBe(true);
      expect(a.grad).toBeNull();
    }
    // Train mode draws a fresh dropout mask per forward; eval mode is deterministic and mask-free.
    m.training = false;
    const t1 = await lossOf(m);
    m.training = true;
    const d1 = await lossOf(m);
    const d2 = await lossOf(m);
    expect(d1).not.toBe(d2);
    expect(d1).not.toBe(t1);
    const gen = { inputIds: Int32Array.from([1, 2, 3, 7, 8]), maxNewTokens: 6 };
    const sampled = await generate(m, gen);
    expect(m.training).toBe(true);
    m.training = false;
    expect(await lossOf(m)).toBe(t1);
    expect((await generate(m, gen)).tokens).toEqual(sampled.tokens);
    m.release();
  });

  it('merging folds scale·B·A into the weights: merged logits equal the LoRA logits; packed weights are refused', async () => {
    const m = await load({ keepPacked: false });
    await loadPeftAdapter(m, dirFileSet(ours));
    const withLora = await logitsOf(m);
    m.mergeLora();
    expect(m.lora).toBeNull();
    const merged = await logitsOf(m);
    const err = maxRelError(merged, withLora);
    expect(err, `merged vs LoRA logits: rel error ${err}`).toBeLessThanOrEqual(1e-5);
    const plain = await load();
    expect(maxRelError(await logitsOf(plain), withLora), 'the adapter changes the logits').toBeGreaterThan(1e-2);
    plain.release();
    m.release();

    const packed = await load();
    await loadPeftAdapter(packed, dirFileSet(ours));
    expect(() => packed.mergeLora()).toThrow(/^mergeLora: model\.\S+\.weight bf16\[\d+,\d+\] is kept packed as bf16; load the model with keepPacked: false/);
    packed.release();
  });

  it('adapter save → load is bit-exact, and re-saving the committed adapter reproduces its bytes', async () => {
    const m = await load();
    const cfg = await loadPeftAdapter(m, dirFileSet(ours));
    expect(cfg).toEqual({ ...LORA, targetModules: [...(LORA.targetModules as string[])].sort() });
    const files = await peftAdapterFiles(m, { baseModel: 'test/fixtures/qwen_vl/qwen2_5_vl/model' });
    for (const name of [ADAPTER_CONFIG, ADAPTER_WEIGHTS]) expect(Buffer.from(files.get(name)!).equals(readFileSync(join(ours, name))), name).toBe(true);

    const dir = tempDir();
    await savePeftAdapter(m, dir);
    const back = await load({}, t5); // the other weight layout: module names map across
    await loadPeftAdapter(back, dirFileSet(dir));
    for (const [module, { a, b }] of m.lora!.pairs) {
      const p = back.lora!.pairs.get(module)!;
      expect(await p.a.f32()).toEqual(await a.f32());
      expect(await p.b.f32()).toEqual(await b.f32());
    }
    // Saved from the transformers-5-named checkpoint, keys carry transformers 5 module names.
    const keys = [...readSafetensors((await peftAdapterFiles(back)).get(ADAPTER_WEIGHTS)!).tensors.keys()];
    expect(keys).toContain('base_model.model.model.language_model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(keys).toContain('base_model.model.model.visual.merger.mlp.0.lora_B.weight');
    expect(await logitsOf(back)).toEqual(await logitsOf(m));
    m.release();
    back.release();
  });

  it('bad adapter folders are clear errors naming the file and the key', async () => {
    const m = await load();
    const expectError = async (files: FileSet, msg: RegExp) => {
      await expect(loadPeftAdapter(m, files)).rejects.toThrow(msg);
      expect(m.lora).toBeNull();
    };
    const tensors = oursTensors();
    const qA = 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight';
    const without = new Map(tensors);
    without.delete(qA);
    await expectError(oursWith({ [ADAPTER_CONFIG]: null }), /^bad-adapter: no adapter_config.json \(is this a PEFT adapter folder\?\)/);
    await expectError(oursWith({ [ADAPTER_CONFIG]: '{"r": 4,' }), /^bad-adapter\/adapter_config.json: not valid JSON/);
    await expectError(oursWith({ [ADAPTER_CONFIG]: JSON.stringify({ ...oursConfig(), use_dora: true }) }), /^bad-adapter\/adapter_config.json: use_dora = true is not supported/);
    await expectError(oursWith({ [ADAPTER_WEIGHTS]: null, 'adapter_model.bin': 'x' }), /^bad-adapter: no adapter_model.safetensors \(adapter_model.bin is a pickle/);
    await expectError(oursWith({ [ADAPTER_WEIGHTS]: writeSafetensors(without) }), new RegExp(`^bad-adapter/adapter_model.safetensors: missing '${qA.replaceAll('.', '\\.')}'`));
    await expectError(
      oursWith({ [ADAPTER_WEIGHTS]: writeSafetensors(new Map([...tensors, ['base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector', tensors.get(qA)!]])) }),
      /^bad-adapter\/adapter_model.safetensors: unexpected key 'base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector' \(a LoRA adapter holds/,
    );
    await expectError(
      oursWith({ [ADAPTER_WEIGHTS]: writeSafetensors(new Map([...tensors, ['base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight', tensors.get(qA)!]])) }),
      /'base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight' is for 'model.language_model.layers.0.self_attn.k_proj', which is not a linear layer that target_modules/,
    );
    await expectError(
      oursWith({ [ADAPTER_CONFIG]: JSON.stringify({ ...oursConfig(), r: 8 }) }),
      /^bad-adapter\/adapter_model.safetensors: 'base_model.model.model.layers.0.mlp.down_proj.lora_A.weight' has shape \[4,96\], expected \[8,96\] \(r=8 on a \[64, 96\] layer\)/,
    );
    await expectError(
      oursWith({ [ADAPTER_WEIGHTS]: writeSafetensors(new Map([...tensors, [qA, { dtype: 'I32', shape: [4, 64], data: new Int32Array(256) }]])) }),
      /^bad-adapter\/adapter_model.safetensors: weight base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight: dtype I32 is not supported/,
    );
    const whole = readFileSync(join(ours, ADAPTER_WEIGHTS));
    const truncated = whole.subarray(0, whole.length - 100);
    await expectError(oursWith({ [ADAPTER_WEIGHTS]: truncated }), /^bad-adapter\/adapter_model.safetensors: safetensors: truncated/);
    await expectError(oursWith({ [ADAPTER_CONFIG]: JSON.stringify({ ...oursConfig(), target_modules: ['nope'] }) }), /^bad-adapter\/adapter_config.json: LoRA: target_modules \["nope"\] match no linear layer/);
    await loadPeftAdapter(m, dirFileSet(ours));
    await expect(loadPeftAdapter(m, dirFileSet(ours))).rejects.toThrow(/the model already has LoRA adapters attached/);
    m.release();
  });

  describe.skipIf(!existsSync(peftDir))('against peft (test/fixtures/peft_lora from tools/fixtures/peft_lora.py)', () => {
    const ref = existsSync(peftDir) ? readSafetensors(readFileSync(`${peftDir}/logits.safetensors`)) : undefined;

    // peft 0.20 on transformers 5.17 does not map the hub's module names of an adapter by itself
    // (the fixture records why); with transformers' own hub→v5 key_mapping it loads every tensor.
    it('peft loads our adapter (with the hub-to-transformers-5 key mapping) and gives our logits', async () => {
      expect(ref!.metadata.ours_load, 'how peft loaded test/fixtures/lora/ours').toMatch(/^default$|explicit key_mapping/);
      const m = await load();
      await loadPeftAdapter(m, dirFileSet(ours));
      const err = maxRelError(await logitsOf(m), tensorArray(ref!.tensors.get('ours')!) as Float32Array);
      expect(err, `logits vs peft: rel error ${err}`).toBeLessThanOrEqual(1e-4);
      m.release();
    });

    it("an adapter written by peft (transformers 5 names, rsLoRA, exclude_modules) loads here and gives peft's logits", async () => {
      const m = await load();
      const cfg = await loadPeftAdapter(m, dirFileSet(`${peftDir}/peft`));
      expect(cfg).toMatchObject({ r: 4, alpha: 16, useRslora: true, excludeModules: ['model.language_model.layers.0.mlp.up_proj'] });
      expect(m.lora!.pairs.has('model.language_model.layers.0.mlp.up_proj')).toBe(false);
      expect(m.lora!.pairs.has('model.visual.blocks.1.attn.proj')).toBe(true);
      const err = maxRelError(await logitsOf(m), tensorArray(ref!.tensors.get('peft')!) as Float32Array);
      expect(err, `logits vs peft: rel error ${err}`).toBeLessThanOrEqual(1e-4);
      m.release();
    });
  });
});
