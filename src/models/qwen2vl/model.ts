// Qwen2-VL / Qwen2.5-VL for conditional generation: weights by Hugging Face name, LoRA on
// chosen linears, freezing, and the forward pass (vision tower → image features scattered at
// the image-token positions → decoder → LM head → shifted causal-LM loss).
import type { Runtime } from '../../tensor/runtime.js';
import type { Tensor } from '../../tensor/tensor.js';
import { LoraAdapters, isLoraTarget, type LoraConfig } from '../../nn/lora.js';
import { Rng } from '../../util/rng.js';
import type { QwenVLConfig } from './config.js';
import { canonicalName, type WeightLayout } from './names.js';
import { textForward, type KvCache } from './text.js';
import { visionForward, type Grid } from './vision.js';
import { mropeTables, visionRotaryTables } from './rotary.js';
import { ropeIndex } from './rope_index.js';
import { decodeWeight, type WeightRecord, type WeightSource } from '../../io/weights.js';

export interface FreezeOptions {
  /** Vision blocks and patch embedding (default true: Stage I is text-only). */
  vision: boolean;
  /** The patch merger. */
  merger: boolean;
  /** The language model (embeddings, decoder, LM head). */
  language: boolean;
}

export interface LoadOptions {
  freeze?: Partial<FreezeOptions>;
  /** Train LoRA adapters instead of the weights: every base weight is then frozen. */
  lora?: LoraConfig;
  /** Seed for LoRA initialisation. */
  seed?: number;
  /** Keep frozen 16-bit matrices packed on the device (half the memory); default true. */
  keepPacked?: boolean;
}

export interface ForwardInputs {
  /** Token ids: one packed row (sequences given by cuSeqlens) or a [batch, length] padded batch (shape). */
  inputIds: Int32Array;
  shape?: [number, number];
  /** [batch, length], 1 for real tokens; padding anywhere is dropped before the forward. */
  attentionMask?: Int32Array;
  /** Boundaries of the sequences packed in one row (default: one sequence). */
  cuSeqlens?: number[];
  pixelValues?: Tensor;
  imageGridThw?: Grid[];
  /** Same layout as inputIds; −100 = ignored. Shifted inside each sequence, as transformers' causal-LM loss. */
  labels?: Int32Array;
  /** Which logits to return: every kept token, only each sequence's last, or none (loss only). */
  logits?: 'all' | 'last' | 'none';
}

export interface ForwardOutputs {
  /** [rows, vocab], rows as in `positions`. */
  logits: Tensor | null;
  /** Mean loss over labelled tokens. */
  loss: Tensor | null;
  /** Flat input index of each logits row. */
  positions: Int32Array;
}

const IGNORE = -100;

export interface LoraTarget {
  module: string;
  outFeatures: number;
  inFeatures: number;
}

export class QwenVL {
  readonly params = new Map<string, Tensor>();
  lora: LoraAdapters | null = null;
  /** The checkpoint's layout, so saves go back in the same one. */
  layout: WeightLayout = 'transformers5';
  /** Training mode turns LoRA dropout on; evaluation and generation never drop. */
  training = false;
  /** Dropout masks come from this RNG; its state is part of a checkpoint. */
  readonly rng = new Rng(0);

  private constructor(
    readonly rt: Runtime,
    readonly config: QwenVLConfig,
  ) {}

  /** Loads every weight of `source` (a checkpoint in either layout). */
  static async load(rt: Runtime, config: QwenVLConfig, source: WeightSource, opts: LoadOptions = {}): Promise<QwenVL> {
    const m = new QwenVL(rt, config);
    const freeze: FreezeOptions = { vision: true, merger: false, language: false, ...opts.freeze };
    const keepPacked = opts.keepPacked ?? true;
    const expected = new Set(expectedNames(config));
    const seen = new Set<string>();
    for (const key of source.keys()) {
      const { name, layout } = canonicalName(key);
      if (!expected.has(name)) continue; // e.g. rotary inv_freq buffers some exports include
      if (layout) m.layout = layout;
      const rec = await source.read(key);
      const trainable = !opts.lora && !isFrozen(name, freeze);
      m.params.set(name, m.upload(name, rec, trainable, keepPacked));
      seen.add(name);
    }
    const missing = [...expected].filter((n) => !seen.has(n) && !(n === 'lm_head.weight' && config.text.tieWordEmbeddings));
    if (missing.length) {
      m.release();
      throw new Error(`checkpoint is missing ${missing.length} weight(s), e.g. ${missing.slice(0, 3).join(', ')} — is this a ${config.kind} checkpoint matching config.json?`);
    }
    if (opts.lora) m.attachLora(opts.lora, opts.seed ?? 0);
    return m;
  }

  private upload(name: string, rec: WeightRecord, trainable: boolean, keepPacked: boolean): Tensor {
    const rt = this.rt;
    const dec = decodeWeight(name, rec);
    let t: Tensor;
    if (!trainable && keepPacked && dec.bits && rec.shape.length >= 2) t = rt.packed(dec.bits, rec.shape, dec.dtype as 'bf16' | 'f16');
    else t = rt.tensor(dec.f32(), rec.shape);
    rt.keep(t);
    t.name = name;
    t.requiresGrad = trainable;
    return t;
  }

  /** The linear layers `cfg` targets (internal module names, as PEFT names them in transformers 5), with their sizes. */
  loraTargets(cfg: LoraConfig): LoraTarget[] {
    const targets: LoraTarget[] = [];
    for (const [name, w] of this.params) {
      if (!name.endsWith('.weight') || w.rank !== 2 || name.includes('embed_tokens') || name === 'lm_head.weight') continue;
      const module = name.slice(0, -'.weight'.length);
      if (isLoraTarget(module, cfg)) targets.push({ module, outFeatures: w.shape[0], inFeatures: w.shape[1] });
    }
    if (!targets.length) throw new Error(`LoRA: target_modules ${JSON.stringify(cfg.targetModules)} match no linear layer of this model`);
    return targets;
  }

  /** Adds freshly initialised LoRA pairs (PEFT's init: B = 0, so the model is unchanged) on every targeted linear layer. */
  attachLora(cfg: LoraConfig, seed: number): void {
    const lora = new LoraAdapters(this.rt, cfg);
    const rng = new Rng(seed);
    for (const t of this.loraTargets(cfg)) lora.add(t.module, t.outFeatures, t.inFeatures, rng);
    this.useLora(lora);
  }

  /** Attaches adapters built elsewhere (e.g. read from a PEFT adapter); the model owns them from now on and, as
   *  PEFT does, trains only them: every base weight is frozen. */
  useLora(lora: LoraAdapters): void {
    if (this.lora) throw new Error('LoRA adapters are already attached');
    for (const [module, pair] of lora.pairs) {
      const w = this.params.get(`${module}.weight`);
      if (!w || w.rank !== 2 || w.shape[0] !== pair.b.shape[0] || w.shape[1] !== pair.a.shape[1])
        throw new Error(`LoRA '${module}': A ${pair.a.describe()} and B ${pair.b.describe()} do not fit ${w ? w.describe() : 'any weight of this model'}`);
    }
    for (const w of this.params.values()) w.requiresGrad = false;
    this.lora = lora;
  }

  /**
   * Folds every LoRA pair into its base weight, W ← W + scale·B·A, and drops the adapters: the
   * model then computes the same function without the extra branch. The base weights must be f32.
   */
  mergeLora(): void {
    const lora = this.lora;
    if (!lora) throw new Error('mergeLora: no LoRA adapters are attached');
    const rt = this.rt;
    const { ops } = rt;
    for (const module of lora.pairs.keys()) {
      const w = this.params.get(`${module}.weight`)!;
      if (w.dtype !== 'f32')
        throw new Error(`mergeLora: ${w.describe()} is kept packed as ${w.dtype}; load the model with keepPacked: false to merge LoRA into its weights`);
    }
    for (const [module, pair] of lora.pairs) {
      const name = `${module}.weight`;
      const w = this.params.get(name)!;
      const merged = rt.keep(rt.scope(() => rt.noGrad(() => ops.add(w, ops.scale(ops.matmul(pair.b, pair.a), lora.scale)))));
      merged.name = name;
      merged.requiresGrad = w.requiresGrad;
      w.release();
      this.params.set(name, merged);
    }
    lora.release();
    this.lora = null;
  }

  get rngState(): number {
    return this.rng.state;
  }

  set rngState(s: number) {
    this.rng.state = s >>> 0;
  }

  /** Parameters the optimizer updates. */
  trainable(): Tensor[] {
    if (this.lora) return this.lora.parameters();
    return [...this.params.values()].filter((t) => t.requiresGrad);
  }

  weight(name: string): Tensor {
    if (name === 'lm_head.weight' && !this.params.has(name) && this.config.text.tieWordEmbeddings) name = 'model.language_model.embed_tokens.weight';
    const w = this.params.get(name);
    if (!w) throw new Error(`model has no weight '${name}'`);
    return w;
  }

  /**
   * y = x·Wᵀ + b, plus the LoRA branch (B·A·dropout(x))·scale where one is attached (dropout only
   * while training, as PEFT); with `residual`, residual + y (the product's epilogue adds it, unless a
   * LoRA branch must come first).
   */
  readonly linear = (x: Tensor, name: string, residual?: Tensor): Tensor => {
    const { ops } = this.rt;
    const [weight, bias] = [this.weight(`${name}.weight`), this.params.get(`${name}.bias`) ?? null];
    if (!this.lora?.pairs.has(name)) return ops.linear(x, weight, bias, residual);
    const y = this.withLora(x, ops.linear(x, weight, bias), [name]);
    return residual ? ops.add(residual, y) : y;
  };

  /** The linear layers `names` reading the same x, as one product: [..., Σ out] in the order named, each with its LoRA branch. */
  readonly linears = (x: Tensor, names: string[]): Tensor => {
    const { ops } = this.rt;
    const y = ops.linearStack(
      x,
      names.map((n) => this.weight(`${n}.weight`)),
      names.map((n) => this.params.get(`${n}.bias`) ?? null),
    );
    return this.withLora(x, y, names);
  };

  /** y + the LoRA branches of the layers `names` whose outputs y holds side by side (zeros for layers without one). */
  private withLora(x: Tensor, y: Tensor, names: string[]): Tensor {
    const pairs = names.map((n) => this.lora?.pairs.get(n));
    if (!pairs.some((p) => p)) return y;
    const { ops } = this.rt;
    const p = this.lora!.config.dropout;
    const lead = x.shape.slice(0, -1);
    const deltas = names.map((n, i) => {
      const pair = pairs[i];
      if (!pair) return this.rt.zeros([...lead, this.weight(`${n}.weight`).shape[0]]);
      const xd = this.training && p > 0 ? ops.dropout(x, p, this.rng) : x;
      return ops.scale(ops.linear(ops.linear(xd, pair.a), pair.b), this.lora!.scale);
    });
    const delta = deltas.length === 1 ? deltas[0] : ops.concat(deltas, -1);
    const out = ops.add(y, delta);
    y.release();
    return out;
  }

  /** Image features [tokens, hidden] for pixel_values and their grids. */
  imageFeatures(pixels: Tensor, grids: Grid[]): Tensor {
    const v = this.config.vision;
    return visionForward(
      {
        cfg: v,
        kind: this.config.kind,
        linear: this.linear,
        weight: (n) => this.weight(n),
        rotary: (pos) => visionRotaryTables(this.rt, pos, v.hiddenSize / v.numHeads, v.ropeTheta),
      },
      pixels,
      grids,
    );
  }

  /** Token embeddings [T, hidden] with image features at the image-token positions. */
  embed(ids: Int32Array, pixels?: Tensor, grids: Grid[] = []): Tensor {
    const rt = this.rt;
    const { ops } = rt;
    const T = ids.length;
    let hidden = ops.gatherRows(this.weight('model.language_model.embed_tokens.weight'), rt.tensor(ids, [T], 'i32'));
    const imagePositions: number[] = [];
    ids.forEach((id, i) => id === this.config.imageTokenId && imagePositions.push(i));
    if (!imagePositions.length && !pixels) return hidden;
    if (!pixels) throw new Error(`forward: input has ${imagePositions.length} image tokens but no pixel_values`);
    const feats = this.imageFeatures(pixels, grids);
    if (feats.shape[0] !== imagePositions.length)
      throw new Error(`Image features and image tokens do not match: tokens: ${imagePositions.length}, features ${feats.shape[0]}`);
    // Rows T.. of [hidden; feats] are the image features: one gather places them.
    const index = Int32Array.from({ length: T }, (_, i) => i);
    imagePositions.forEach((p, j) => (index[p] = T + j));
    hidden = ops.gatherRows(ops.concat([hidden, feats], 0), rt.tensor(index, [T], 'i32'));
    return hidden;
  }

  /** 3-D rotary positions [3, T] of packed sequences (get_rope_index per sequence, images in order) and each sequence's delta. */
  positions(ids: Int32Array, cu: number[], grids: Grid[] = []): { positions: Int32Array; deltas: number[] } {
    const cfg = this.config;
    const T = ids.length;
    const pos = new Int32Array(3 * T);
    const deltas: number[] = [];
    let img = 0;
    for (let s = 0; s + 1 < cu.length; s++) {
      const seqIds = ids.subarray(cu[s], cu[s + 1]);
      const nImg = countImages(seqIds, cfg.imageTokenId);
      const r = ropeIndex(cfg, seqIds, grids.slice(img, img + nImg));
      img += nImg;
      deltas.push(r.delta);
      for (let a = 0; a < 3; a++) pos.set(r.positions.subarray(a * seqIds.length, (a + 1) * seqIds.length), a * T + cu[s]);
    }
    if (img !== grids.length) throw new Error(`forward: ${grids.length} image grids given but the input has ${img} images`);
    return { positions: pos, deltas };
  }

  /** Final hidden states [T, hidden] for embeddings at the given positions (appending to `cache` when given). */
  decode(hidden: Tensor, positions: Int32Array, cu: number[], cache?: KvCache): Tensor {
    const T = hidden.shape[0];
    const { cos, sin } = mropeTables(this.rt, positions, T, this.config.text);
    return textForward({ cfg: this.config.text, linear: this.linear, linears: this.linears, weight: (n) => this.weight(n) }, hidden, cos, sin, cu, cache);
  }

  forward(inp: ForwardInputs): ForwardOutputs {
    const rt = this.rt;
    const { ops } = rt;
    const { ids, keep, cu, labels } = compact(inp);
    const T = ids.length;
    const hidden = this.embed(ids, inp.pixelValues, inp.imageGridThw);
    const h = this.decode(hidden, this.positions(ids, cu, inp.imageGridThw).positions, cu);

    const mode = inp.logits ?? 'all';
    let rows: Int32Array = Int32Array.from({ length: T }, (_, i) => i);
    if (mode === 'last') rows = Int32Array.from(cu.slice(1), (e) => e - 1);
    let logits: Tensor | null = null;
    let loss: Tensor | null = null;
    if (labels && mode === 'none') {
      // Training: the loss without the [tokens × vocab] logits (one chunk of rows at a time), over
      // the labelled rows only: an ignored row adds nothing to the loss or to any gradient, and the
      // LM head is a fifth of a step's work, so masked prompts cost nothing there.
      const shifted = shiftLabels(labels, cu);
      const labelled = [...shifted.keys()].filter((i) => shifted[i] !== IGNORE);
      const head = this.weight('lm_head.weight');
      if (labelled.length === 0 || labelled.length === T) loss = ops.linearCrossEntropy(h, head, rt.tensor(shifted, [T], 'i32'));
      else {
        const rowsOf = rt.tensor(Int32Array.from(labelled), [labelled.length], 'i32');
        const targets = rt.tensor(Int32Array.from(labelled, (i) => shifted[i]), [labelled.length], 'i32');
        loss = ops.linearCrossEntropy(ops.gatherRows(h, rowsOf), head, targets);
      }
    } else if (labels) {
      const all = ops.linear(h, this.weight('lm_head.weight'));
      loss = ops.crossEntropy(all, rt.tensor(shiftLabels(labels, cu), [T], 'i32'));
      if (mode === 'all') logits = all;
      else if (mode === 'last') logits = ops.gatherRows(all, rt.tensor(rows, [rows.length], 'i32'));
    } else if (mode !== 'none') {
      const hs = mode === 'last' ? ops.gatherRows(h, rt.tensor(rows, [rows.length], 'i32')) : h;
      logits = ops.linear(hs, this.weight('lm_head.weight'));
    }
    return { logits, loss, positions: Int32Array.from(rows, (r) => keep[r]) };
  }

  /** A KV cache for generation of up to `capacity` tokens. */
  newCache(capacity: number): KvCache {
    const t = this.config.text;
    return {
      capacity,
      length: 0,
      layers: Array.from({ length: t.numLayers }, () => ({
        k: this.rt.keep(this.rt.empty([capacity, t.numKvHeads, t.headDim], 'f32', 'kv cache')),
        v: this.rt.keep(this.rt.empty([capacity, t.numKvHeads, t.headDim], 'f32', 'kv cache')),
      })),
    };
  }

  release(): void {
    for (const t of this.params.values()) t.release();
    this.params.clear();
    this.lora?.release();
  }
}

/** Images in a sequence: runs of image tokens (transformers groups tokens by modality the same way). */
function countImages(ids: Int32Array, imageToken: number): number {
  let n = 0;
  for (let i = 0; i < ids.length; i++) if (ids[i] === imageToken && (i === 0 || ids[i - 1] !== imageToken)) n++;
  return n;
}

/** Drops padding (attention_mask 0) and turns a padded batch into one packed row. */
function compact(inp: ForwardInputs): { ids: Int32Array; keep: Int32Array; cu: number[]; labels: Int32Array | null } {
  const n = inp.inputIds.length;
  if (inp.labels && inp.labels.length !== n) throw new Error(`forward: labels have ${inp.labels.length} entries for ${n} input ids`);
  const [B, L] = inp.shape ?? [1, n];
  if (B * L !== n) throw new Error(`forward: input_ids has ${n} entries, not ${B}×${L}`);
  if (inp.attentionMask && inp.attentionMask.length !== n) throw new Error(`forward: attention_mask has ${inp.attentionMask.length} entries for ${n} input ids`);
  if (inp.cuSeqlens && inp.shape) throw new Error('forward: give either a padded batch (shape) or a packed row (cuSeqlens), not both');
  const keep: number[] = [];
  const cu = [0];
  const bounds = inp.cuSeqlens ?? Array.from({ length: B + 1 }, (_, b) => b * L);
  if (bounds[0] !== 0 || bounds[bounds.length - 1] !== n || bounds.some((v, i) => i && v < bounds[i - 1]))
    throw new Error(`forward: cu_seqlens ${JSON.stringify(bounds)} must rise from 0 to ${n}`);
  for (let s = 0; s + 1 < bounds.length; s++) {
    for (let i = bounds[s]; i < bounds[s + 1]; i++) if (!inp.attentionMask || inp.attentionMask[i]) keep.push(i);
    if (keep.length > cu[cu.length - 1]) cu.push(keep.length);
  }
  const k = Int32Array.from(keep);
  return { ids: Int32Array.from(k, (i) => inp.inputIds[i]), keep: k, cu, labels: inp.labels ? Int32Array.from(k, (i) => inp.labels![i]) : null };
}

/** Token t predicts label t+1 of the same sequence; each sequence's last token predicts nothing. */
export function shiftLabels(labels: Int32Array, cu: number[]): Int32Array {
  const out = new Int32Array(labels.length).fill(IGNORE);
  for (let s = 0; s + 1 < cu.length; s++) for (let t = cu[s]; t + 1 < cu[s + 1]; t++) out[t] = labels[t + 1];
  return out;
}

/** Every weight name a model of this config has (internal layout). */
export function expectedNames(c: QwenVLConfig): string[] {
  const names: string[] = ['model.language_model.embed_tokens.weight', 'model.language_model.norm.weight', 'lm_head.weight'];
  for (let i = 0; i < c.text.numLayers; i++) {
    const l = `model.language_model.layers.${i}`;
    names.push(`${l}.input_layernorm.weight`, `${l}.post_attention_layernorm.weight`, `${l}.self_attn.o_proj.weight`);
    for (const p of ['q_proj', 'k_proj', 'v_proj']) names.push(`${l}.self_attn.${p}.weight`, `${l}.self_attn.${p}.bias`);
    for (const p of ['gate_proj', 'up_proj', 'down_proj']) names.push(`${l}.mlp.${p}.weight`);
  }
  const v = 'model.visual';
  names.push(`${v}.patch_embed.proj.weight`, `${v}.merger.mlp.0.weight`, `${v}.merger.mlp.0.bias`, `${v}.merger.mlp.2.weight`, `${v}.merger.mlp.2.bias`, `${v}.merger.ln_q.weight`);
  if (c.kind === 'qwen2_vl') names.push(`${v}.merger.ln_q.bias`);
  for (let i = 0; i < c.vision.depth; i++) {
    const b = `${v}.blocks.${i}`;
    names.push(`${b}.norm1.weight`, `${b}.norm2.weight`, `${b}.attn.qkv.weight`, `${b}.attn.qkv.bias`, `${b}.attn.proj.weight`, `${b}.attn.proj.bias`);
    if (c.kind === 'qwen2_vl') names.push(`${b}.norm1.bias`, `${b}.norm2.bias`, `${b}.mlp.fc1.weight`, `${b}.mlp.fc1.bias`, `${b}.mlp.fc2.weight`, `${b}.mlp.fc2.bias`);
    else for (const p of ['gate_proj', 'up_proj', 'down_proj']) names.push(`${b}.mlp.${p}.weight`, `${b}.mlp.${p}.bias`);
  }
  return names;
}

function isFrozen(name: string, f: FreezeOptions): boolean {
  if (name.startsWith('model.visual.merger.')) return f.merger;
  if (name.startsWith('model.visual.')) return f.vision;
  return f.language;
}
