// Greedy generation with a KV cache (what Stage II sampling and evaluation run): the sft suite's
// models with random weights, a prompt of PROMPT tokens, then NEW_TOKENS tokens (no stop token).
// Prefill is the time to the first new token; decode is ms per token after it (each token's
// logits row read back and picked on the host, as `mede2 generate` does).
// tools/bench_generate_torch.py times transformers' generate() on the same shape.
import type { Backend } from '../src/backend/backend.js';
import { generate } from '../src/models/qwen2vl/generate.js';
import { Runtime } from '../src/tensor/runtime.js';
import { Rng } from '../src/util/rng.js';
import { randomModel, sftShapes } from './sft.js';
import type { Row, SuiteOutput } from './suite.js';
import { median } from './timing.js';

export const PROMPT = 512;
export const NEW_TOKENS = 64;
/** Generations per shape after one warm-up; the medians are reported. */
const RUNS = 3;

export async function generateSuite(backend: Backend): Promise<SuiteOutput> {
  const rt = new Runtime(backend);
  const rows: Row[] = [];
  for (const shape of sftShapes(backend)) {
    const model = await randomModel(rt, shape);
    const rng = new Rng(3);
    const inputIds = Int32Array.from({ length: PROMPT }, () => 1 + Math.floor(rng.next() * 110));
    const prefill: number[] = [];
    const decode: number[] = [];
    for (let run = 0; run <= RUNS; run++) {
      const stamps: number[] = [];
      const t0 = performance.now();
      const r = await generate(model, { inputIds, maxNewTokens: NEW_TOKENS, onToken: () => stamps.push(performance.now()) });
      if (r.tokens.length !== NEW_TOKENS) throw new Error(`generate bench: ${r.tokens.length} tokens, expected ${NEW_TOKENS}`);
      if (run === 0) continue; // warm-up: pipelines compiled, buffers pooled
      prefill.push(stamps[0] - t0);
      decode.push((stamps[NEW_TOKENS - 1] - stamps[0]) / (NEW_TOKENS - 1));
    }
    const ms = median(decode);
    rows.push({ model: shape, prompt: PROMPT, new_tokens: NEW_TOKENS, prefill_ms: median(prefill), decode_ms_per_token: ms, decode_tokens_per_s: 1000 / ms });
    model.release();
    backend.trim();
  }
  return { timing: `wall clock, median of ${RUNS} generations after a warm-up one; decode = (last token − first token) / ${NEW_TOKENS - 1}`, rows };
}
