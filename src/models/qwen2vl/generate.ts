// Autoregressive generation with a KV cache: one prefill over the prompt (images included),
// then one token per step at position cache length + the prompt's rope delta. Greedy or
// sampled (temperature, top-k, top-p) with a seeded RNG; stop tokens; a streaming callback.
import type { Tensor } from '../../tensor/tensor.js';
import { Rng } from '../../util/rng.js';
import type { QwenVL } from './model.js';
import { pickToken } from './sampling.js';
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
        }).f32().then((row) => pickToken(row, o, rng)),
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
