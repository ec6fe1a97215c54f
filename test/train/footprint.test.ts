// The Stage-I memory estimate against real models: parameter and trainable counts exact (both
// Qwen2-VL and Qwen2.5-VL layouts, full and LoRA), weight bytes close to what loading allocates,
// and the limits check naming the buffer that breaks and the batch size that would fit.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { createBackend } from '../../src/backend/select.js';
import { dirFileSet } from '../../src/io/fileset.js';
import { parseQwenVLConfig } from '../../src/models/qwen2vl/config.js';
import { loadQwenVL } from '../../src/models/qwen2vl/load.js';
import { DEFAULT_LORA } from '../../src/nn/lora.js';
import { Runtime } from '../../src/tensor/runtime.js';
import { estimateSftFootprint, fitProblems } from '../../src/train/footprint.js';

const { backend } = await createBackend('wasm');
const rt = new Runtime(backend);
const MODELS = ['demo/model', 'test/fixtures/qwen_vl/qwen2_vl/model', 'test/fixtures/qwen_vl/qwen2_5_vl/model'];
const config = (dir: string) => parseQwenVLConfig(JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')));
const count = (ts: { size: number }[]) => ts.reduce((n, t) => n + t.size, 0);

describe('Stage-I footprint estimate', () => {
  it.each(MODELS)('%s: counts every parameter and what full fine-tuning and LoRA train', async (dir) => {
    const c = config(dir);
    const full = await loadQwenVL(rt, dirFileSet(dir), { freeze: { vision: true } });
    const before = rt.memory().liveBytes;
    const f = estimateSftFootprint(c, { batchTokens: 64, freezeVision: true, weightElementBytes: 2 });
    expect(f.params).toBe(count([...full.params.values()]));
    expect(f.trainableParams).toBe(count(full.trainable()));
    full.release();
    const weights = before - rt.memory().liveBytes;
    expect(Math.abs(f.weightBytes - weights) / weights).toBeLessThan(0.02); // packing pads odd tensors

    const lora = { ...DEFAULT_LORA, r: 4 };
    const adapted = await loadQwenVL(rt, dirFileSet(dir), { freeze: { vision: true }, lora });
    const l = estimateSftFootprint(c, { lora, batchTokens: 64, freezeVision: true, weightElementBytes: 2 });
    expect(l.trainableParams).toBe(count(adapted.trainable()));
    expect(l.optimizerBytes).toBe(12 * l.trainableParams);
    adapted.release();
  });

  it('names the buffer over the adapter limit and the batch that would fit', () => {
    const c = config('test/fixtures/qwen_vl/qwen2_5_vl/model'); // vocab 128
    const f = estimateSftFootprint(c, { batchTokens: 8192, freezeVision: true, weightElementBytes: 2 });
    expect(f.largest).toEqual({ what: 'the logits of a packed row (8192 tokens × 128 vocab, f32)', bytes: 8192 * 128 * 4 });
    expect(fitProblems(f, { maxBufferBytes: 2 ** 30, maxBindingBytes: 2 ** 22 }, 8192)).toEqual([]);
    expect(fitProblems(f, { maxBufferBytes: 2 ** 30, maxBindingBytes: 2 ** 21 }, 8192)).toEqual([
      "the logits of a packed row (8192 tokens × 128 vocab, f32) take 4.0 MiB, more than this adapter's largest buffer (2.0 MiB); lower batch tokens to at most 4096",
    ]);
    const fits = estimateSftFootprint(c, { batchTokens: 4096, freezeVision: true, weightElementBytes: 2 });
    expect(fitProblems(fits, { maxBufferBytes: 2 ** 21, maxBindingBytes: 2 ** 30 }, 4096)).toEqual([]);
  });
});
