// The Qwen2 decoder stack: pre-norm blocks of GQA self-attention (q/k/v with bias, M-RoPE,
// causal within each packed sequence) and a SwiGLU MLP, then the final RMSNorm.
import type { Tensor } from '../../tensor/tensor.js';
import type { TextConfig } from './config.js';
import type { Linear } from './vision.js';

/** The linear layers `names` reading the same x as one product: outputs side by side, in the order named. */
export type Linears = (x: Tensor, names: string[]) => Tensor;

export interface TextDeps {
  cfg: TextConfig;
  linear: Linear;
  linears: Linears;
  weight(name: string): Tensor;
}

/** Keys and values of one layer for generation: [capacity, kvHeads, headDim], the first `length` rows filled. */
export interface LayerCache {
  k: Tensor;
  v: Tensor;
}

export interface KvCache {
  layers: LayerCache[];
  length: number;
  capacity: number;
}

const P = 'model.language_model';

/**
 * Layers see at least this many rows (tokens) for q/k/v, and gate/up, to run as one product each:
 * stacking copies the weights, which costs more than it saves when decoding a token or a few.
 * Measured at the ends on an H100 (0.5B shapes): 512-token prefill 34–36 → 30 ms stacked, 2048-token
 * training products 183 → 176 ms; one-token decoding stays unstacked. 64 is a guess between them.
 */
const STACK_MIN_ROWS = 64;

/**
 * hidden [T, H] of packed sequences (cuSeqlens) → final hidden [T, H]. With a cache (one
 * sequence), the new tokens' keys/values are appended and attend to everything before them.
 */
export function textForward(d: TextDeps, hidden: Tensor, cos: Tensor, sin: Tensor, cuSeqlens: number[], cache?: KvCache): Tensor {
  const { cfg } = d;
  const { ops } = hidden.rt;
  const T = hidden.shape[0];
  const [hq, hkv, hd] = [cfg.numHeads, cfg.numKvHeads, cfg.headDim];
  if (cache && cuSeqlens.length !== 2) throw new Error('textForward: a KV cache serves exactly one sequence');
  if (cache && cache.length + T > cache.capacity) throw new Error(`generation: ${cache.length + T} tokens exceed the KV cache capacity ${cache.capacity}`);
  const stack = T >= STACK_MIN_ROWS;
  let h = hidden;
  for (let i = 0; i < cfg.numLayers; i++) {
    const l = `${P}.layers.${i}`;
    const x = ops.rmsNorm(h, d.weight(`${l}.input_layernorm.weight`), cfg.rmsNormEps);
    const [qx, kx, vx] = projections(d, x, ['q_proj', 'k_proj', 'v_proj'].map((p) => `${l}.self_attn.${p}`), stack);
    const q = ops.rope(ops.reshape(qx, [T, hq, hd]), cos, sin);
    let k = ops.rope(ops.reshape(kx, [T, hkv, hd]), cos, sin);
    let v = ops.reshape(vx, [T, hkv, hd]);
    let cuK = cuSeqlens;
    if (cache) {
      const c = cache.layers[i];
      ops.writeRows(c.k, k, cache.length);
      ops.writeRows(c.v, v, cache.length);
      k = c.k;
      v = c.v;
      cuK = [0, cache.length + T];
    }
    const a = ops.attention(q, k, v, { cuSeqlensQ: cuSeqlens, cuSeqlensK: cuK, causal: true, scale: hd ** -0.5 });
    h = d.linear(ops.reshape(a, [T, hq * hd]), `${l}.self_attn.o_proj`, h);
    const y = ops.rmsNorm(h, d.weight(`${l}.post_attention_layernorm.weight`), cfg.rmsNormEps);
    const [gate, up] = [`${l}.mlp.gate_proj`, `${l}.mlp.up_proj`];
    const act = stack ? ops.swigluStacked(d.linears(y, [gate, up])) : ops.swiglu(d.linear(y, gate), d.linear(y, up));
    h = d.linear(act, `${l}.mlp.down_proj`, h);
  }
  if (cache) cache.length += T;
  return ops.rmsNorm(h, d.weight(`${P}.norm.weight`), cfg.rmsNormEps);
}

/** The outputs of linear layers reading the same x: one stacked product cut into parts, or one product each. */
function projections(d: TextDeps, x: Tensor, names: string[], stack: boolean): Tensor[] {
  if (!stack) return names.map((n) => d.linear(x, n));
  const { ops } = x.rt;
  const y = d.linears(x, names);
  let at = 0;
  const parts = names.map((n) => {
    const width = d.weight(`${n}.weight`).shape[0];
    at += width;
    return ops.slice(y, -1, at - width, at);
  });
  y.release(); // the parts are copies
  return parts;
}
