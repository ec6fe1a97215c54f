// Autoregressive generation with a KV cache: one prefill over the prompt (images included),
// then one token per step at position cache length + the prompt's rope delta. Greedy or
// sampled (temperature, top-k, top-p) with a seeded RNG; stop tokens; a streaming callback.
import type { Tensor } from '../../tensor/tensor.js';
import { Rng } from '../../util/rng.js';
import type { QwenVL } from './model.js';
import type { Grid } from './vision.js';

export interface GenerateOptions {
  inputIds: Int32Array;
  pixelValues?: Tensor;
  imageGridThw?: Grid[];
  maxNewTokens: number;
  /** 0 (default) is greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  stopTokens?: number[];
  /** Called with each new token as soon as it is chosen. */
  onToken?: (id: number) => void;
}

export interface GenerateResult {
  tokens: number[];
  finish: 'stop' | 'length';
}

export async function generate(model: QwenVL, o: GenerateOptions): Promise<GenerateResult> {
  const rt = model.rt;
  if (!(Number.isInteger(o.maxNewTokens) && o.maxNewTokens > 0)) throw new Error(`generate: maxNewTokens must be a positive integer, got ${o.maxNewTokens}`);
  if (!o.inputIds.length) throw new Error('generate: empty prompt');
  const rng = new Rng(o.seed ?? 0);
  const stop = new Set(o.stopTokens ?? []);
  const cache = model.newCache(o.inputIds.length + o.maxNewTokens);
  const tokens: number[] = [];
  let finish: GenerateResult['finish'] = 'length';
  const wasTraining = model.training;
  model.training = false; // generation never drops
  try {
    // Appends `ids` (at `positions`) to the cache and picks the token that follows the last of them.
    const step = (ids: Int32Array, positions: Int32Array, pixels?: Tensor, grids?: Grid[]): Promise<number> =>
      rt.scopeAsync(async () =>
        rt.noGrad(() => {
          const h = model.decode(model.embed(ids, pixels, grids), positions, [0, ids.length], cache);
          return rt.ops.linear(rt.ops.slice(h, 0, ids.length - 1, ids.length), model.weight('lm_head.weight'));
        }).f32().then((row) => pick(row, o, rng)),
      );
    const { positions, deltas } = model.positions(o.inputIds, [0, o.inputIds.length], o.imageGridThw);
    let next = await step(o.inputIds, positions, o.pixelValues, o.imageGridThw);
    for (;;) {
      tokens.push(next);
      o.onToken?.(next);
      if (stop.has(next)) {
        finish = 'stop';
        break;
      }
      if (tokens.length === o.maxNewTokens) break;
      const p = cache.length + deltas[0]; // text after the prompt continues from its rope delta
      next = await step(Int32Array.of(next), Int32Array.of(p, p, p));
    }
  } finally {
    model.training = wasTraining;
    for (const l of cache.layers) {
      l.k.release();
      l.v.release();
    }
  }
  return { tokens, finish };
}

/** Chooses the next token from one row of logits. */
function pick(logits: Float32Array, o: GenerateOptions, rng: Rng): number {
  const temperature = o.temperature ?? 0;
  if (temperature <= 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i; // first maximum, as torch.argmax
    return best;
  }
  let ids = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
  if (o.topK && o.topK > 0) ids = ids.slice(0, o.topK);
  const max = logits[ids[0]];
  let probs = ids.map((i) => Math.exp((logits[i] - max) / temperature));
  let sum = probs.reduce((a, b) => a + b, 0);
  if (o.topP !== undefined && o.topP < 1) {
    // Keep the smallest prefix whose mass reaches top-p (always at least one token).
    let mass = 0;
    let keep = 0;
    while (keep < ids.length && (keep === 0 || mass < o.topP * sum)) mass += probs[keep++];
    ids = ids.slice(0, keep);
    probs = probs.slice(0, keep);
    sum = mass;
  }
  let r = rng.next() * sum;
  for (let i = 0; i < ids.length; i++) {
    r -= probs[i];
    if (r <= 0) return ids[i];
  }
  return ids[ids.length - 1];
}
