// One Stage-I training step (forward, backward, clipped AdamW; full fine-tuning, vision frozen)
// of Qwen2.5-VL-shaped models with random weights: tokens/s, ms/step and peak device memory.
// tools/bench_sft_torch.py times the same step in PyTorch eager fp32 on the same shapes.
import type { Backend } from '../src/backend/backend.js';
import type { WebGpuBackend } from '../src/backend/webgpu/backend.js';
import { Runtime } from '../src/tensor/runtime.js';
import { parseQwenVLConfig } from '../src/models/qwen2vl/config.js';
import { QwenVL, expectedNames } from '../src/models/qwen2vl/model.js';
import type { WeightSource } from '../src/io/weights.js';
import { SftTrainer } from '../src/train/sft.js';
import { backward } from '../src/tensor/autograd.js';
import { Rng } from '../src/util/rng.js';
import type { Row, SuiteOutput } from './suite.js';
import { median } from './timing.js';

// Steps timed per shape, after warm-up ones: a training run takes thousands, so what counts is the
// steady state. The tiny step is host-bound, and V8 keeps speeding its recording up for ~150 steps
// (on the H100 machine: 8.7 ms at steps 0–24, 5.8 at 75–99, 3.4 from ~150 on), so it warms up for
// 200. tools/bench_sft_torch.py times the same counts.
/** Text dims of the two sizes, and their warm-up and timed steps; the vision tower is tiny in both (text-only Stage I never runs it). */
export const SFT_SHAPES = {
  tiny: { tokens: 256, warmup: 200, timed: 50, text: { vocab_size: 128, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, mrope: [2, 3, 3] } },
  '0.5B': { tokens: 2048, warmup: 2, timed: 5, text: { vocab_size: 151936, hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, mrope: [8, 12, 12] } },
} as const;

export function benchConfig(shape: keyof typeof SFT_SHAPES): Record<string, unknown> {
  const t = SFT_SHAPES[shape].text;
  return {
    model_type: 'qwen2_5_vl',
    tie_word_embeddings: shape === '0.5B',
    text_config: { ...t, mrope: undefined, rms_norm_eps: 1e-6, rope_parameters: { rope_type: 'default', rope_theta: 1e6, mrope_section: t.mrope } },
    vision_config: { depth: 1, hidden_size: 32, intermediate_size: 64, num_heads: 2, out_hidden_size: t.hidden_size, fullatt_block_indexes: [0] },
    image_token_id: 120,
    video_token_id: 121,
    vision_start_token_id: 118,
    vision_end_token_id: 119,
  };
}

/** Random N(0, 0.02) weights (norm gains 1) for every tensor a config needs, made on demand. */
function randomWeights(config: ReturnType<typeof parseQwenVLConfig>, seed: number): WeightSource {
  const t = config.text;
  const shapes = new Map<string, number[]>();
  for (const name of expectedNames(config)) {
    if (name === 'lm_head.weight' && t.tieWordEmbeddings) continue;
    shapes.set(name, shapeOf(name, config));
  }
  const rng = new Rng(seed);
  return {
    keys: () => [...shapes.keys()],
    async read(key) {
      const shape = shapes.get(key)!;
      const n = shape.reduce((a, b) => a * b, 1);
      const data = /norm|ln_q/.test(key) && key.endsWith('weight') ? new Float32Array(n).fill(1) : rng.normalArray(n, 0.02);
      return { dtype: 'F32', shape, data: new Uint8Array(data.buffer) };
    },
  };
}

function shapeOf(name: string, c: ReturnType<typeof parseQwenVLConfig>): number[] {
  const t = c.text;
  const v = c.vision;
  const H = t.hiddenSize;
  const kv = t.numKvHeads * t.headDim;
  const vis = v.hiddenSize;
  const merged = vis * v.spatialMergeSize ** 2;
  const table: [RegExp, number[]][] = [
    [/embed_tokens\.weight$|lm_head\.weight$/, [t.vocabSize, H]],
    [/language_model\.(norm|layers\.\d+\.(input_layernorm|post_attention_layernorm))\.weight$/, [H]],
    [/q_proj\.weight$/, [H, H]],
    [/q_proj\.bias$/, [H]],
    [/self_attn\.[kv]_proj\.weight$/, [kv, H]],
    [/self_attn\.[kv]_proj\.bias$/, [kv]],
    [/o_proj\.weight$/, [H, H]],
    [/language_model.*(gate|up)_proj\.weight$/, [t.intermediateSize, H]],
    [/language_model.*down_proj\.weight$/, [H, t.intermediateSize]],
    [/patch_embed\.proj\.weight$/, [vis, v.inChannels, v.temporalPatchSize, v.patchSize, v.patchSize]],
    [/blocks\.\d+\.norm[12]\.weight$|merger\.ln_q\.weight$/, [vis]],
    [/attn\.qkv\.weight$/, [3 * vis, vis]],
    [/attn\.qkv\.bias$/, [3 * vis]],
    [/attn\.proj\.weight$/, [vis, vis]],
    [/attn\.proj\.bias$/, [vis]],
    [/blocks.*(gate|up)_proj\.weight$/, [v.intermediateSize, vis]],
    [/blocks.*(gate|up)_proj\.bias$/, [v.intermediateSize]],
    [/blocks.*down_proj\.weight$/, [vis, v.intermediateSize]],
    [/blocks.*down_proj\.bias$/, [vis]],
    [/merger\.mlp\.0\.weight$/, [merged, merged]],
    [/merger\.mlp\.0\.bias$/, [merged]],
    [/merger\.mlp\.2\.weight$/, [v.outHiddenSize, merged]],
    [/merger\.mlp\.2\.bias$/, [v.outHiddenSize]],
  ];
  const hit = table.find(([re]) => re.test(name));
  if (!hit) throw new Error(`bench: no shape rule for ${name}`);
  return hit[1];
}

/** `shape`'s model with random weights (seed 1), vision frozen. */
export async function randomModel(rt: Runtime, shape: keyof typeof SFT_SHAPES): Promise<QwenVL> {
  const config = parseQwenVLConfig(benchConfig(shape), `bench ${shape}`);
  return QwenVL.load(rt, config, randomWeights(config, 1), { freeze: { vision: true } });
}

/**
 * A model with random weights and a trainer over one packed row of `shape`'s token count, its
 * first `promptTokens` a prompt (labels −100: no loss on them, as Stage I trains on answers only).
 */
export async function sftStep(rt: Runtime, shape: keyof typeof SFT_SHAPES, promptTokens = 0): Promise<{ model: QwenVL; trainer: SftTrainer; ids: Int32Array; labels: Int32Array }> {
  const model = await randomModel(rt, shape);
  const config = model.config;
  const T = SFT_SHAPES[shape].tokens;
  const rng = new Rng(2);
  const ids = Int32Array.from({ length: T }, () => 1 + Math.floor(rng.next() * Math.min(config.text.vocabSize - 10, 110)));
  const labels = Int32Array.from(ids, (id, i) => (i < promptTokens ? -100 : id));
  const trainer = new SftTrainer(model, [{ id: 'x', inputIds: ids, labels }], {
    lr: 1e-5, schedule: 'constant', epochs: 1, maxSteps: 1000, batchTokens: T, gradAccum: 1, warmup: { steps: 0 }, weightDecay: 0, maxGradNorm: 1, seed: 0,
  });
  return { model, trainer, ids, labels };
}

/**
 * The steps the sft suite times: each shape with every token labelled, and on a hardware GPU the
 * 0.5B one with the loss on its second half only (a 1024-token prompt before a 1024-token answer).
 * tools/bench_sft_torch.py times the same cases.
 */
function sftCases(backend: Backend): { name: string; shape: keyof typeof SFT_SHAPES; promptTokens: number }[] {
  const cases = sftShapes(backend).map((shape) => ({ name: shape as string, shape, promptTokens: 0 }));
  if (cases.some((c) => c.shape === '0.5B')) cases.push({ name: '0.5B answer-only', shape: '0.5B', promptTokens: SFT_SHAPES['0.5B'].tokens / 2 });
  return cases;
}

/** The shapes a backend runs: both on a hardware GPU, the tiny one elsewhere. */
export function sftShapes(backend: Backend): (keyof typeof SFT_SHAPES)[] {
  return backend.info.kind === 'wasm' || backend.info.software ? ['tiny'] : ['tiny', '0.5B'];
}

export async function sftSuite(backend: Backend): Promise<SuiteOutput> {
  const rt = new Runtime(backend);
  const rows: Row[] = [];
  for (const { name, shape, promptTokens } of sftCases(backend)) {
    const { model, trainer, ids, labels } = await sftStep(rt, shape, promptTokens);
    const T = SFT_SHAPES[shape].tokens;
    const times: number[] = [];
    let peak = 0;
    const { warmup, timed } = SFT_SHAPES[shape];
    for (let i = 0; i < warmup + timed; i++) {
      const t0 = performance.now();
      const r = await trainer.train(); // reads the loss back: the step is complete
      if (i >= warmup) times.push((performance.now() - t0) / 1000);
      peak = Math.max(peak, r.peakBytes);
    }
    // Where a step's time goes: forward, backward and optimizer, each finished with a sync …
    const phase = async (work: () => void): Promise<number> => {
      const t0 = performance.now();
      work();
      await rt.sync();
      return performance.now() - t0;
    };
    // And whole steps recorded without a wait, then the wait for the loss: the host's share
    // (medians over as many steps as were timed).
    const ctx = (backend as Partial<WebGpuBackend>).ctx;
    const before = { dispatches: ctx?.dispatches ?? 0, submits: ctx?.submits ?? 0 };
    const record: number[] = [];
    const wait: number[] = [];
    for (let i = 0; i < timed; i++)
      await rt.scopeAsync(async () => {
        const t0 = performance.now();
        const loss = model.forward({ inputIds: ids, labels, logits: 'none' }).loss!;
        backward(loss);
        trainer.optimizer.step();
        trainer.optimizer.zeroGrad();
        const t1 = performance.now();
        await loss.item();
        record.push(t1 - t0);
        wait.push(performance.now() - t1);
      });
    const dispatches = ctx ? (ctx.dispatches - before.dispatches) / timed : null;
    const submits = ctx ? (ctx.submits - before.submits) / timed : null;
    const phases = await rt.scopeAsync(async () => {
      let loss: ReturnType<typeof model.forward>['loss'] = null;
      const fwd = await phase(() => (loss = model.forward({ inputIds: ids, labels, logits: 'none' }).loss));
      const bwd = await phase(() => backward(loss!));
      const opt = await phase(() => {
        trainer.optimizer.step();
        trainer.optimizer.zeroGrad();
      });
      return { fwd, bwd, opt };
    });
    const s = median(times);
    const params = [...model.params.values()].reduce((n, p) => n + p.size, 0);
    rows.push({ model: name, params, tokens: T, labelled: T - promptTokens, ms_per_step: s * 1000, tokens_per_s: T / s, peak_gib: peak / 2 ** 30, fwd_ms: phases.fwd, bwd_ms: phases.bwd, optimizer_ms: phases.opt, record_ms: median(record), wait_ms: median(wait), dispatches, submits });
    trainer.optimizer.dispose();
    model.release();
    backend.trim();
  }
  return { timing: 'wall clock per training step (loss read back), median of the timed steps after the warm-up ones (tiny: 50 after 200, 0.5B and 0.5B answer-only: 5 after 2); record/wait: medians over as many more steps of host recording and of the wait for the loss', rows };
}
