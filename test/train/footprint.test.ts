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
import { LOGITS_CHUNK_BYTES } from '../../src/tensor/ops/linear_loss.js';
import { estimateSftFootprint, fitProblems } from '../../src/train/footprint.js';
import { DEFAULT_STORED_SCORES_BUDGET } from '../../src/backend/webgpu/kernels/attention.js';

const { backend } = await createBackend('wasm');
const rt = new Runtime(backend);
const MODELS = ['demo/model', 'test/fixtures/qwen_vl/qwen2_vl/model', 'test/fixtures/qwen_vl/qwen2_5_vl/model'];
const config = (dir: string) => parseQwenVLConfig(JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')));
const count = (ts: { size: number }[]) => ts.reduce((n, t) => n + t.size, 0);
/** The Qwen2.5-VL fixture with Qwen's real 152k vocabulary. */
function withQwenVocab() {
  const raw = JSON.parse(readFileSync('test/fixtures/qwen_vl/qwen2_5_vl/model/config.json', 'utf8'));
  return parseQwenVLConfig({ ...raw, text_config: { ...raw.text_config, vocab_size: 151_936 } });
}

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
    const c = config('test/fixtures/qwen_vl/qwen2_5_vl/model'); // vocab 128, hidden 64, MLP 96
    const f = estimateSftFootprint(c, { batchTokens: 8192, freezeVision: true, weightElementBytes: 2 });
    expect(f.largest).toEqual({ what: 'the MLP activations of a packed row (8192 tokens × 96, f32)', bytes: 8192 * 96 * 4 });
    expect(fitProblems(f, { maxBufferBytes: 2 ** 30, maxBindingBytes: 2 ** 22 }, 8192)).toEqual([]);
    expect(fitProblems(f, { maxBufferBytes: 2 ** 30, maxBindingBytes: 2 ** 21 }, 8192)).toEqual([
      "the MLP activations of a packed row (8192 tokens × 96, f32) take 3.0 MiB, more than this adapter's largest buffer (2.0 MiB); lower batch tokens to at most 5461",
    ]);
    const fits = estimateSftFootprint(c, { batchTokens: 5461, freezeVision: true, weightElementBytes: 2 });
    expect(fitProblems(fits, { maxBufferBytes: 2 ** 21, maxBindingBytes: 2 ** 30 }, 5461)).toEqual([]);
    // The logits never are the limit: the loss takes them a chunk of rows at a time.
    const head = estimateSftFootprint(withQwenVocab(), { batchTokens: 2048, freezeVision: true, weightElementBytes: 2 });
    expect(head.largest.what).toBe('the token embeddings (151936 × 64)');
  });

  it("adds one layer's stored attention dS (a causal triangle per head), none where a head exceeds the budget", () => {
    const c = withQwenVocab();
    const opts = { freezeVision: true, weightElementBytes: 2 as const };
    const triangle = (T: number) => {
      const blocks = Math.ceil(T / 64);
      return ((64 * 64 * blocks * (blocks + 1)) / 2) * 4;
    };
    const f = estimateSftFootprint(c, { ...opts, batchTokens: 2048 });
    expect(f.attentionScratchBytes).toBe(c.text.numHeads * triangle(2048));
    expect(f.totalBytes).toBe(f.weightBytes + f.optimizerBytes + f.activationBytes + f.attentionScratchBytes);
    expect(triangle(32768)).toBeGreaterThan(DEFAULT_STORED_SCORES_BUDGET);
    expect(estimateSftFootprint(c, { ...opts, batchTokens: 32768 }).attentionScratchBytes).toBe(0);
  });

  it('counts one chunk of logits and its gradient, not the whole row', () => {
    const c = withQwenVocab();
    const opts = { freezeVision: true, weightElementBytes: 2 as const, lora: { ...DEFAULT_LORA, r: 4 } };
    const rows = Math.floor(LOGITS_CHUNK_BYTES / (151_936 * 4)); // 1766 rows per chunk
    const at = (T: number) => estimateSftFootprint(c, { ...opts, batchTokens: T }).activationBytes;
    const perToken = (at(rows) - 2 * rows * 151_936 * 4) / rows; // the layers' share, linear in tokens
    expect(at(4 * rows) - 4 * rows * perToken).toBe(2 * rows * 151_936 * 4); // logits stop growing past one chunk
  });
});
