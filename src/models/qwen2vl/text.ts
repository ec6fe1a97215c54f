// The Qwen2 decoder stack: pre-norm blocks of GQA self-attention (q/k/v with bias, M-RoPE,
// causal within each packed sequence) and a SwiGLU MLP, then the final RMSNorm.
import type { Tensor } from '../../tensor/tensor.js';
import type { TextConfig } from './config.js';
import type { Linear } from './vision.js';

export interface TextDeps {
  cfg: TextConfig;
  linear: Linear;
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
  let h = hidden;
  for (let i = 0; i < cfg.numLayers; i++) {
    const l = `${P}.layers.${i}`;
    const x = ops.rmsNorm(h, d.weight(`${l}.input_layernorm.weight`), cfg.rmsNormEps);
    const q = ops.rope(ops.reshape(d.linear(x, `${l}.self_attn.q_proj`), [T, hq, hd]), cos, sin);
    let k = ops.rope(ops.reshape(d.linear(x, `${l}.self_attn.k_proj`), [T, hkv, hd]), cos, sin);
    let v = ops.reshape(d.linear(x, `${l}.self_attn.v_proj`), [T, hkv, hd]);
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
    h = ops.add(h, d.linear(ops.reshape(a, [T, hq * hd]), `${l}.self_attn.o_proj`));
    const y = ops.rmsNorm(h, d.weight(`${l}.post_attention_layernorm.weight`), cfg.rmsNormEps);
    const gate = d.linear(y, `${l}.mlp.gate_proj`);
    const up = d.linear(y, `${l}.mlp.up_proj`);
    h = ops.add(h, d.linear(ops.swiglu(gate, up), `${l}.mlp.down_proj`));
  }
  if (cache) cache.length += T;
  return ops.rmsNorm(h, d.weight(`${P}.norm.weight`), cfg.rmsNormEps);
}
