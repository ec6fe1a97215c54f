// Full-weight checkpoints: what we write is what transformers writes (the sharded fixture is
// reproduced byte for byte), loads back bit-exactly in every dtype, keeps the checkpoint's own
// layout, and leaves no stale shards behind.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/tensor/runtime.js';
import { dirFileSet } from '../../src/io/fileset.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { f32ToBf16Bits, f32ToF16Bits, bf16BitsToF32, f16BitsToF32 } from '../../src/tensor/dtype.js';
import { loadQwenVL } from '../../src/models/qwen2vl/load.js';
import type { LoadOptions, QwenVL } from '../../src/models/qwen2vl/model.js';
import { loadPeftAdapter } from '../../src/models/qwen2vl/adapter.js';
import { configWithDtype, planShards, saveQwenVL } from '../../src/models/qwen2vl/save.js';
import { testBackends } from '../helpers/backends.js';

const backends = await testBackends();
const fixtures = new URL('../fixtures/', import.meta.url).pathname;
const root = `${fixtures}qwen_vl/qwen2_5_vl/`;
const temps: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'mede2-save-'));
  temps.push(d);
  return d;
};
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('planShards (huggingface_hub split_state_dict_into_shards)', () => {
  it('fills shards in order, starts a new one before the limit is passed, and gives an oversized tensor its own', () => {
    const t = (key: string, bytes: number) => ({ key, bytes });
    expect(planShards([t('a', 6), t('b', 6), t('c', 2), t('d', 6), t('e', 2), t('f', 2)], 10)).toEqual([['a'], ['b', 'c'], ['d', 'e', 'f']]);
    expect(planShards([t('a', 3), t('big', 20), t('b', 3)], 10)).toEqual([['big'], ['a', 'b']]);
    expect(planShards([t('a', 3)], 10)).toEqual([['a']]);
  });
});

describe('configWithDtype', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);
  it('names the saved dtype in every dtype / torch_dtype entry, top level and nested, and changes nothing else', () => {
    const hub = '{\n  "rope_theta": 1000000.0,\n  "torch_dtype": "bfloat16",\n  "vision_config": {\n    "torch_dtype": "float32"\n  }\n}\n';
    expect(dec(configWithDtype(enc(hub), 'f32'))).toBe(hub.replace('"torch_dtype": "bfloat16"', '"torch_dtype": "float32"'));
    const v5 = readFileSync(`${root}sharded/config.json`, 'utf8');
    const out = dec(configWithDtype(enc(v5), 'f16'));
    expect(out).toBe(v5.replaceAll('"dtype": "bfloat16"', '"dtype": "float16"'));
    expect(out.match(/"dtype": "float16"/g)).toHaveLength(3);
    const same = enc(v5);
    expect(configWithDtype(same, 'bf16')).toBe(same); // already right: the very bytes
  });
});

describe.each(backends)('saving Qwen2.5-VL weights on $name', ({ backend }) => {
  const rt = new Runtime(backend);
  const load = (dir: string, opts: LoadOptions = {}) => loadQwenVL(rt, dirFileSet(dir), opts);

  it("reproduces transformers' sharded save byte for byte: shards, index and config", async () => {
    const m = await load(`${root}sharded`);
    const dir = tempDir();
    await saveQwenVL(m, dir, { configFrom: dirFileSet(`${root}sharded`), dtype: 'bf16', maxShardBytes: 150_000 }); // transformers' "150KB"
    const want = readdirSync(`${root}sharded`).sort();
    expect(readdirSync(dir).sort()).toEqual(want);
    for (const f of want) expect(readFileSync(join(dir, f)).equals(readFileSync(`${root}sharded/${f}`)), f).toBe(true);
    m.release();
  });

  it('f32, bf16 and f16 saves load back exactly (values rounded to nearest even where narrowed), in the original layout', async () => {
    // Merging an adapter gives weights that bf16 cannot hold, so the rounding is exercised.
    const m = await load(`${root}model`, { keepPacked: false });
    await loadPeftAdapter(m, dirFileSet(`${fixtures}lora/ours`));
    m.mergeLora();
    const values = new Map<string, Float32Array>();
    for (const [name, w] of m.params) values.set(name, await w.f32());
    const qkv = values.get('model.visual.blocks.0.attn.qkv.weight')!;
    expect(qkv.some((v) => bf16BitsToF32(f32ToBf16Bits(v)) !== v)).toBe(true);
    const round = { f32: (v: number) => v, bf16: (v: number) => bf16BitsToF32(f32ToBf16Bits(v)), f16: (v: number) => f16BitsToF32(f32ToF16Bits(v)) };
    for (const dtype of ['f32', 'bf16', 'f16'] as const) {
      const dir = tempDir();
      await saveQwenVL(m, dir, { configFrom: dirFileSet(`${root}model`), dtype });
      expect(readdirSync(dir).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors']);
      // config.json: the source's bytes with its dtype naming what was saved (transformers loads in that dtype by default).
      const torchName = { f32: 'float32', bf16: 'bfloat16', f16: 'float16' }[dtype];
      const source = readFileSync(`${root}model/config.json`, 'utf8');
      expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe(source.replace('"dtype": "bfloat16"', `"dtype": "${torchName}"`));
      const file = readSafetensors(readFileSync(join(dir, 'model.safetensors')));
      expect(file.metadata).toEqual({ format: 'pt' });
      expect(file.tensors.has('model.layers.0.self_attn.q_proj.weight') && file.tensors.has('visual.merger.mlp.0.weight')).toBe(true);
      expect(new Set([...file.tensors.values()].map((t) => t.dtype))).toEqual(new Set([{ f32: 'F32', bf16: 'BF16', f16: 'F16' }[dtype]]));
      const back = await load(dir, { keepPacked: false });
      expect(back.layout).toBe('original');
      expect([...back.params.keys()].sort()).toEqual([...values.keys()].sort());
      for (const [name, w] of back.params) expect(await w.f32(), `${name} as ${dtype}`).toEqual(Float32Array.from(values.get(name)!, round[dtype]));
      back.release();
    }
    m.release();
  });

  it('keeps the transformers 5 layout of a checkpoint that has it; packed bf16 weights are written as they are', async () => {
    const m = await load(`${root}t5`);
    const dir = tempDir();
    await saveQwenVL(m, dir, { configFrom: dirFileSet(`${root}t5`) });
    const mine = readSafetensors(readFileSync(join(dir, 'model.safetensors'))).tensors;
    const theirs = readSafetensors(readFileSync(`${root}t5/model.safetensors`)).tensors;
    expect([...mine.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [k, t] of theirs) expect(Buffer.from(mine.get(k)!.data).equals(Buffer.from(t.data)), k).toBe(true);
    m.release();
  });

  it('a re-save with another shard size leaves no stale shards or index; errors are clear', async () => {
    const m = await load(`${root}model`);
    const dir = tempDir();
    writeFileSync(join(dir, 'model-00001-of-00009.safetensors'), 'stale');
    await saveQwenVL(m, dir, { configFrom: dirFileSet(`${root}model`), maxShardBytes: 100_000 });
    const sharded = readdirSync(dir).sort();
    expect(sharded.filter((f) => f.startsWith('model-'))).toEqual(['model-00001-of-00004.safetensors', 'model-00002-of-00004.safetensors', 'model-00003-of-00004.safetensors', 'model-00004-of-00004.safetensors']);
    expect(sharded).toContain('model.safetensors.index.json');
    await saveQwenVL(m, dir, { configFrom: dirFileSet(`${root}model`) });
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors']);

    await expect(saveQwenVL(m, dir, { configFrom: dirFileSet(tempDir()) })).rejects.toThrow(/saveQwenVL: \S+ has no config.json to copy/);
    await expect(saveQwenVL(m, dir, { configFrom: dirFileSet(`${root}model`), maxShardBytes: 0 })).rejects.toThrow(/maxShardBytes must be a positive integer/);
    await loadPeftAdapter(m, dirFileSet(`${fixtures}lora/ours`));
    await expect(saveQwenVL(m, dir, { configFrom: dirFileSet(`${root}model`) })).rejects.toThrow(/LoRA adapters are attached; merge them into the weights first \(mergeLora\) or save them as a PEFT adapter/);
    m.release();
  });

  it('a merged model saved and reloaded computes what the LoRA model did', async () => {
    const inputs = { inputIds: Int32Array.from([1, 2, 3, 7, 8, 9, 10]) };
    const logits = (x: QwenVL) => rt.scopeAsync(() => rt.noGrad(() => x.forward(inputs).logits!).f32());
    const m = await load(`${root}model`, { keepPacked: false });
    await loadPeftAdapter(m, dirFileSet(`${fixtures}lora/ours`));
    const want = await logits(m);
    m.mergeLora();
    const dir = tempDir();
    await saveQwenVL(m, dir, { configFrom: dirFileSet(`${root}model`), dtype: 'f32' });
    const back = await load(dir);
    expect(await logits(back)).toEqual(await logits(m));
    const err = Math.max(...(await logits(back)).map((v, i) => Math.abs(v - want[i]))) / Math.max(...want.map(Math.abs));
    expect(err).toBeLessThanOrEqual(1e-5);
    back.release();
    m.release();
  });
});
