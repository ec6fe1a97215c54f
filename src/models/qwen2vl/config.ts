// Qwen2-VL / Qwen2.5-VL config.json in both layouts the hub carries: the original flat one
// (text fields at the top, `rope_scaling: {type: "mrope", mrope_section}`) and transformers 5's
// nested one (`text_config`, `vision_config`, `rope_parameters`). Both normalise to one shape.

export type QwenVLKind = 'qwen2_vl' | 'qwen2_5_vl';

export interface TextConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  /** Rotary half-dims given to the temporal, height and width position ids (sums to headDim / 2). */
  mropeSection: [number, number, number];
  tieWordEmbeddings: boolean;
  hiddenAct: string;
}

export interface VisionConfig {
  depth: number;
  /** Width of the vision blocks (Qwen2-VL's embed_dim). */
  hiddenSize: number;
  numHeads: number;
  intermediateSize: number;
  patchSize: number;
  spatialMergeSize: number;
  temporalPatchSize: number;
  inChannels: number;
  /** Width the merger projects to (the language model's hidden size). */
  outHiddenSize: number;
  hiddenAct: string;
  /** Qwen2.5-VL: window attention everywhere except these blocks. */
  windowSize: number | null;
  fullattBlockIndexes: number[];
  /** θ of the tower's 2-D rotary embedding. */
  ropeTheta: number;
}

export interface QwenVLConfig {
  kind: QwenVLKind;
  text: TextConfig;
  vision: VisionConfig;
  imageTokenId: number;
  videoTokenId: number;
  visionStartTokenId: number;
  visionEndTokenId: number;
}

type Json = Record<string, unknown>;

class ConfigReader {
  constructor(
    private file: string,
    private layers: [string, Json][],
  ) {}

  private find(key: string): unknown {
    for (const [, obj] of this.layers) if (obj && key in obj && obj[key] !== null) return obj[key];
    return undefined;
  }

  private where(): string {
    return this.layers.map(([n]) => n).join(' or ');
  }

  num(key: string, fallback?: number): number {
    const v = this.find(key) ?? fallback;
    if (v === undefined) throw new Error(`${this.file}: missing '${key}' (looked in ${this.where()})`);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${this.file}: '${key}' must be a number, got ${JSON.stringify(v)}`);
    return v;
  }

  int(key: string, fallback?: number): number {
    const v = this.num(key, fallback);
    if (!Number.isInteger(v) || v < 0) throw new Error(`${this.file}: '${key}' must be a non-negative integer, got ${v}`);
    return v;
  }

  str(key: string, fallback?: string): string {
    const v = this.find(key) ?? fallback;
    if (typeof v !== 'string') throw new Error(`${this.file}: '${key}' must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.find(key) ?? fallback;
    if (typeof v !== 'boolean') throw new Error(`${this.file}: '${key}' must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  raw(key: string): unknown {
    return this.find(key);
  }
}

function obj(v: unknown): Json | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

/** Parses a config.json object (either layout). `file` names the source in errors. */
export function parseQwenVLConfig(json: unknown, file = 'config.json'): QwenVLConfig {
  const root = obj(json);
  if (!root) throw new Error(`${file}: expected a JSON object`);
  const modelType = root.model_type;
  if (modelType !== 'qwen2_vl' && modelType !== 'qwen2_5_vl')
    throw new Error(`${file}: model_type ${JSON.stringify(modelType)} is not supported; expected "qwen2_vl" or "qwen2_5_vl"`);
  const kind: QwenVLKind = modelType;
  const textJson = obj(root.text_config);
  const visionJson = obj(root.vision_config);
  if (!visionJson) throw new Error(`${file}: missing 'vision_config'`);
  // Nested layout first, the flat layout's top-level fields as the fallback.
  const t = new ConfigReader(file, textJson ? [['text_config', textJson], ['the top level', root]] : [['the top level', root]]);
  const v = new ConfigReader(file, [['vision_config', visionJson]]);

  const rope = obj(t.raw('rope_parameters')) ?? obj(t.raw('rope_scaling')) ?? {};
  const section = rope.mrope_section;
  const hiddenSize = t.int('hidden_size');
  const numHeads = t.int('num_attention_heads');
  const headDim = hiddenSize / numHeads;
  if (!Number.isInteger(headDim)) throw new Error(`${file}: hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}`);
  if (!Array.isArray(section) || section.length !== 3 || !section.every((s) => Number.isInteger(s) && s > 0))
    throw new Error(`${file}: 'mrope_section' (in rope_parameters or rope_scaling) must be three positive integers, got ${JSON.stringify(section)}`);
  if (section[0] + section[1] + section[2] !== headDim / 2)
    throw new Error(`${file}: mrope_section ${JSON.stringify(section)} must sum to head_dim / 2 = ${headDim / 2}`);
  const ropeTheta = typeof rope.rope_theta === 'number' ? rope.rope_theta : t.num('rope_theta', 1_000_000);
  const text: TextConfig = {
    vocabSize: t.int('vocab_size'),
    hiddenSize,
    intermediateSize: t.int('intermediate_size'),
    numLayers: t.int('num_hidden_layers'),
    numHeads,
    numKvHeads: t.int('num_key_value_heads', numHeads),
    headDim,
    rmsNormEps: t.num('rms_norm_eps', 1e-6),
    ropeTheta,
    mropeSection: section as [number, number, number],
    tieWordEmbeddings: new ConfigReader(file, [['the top level', root], ...(textJson ? [['text_config', textJson] as [string, Json]] : [])]).bool('tie_word_embeddings', false),
    hiddenAct: t.str('hidden_act', 'silu'),
  };
  if (numHeads % text.numKvHeads) throw new Error(`${file}: num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${text.numKvHeads}`);

  const visionRope = obj(v.raw('rope_parameters'));
  const visionTheta = typeof visionRope?.rope_theta === 'number' ? visionRope.rope_theta : 10_000;
  let vision: VisionConfig;
  if (kind === 'qwen2_vl') {
    const embed = v.int('embed_dim');
    vision = {
      depth: v.int('depth'),
      hiddenSize: embed,
      numHeads: v.int('num_heads'),
      intermediateSize: Math.round(embed * v.num('mlp_ratio', 4)),
      patchSize: v.int('patch_size', 14),
      spatialMergeSize: v.int('spatial_merge_size', 2),
      temporalPatchSize: v.int('temporal_patch_size', 2),
      inChannels: v.raw('in_channels') !== undefined ? v.int('in_channels') : v.int('in_chans', 3),
      outHiddenSize: v.int('hidden_size', hiddenSize),
      hiddenAct: v.str('hidden_act', 'quick_gelu'),
      windowSize: null,
      fullattBlockIndexes: [],
      ropeTheta: visionTheta,
    };
  } else {
    const full = v.raw('fullatt_block_indexes') ?? [];
    if (!Array.isArray(full) || !full.every((i) => Number.isInteger(i))) throw new Error(`${file}: vision_config.fullatt_block_indexes must be a list of integers`);
    vision = {
      depth: v.int('depth'),
      hiddenSize: v.int('hidden_size'),
      numHeads: v.int('num_heads'),
      intermediateSize: v.int('intermediate_size'),
      patchSize: v.int('patch_size', 14),
      spatialMergeSize: v.int('spatial_merge_size', 2),
      temporalPatchSize: v.int('temporal_patch_size', 2),
      inChannels: v.int('in_channels', 3),
      outHiddenSize: v.int('out_hidden_size', hiddenSize),
      hiddenAct: v.str('hidden_act', 'silu'),
      windowSize: v.int('window_size', 112),
      fullattBlockIndexes: full as number[],
      ropeTheta: visionTheta,
    };
  }
  if (vision.hiddenSize % vision.numHeads) throw new Error(`${file}: vision hidden size ${vision.hiddenSize} is not divisible by num_heads ${vision.numHeads}`);
  if (vision.outHiddenSize !== hiddenSize)
    throw new Error(`${file}: the vision merger outputs ${vision.outHiddenSize} features but the language model's hidden_size is ${hiddenSize}`);
  const ids = new ConfigReader(file, [['the top level', root], ...(textJson ? [['text_config', textJson] as [string, Json]] : [])]);
  return {
    kind,
    text,
    vision,
    imageTokenId: ids.int('image_token_id', 151655),
    videoTokenId: ids.int('video_token_id', 151656),
    visionStartTokenId: ids.int('vision_start_token_id', 151652),
    visionEndTokenId: ids.int('vision_end_token_id', 151653),
  };
}
