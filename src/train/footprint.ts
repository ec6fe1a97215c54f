// Device-memory estimate of Stage-I training, from config.json and the options alone (before a
// byte of weights is loaded), and the adapter limits it would break. Weights: frozen matrices
// stay packed in their 16-bit dtype, trainable ones are f32 with a gradient and two AdamW
// moments. Activations: what the backward pass keeps per token and layer, plus one chunk of
// logits and their gradient (the LM-head loss runs over chunks of rows, see
// tensor/ops/linear_loss.ts) and the head's weight gradient, which that loss takes early.
// Attention scratch: the dS a WebGPU attention backward stores for one layer at a time (the
// language model's causal row; the vision tower's windows are small), within its budget.
import type { BackendInfo } from '../backend/backend.js';
import type { QwenVLConfig } from '../models/qwen2vl/config.js';
import { isLoraTarget, type LoraConfig } from '../nn/lora.js';
import { storedScoresBytes } from '../backend/webgpu/kernels/attention.js';
import { logitsChunkRows } from '../tensor/ops/linear_loss.js';
import { fmtBytes } from '../util/format.js';

export interface FootprintOptions {
  /** LoRA adapters; absent: full fine-tuning of the language model. */
  lora?: LoraConfig;
  /** Tokens in one packed row (one forward/backward). */
  batchTokens: number;
  /** Vision tower frozen (Stage I default). */
  freezeVision: boolean;
  /** Bytes per element of the checkpoint's 16/32-bit weights (2 for bf16/f16, 4 for f32). */
  weightElementBytes: 2 | 4;
}

export interface Footprint {
  params: number;
  trainableParams: number;
  /** Weights as kept on the device. */
  weightBytes: number;
  /** Trainable parameters' gradients and AdamW moments. */
  optimizerBytes: number;
  /** Kept for the backward pass of one packed row, logits included. */
  activationBytes: number;
  /** Held during one layer's attention backward: its stored dS (WebGPU). */
  attentionScratchBytes: number;
  totalBytes: number;
  /** The single largest buffer, which must fit one storage binding. */
  largest: { what: string; bytes: number };
}

interface Matrix {
  /** Module name as transformers 5 names it (what LoRA target patterns match). */
  module: string;
  out: number;
  in: number;
  bias: boolean;
  /** Frozen with the vision tower. */
  vision: boolean;
}

/** The linear layers of the model, by module name and shape. */
function linears(c: QwenVLConfig): Matrix[] {
  const t = c.text;
  const v = c.vision;
  const out: Matrix[] = [];
  const add = (module: string, o: number, i: number, bias: boolean, vision: boolean) => out.push({ module, out: o, in: i, bias, vision });
  for (let l = 0; l < t.numLayers; l++) {
    const p = `model.language_model.layers.${l}`;
    add(`${p}.self_attn.q_proj`, t.numHeads * t.headDim, t.hiddenSize, true, false);
    add(`${p}.self_attn.k_proj`, t.numKvHeads * t.headDim, t.hiddenSize, true, false);
    add(`${p}.self_attn.v_proj`, t.numKvHeads * t.headDim, t.hiddenSize, true, false);
    add(`${p}.self_attn.o_proj`, t.hiddenSize, t.numHeads * t.headDim, false, false);
    add(`${p}.mlp.gate_proj`, t.intermediateSize, t.hiddenSize, false, false);
    add(`${p}.mlp.up_proj`, t.intermediateSize, t.hiddenSize, false, false);
    add(`${p}.mlp.down_proj`, t.hiddenSize, t.intermediateSize, false, false);
  }
  const gated = c.kind === 'qwen2_5_vl';
  for (let b = 0; b < v.depth; b++) {
    const p = `model.visual.blocks.${b}`;
    add(`${p}.attn.qkv`, 3 * v.hiddenSize, v.hiddenSize, true, true);
    add(`${p}.attn.proj`, v.hiddenSize, v.hiddenSize, true, true);
    if (gated) {
      add(`${p}.mlp.gate_proj`, v.intermediateSize, v.hiddenSize, true, true);
      add(`${p}.mlp.up_proj`, v.intermediateSize, v.hiddenSize, true, true);
      add(`${p}.mlp.down_proj`, v.hiddenSize, v.intermediateSize, true, true);
    } else {
      add(`${p}.mlp.fc1`, v.intermediateSize, v.hiddenSize, true, true);
      add(`${p}.mlp.fc2`, v.hiddenSize, v.intermediateSize, true, true);
    }
  }
  // The merger trains with the language model (the model freezes it only when asked to).
  const merged = v.hiddenSize * v.spatialMergeSize ** 2;
  add('model.visual.merger.mlp.0', merged, merged, true, false);
  add('model.visual.merger.mlp.2', v.outHiddenSize, merged, true, false);
  return out;
}

export function estimateSftFootprint(c: QwenVLConfig, o: FootprintOptions): Footprint {
  const t = c.text;
  const v = c.vision;
  const w = o.weightElementBytes;
  let params = 0;
  let frozen16 = 0; // elements kept packed (frozen matrices)
  let f32 = 0; // elements kept as f32 (trainable weights, vectors)
  let trainable = 0;
  const weight = (n: number, isMatrix: boolean, train: boolean) => {
    params += n;
    if (train) trainable += n;
    if (train || !isMatrix || w === 4) f32 += n;
    else frozen16 += n;
  };
  const fullText = !o.lora;
  const fullVision = !o.lora && !o.freezeVision;
  for (const m of linears(c)) {
    const train = m.vision ? fullVision : fullText;
    weight(m.out * m.in, true, train);
    if (m.bias) weight(m.out, false, train);
    if (o.lora && isLoraTarget(m.module, o.lora)) {
      const n = o.lora.r * (m.in + m.out);
      trainable += n;
      f32 += n;
    }
  }
  const embed = t.vocabSize * t.hiddenSize;
  weight(embed, true, fullText);
  if (!t.tieWordEmbeddings) weight(embed, true, fullText);
  weight(t.hiddenSize * (2 * t.numLayers + 1), false, fullText); // RMSNorm weights
  weight(v.hiddenSize * v.inChannels * v.temporalPatchSize * v.patchSize ** 2, true, fullVision); // patch embedding
  const normParams = c.kind === 'qwen2_vl' ? 2 : 1; // Qwen2-VL's vision norms are LayerNorms, with biases
  weight(v.hiddenSize * 2 * v.depth * normParams, false, fullVision); // norm1, norm2 of each block
  weight(v.hiddenSize * normParams, false, fullText); // the merger's ln_q

  const T = o.batchTokens;
  const attn = (t.numHeads + 2 * t.numKvHeads) * t.headDim + t.numHeads * t.headDim;
  const perTokenLayer = 6 * t.hiddenSize + attn + 4 * t.intermediateSize;
  // At most this much (no binding limit); a smaller storage binding makes the chunks smaller still.
  const logitsChunk = Math.min(T, logitsChunkRows(t.vocabSize, Infinity)) * t.vocabSize * 4;
  const headGradient = fullText ? embed * 4 : 0;
  const activationBytes = T * t.numLayers * perTokenLayer * 4 + 2 * logitsChunk + headGradient;
  const weightBytes = frozen16 * 2 + f32 * 4;
  const optimizerBytes = trainable * 12;
  const embedBytes = embed * (fullText || w === 4 ? 4 : 2);
  const rowBytes = T * t.intermediateSize * 4; // the widest per-row activation: the MLP's
  const largest =
    rowBytes >= embedBytes
      ? { what: `the MLP activations of a packed row (${T} tokens × ${t.intermediateSize}, f32)`, bytes: rowBytes }
      : { what: `the token embeddings (${t.vocabSize} × ${t.hiddenSize})`, bytes: embedBytes };
  const attentionScratchBytes = storedScoresBytes({ hq: t.numHeads, nSeq: 1, maxSeqlenQ: T, maxSeqlenK: T }, true);
  return {
    params,
    trainableParams: trainable,
    weightBytes,
    optimizerBytes,
    activationBytes,
    attentionScratchBytes,
    totalBytes: weightBytes + optimizerBytes + activationBytes + attentionScratchBytes,
    largest,
  };
}

/** Why the run cannot work on an adapter with these limits (empty when it fits what WebGPU lets us check). */
export function fitProblems(f: Footprint, limits: BackendInfo['limits'], batchTokens: number): string[] {
  const problems: string[] = [];
  const cap = Math.min(limits.maxBindingBytes, limits.maxBufferBytes);
  if (f.largest.bytes > cap) {
    const hint = f.largest.what.includes('of a packed row') ? `; lower batch tokens to at most ${Math.floor((batchTokens * cap) / f.largest.bytes)}` : '';
    problems.push(`${f.largest.what} take ${fmtBytes(f.largest.bytes)}, more than this adapter's largest buffer (${fmtBytes(cap)})${hint}`);
  }
  return problems;
}
