// LoRA adapters in PEFT's format: a folder with adapter_config.json (LoraConfig.to_dict() as
// json.dumps(indent=2, sort_keys=True), peft 0.20's fields) and adapter_model.safetensors (F32,
// metadata {"format": "pt"}) with keys base_model.model.<module>.lora_A.weight / lora_B.weight —
// no adapter name, as get_peft_model_state_dict strips it. We write module names in the
// checkpoint's own layout and read both layouts. (peft 0.20 on transformers 5.17 loads such an
// adapter only with an explicit key_mapping; with transformers 5 names it doubles
// "language_model" — both checked on the GPU machine, see tools/fixtures/peft_lora.py.)
import type { FileSet } from '../../io/fileset.js';
import { pythonJson, pyFloat, type PyJson } from '../../io/py_json.js';
import { readSafetensors, writeSafetensors, type SafetensorsTensor } from '../../io/safetensors.js';
import { decodeWeight } from '../../io/weights.js';
import { LoraAdapters, type LoraConfig } from '../../nn/lora.js';
import { platform } from '../../platform/platform.js';
import { joinPath } from '../../util/path.js';
import type { QwenVL } from './model.js';
import { canonicalName, layoutName, type WeightLayout } from './names.js';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
const PREFIX = 'base_model.model.';
/** The peft release whose adapter_config.json fields we write. */
const PEFT_VERSION = '0.20.0';

/** The safetensors key of one LoRA matrix of `module` (an internal name) in the given layout. */
export function peftKey(module: string, layout: WeightLayout, which: 'A' | 'B'): string {
  return `${PREFIX}${layoutName(module, layout)}.lora_${which}.weight`;
}

export interface AdapterConfigOptions {
  /** base_model_name_or_path: the model folder or hub id the adapter was trained on. */
  baseModel?: string | null;
}

/** adapter_config.json as peft's LoraConfig.save_pretrained writes it (saved configs have inference_mode true). */
export function adapterConfigJson(cfg: LoraConfig, opts: AdapterConfigOptions = {}): string {
  const patterns = (p: string[] | string | undefined): PyJson => (p === undefined ? null : typeof p === 'string' ? p : [...new Set(p)].sort());
  const config: Record<string, PyJson> = {
    alora_invocation_tokens: null,
    alpha_pattern: {},
    arrow_config: null,
    auto_mapping: null,
    base_model_name_or_path: opts.baseModel ?? null,
    bias: 'none',
    corda_config: null,
    ensure_weight_tying: false,
    eva_config: null,
    exclude_modules: patterns(cfg.excludeModules),
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: Number.isInteger(cfg.alpha) ? cfg.alpha : pyFloat(cfg.alpha),
    lora_bias: false,
    lora_dropout: pyFloat(cfg.dropout),
    lora_ga_config: null,
    megatron_config: null,
    megatron_core: 'megatron.core',
    modules_to_save: null,
    monteclora_config: null,
    peft_type: 'LORA',
    peft_version: PEFT_VERSION,
    qalora_group_size: 16,
    r: cfg.r,
    rank_pattern: {},
    revision: null,
    target_modules: patterns(cfg.targetModules),
    target_parameters: null,
    task_type: 'CAUSAL_LM',
    trainable_token_indices: null,
    use_bdlora: null,
    use_dora: false,
    use_qalora: false,
    use_rslora: cfg.useRslora,
    velora_config: null,
  };
  return pythonJson(config);
}

/** The two files of the model's attached adapter, by file name. */
export async function peftAdapterFiles(model: QwenVL, opts: AdapterConfigOptions = {}): Promise<Map<string, Uint8Array>> {
  const lora = model.lora;
  if (!lora) throw new Error('peftAdapterFiles: the model has no LoRA adapters attached');
  const tensors = new Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>();
  for (const [module, pair] of lora.pairs) {
    tensors.set(peftKey(module, model.layout, 'A'), { dtype: 'F32', shape: [...pair.a.shape], data: await pair.a.f32() });
    tensors.set(peftKey(module, model.layout, 'B'), { dtype: 'F32', shape: [...pair.b.shape], data: await pair.b.f32() });
  }
  return new Map([
    [ADAPTER_CONFIG, new TextEncoder().encode(adapterConfigJson(lora.config, opts))],
    [ADAPTER_WEIGHTS, writeSafetensors(tensors, { format: 'pt' })],
  ]);
}

/** Writes the attached adapter into folder `dir` (created if needed), each file atomically. */
export async function savePeftAdapter(model: QwenVL, dir: string, opts: AdapterConfigOptions = {}): Promise<void> {
  const p = platform();
  if (!p.writeFileAtomic || !p.mkdirp) throw new Error(`savePeftAdapter: the ${p.name} platform cannot write files; use peftAdapterFiles() and offer the bytes as downloads`);
  const files = await peftAdapterFiles(model, opts);
  await p.mkdirp(dir);
  for (const [name, bytes] of files) await p.writeFileAtomic(joinPath(dir, name), bytes);
}

type Json = Record<string, unknown>;

/** Fields that change what a LoRA computes; we implement the plain method, so each must hold its default. */
const UNSUPPORTED: [field: string, isDefault: (v: unknown) => boolean][] = [
  ['use_dora', (v) => !v],
  ['bias', (v) => v === undefined || v === 'none'],
  ['lora_bias', (v) => !v],
  ['fan_in_fan_out', (v) => !v],
  ['modules_to_save', (v) => v == null || (Array.isArray(v) && !v.length)],
  ['rank_pattern', (v) => v == null || (typeof v === 'object' && !Object.keys(v).length)],
  ['alpha_pattern', (v) => v == null || (typeof v === 'object' && !Object.keys(v).length)],
  ['layers_to_transform', (v) => v == null],
  ['layer_replication', (v) => v == null],
  ['trainable_token_indices', (v) => v == null],
  ['target_parameters', (v) => v == null || (Array.isArray(v) && !v.length)],
  ['use_qalora', (v) => !v],
  ['use_bdlora', (v) => v == null || v === false],
  ['alora_invocation_tokens', (v) => v == null],
  ['megatron_config', (v) => v == null],
  ['arrow_config', (v) => v == null],
  ['monteclora_config', (v) => v == null],
];

function patternsField(v: unknown, field: string, where: string): string[] | string {
  if (typeof v === 'string' || (Array.isArray(v) && v.length && v.every((x) => typeof x === 'string'))) return v as string[] | string;
  throw new Error(`${where}: ${field} must be a list of module names or a regex string, got ${JSON.stringify(v)}`);
}

/** A LoraConfig from adapter_config.json's object (peft's defaults where a field is absent). */
export function parseAdapterConfig(json: unknown, where = ADAPTER_CONFIG): LoraConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${where}: expected a JSON object`);
  const c = json as Json;
  if (c.peft_type !== 'LORA') throw new Error(`${where}: peft_type ${JSON.stringify(c.peft_type)} is not supported (only LORA adapters)`);
  for (const [field, isDefault] of UNSUPPORTED)
    if (!isDefault(c[field])) throw new Error(`${where}: ${field} = ${JSON.stringify(c[field])} is not supported (plain LoRA only: leave it at peft's default)`);
  const r = c.r ?? 8;
  if (!(Number.isInteger(r) && (r as number) > 0)) throw new Error(`${where}: r must be a positive integer, got ${JSON.stringify(c.r)}`);
  const alpha = c.lora_alpha ?? 8;
  if (typeof alpha !== 'number' || !(alpha > 0)) throw new Error(`${where}: lora_alpha must be a positive number, got ${JSON.stringify(c.lora_alpha)}`);
  const dropout = c.lora_dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new Error(`${where}: lora_dropout must be a number in [0, 1), got ${JSON.stringify(c.lora_dropout)}`);
  const rslora = c.use_rslora ?? false;
  if (typeof rslora !== 'boolean') throw new Error(`${where}: use_rslora must be true or false, got ${JSON.stringify(c.use_rslora)}`);
  if (c.target_modules == null) throw new Error(`${where}: target_modules is missing; the adapter must name the modules it adapts`);
  const cfg: LoraConfig = { r: r as number, alpha, dropout, targetModules: patternsField(c.target_modules, 'target_modules', where), useRslora: rslora };
  if (c.exclude_modules != null) cfg.excludeModules = patternsField(c.exclude_modules, 'exclude_modules', where);
  return cfg;
}

async function readJson(files: FileSet, name: string): Promise<unknown> {
  try {
    return JSON.parse(new TextDecoder().decode(await files.read(name)));
  } catch (e) {
    throw new Error(`${files.label}/${name}: not valid JSON (${(e as Error).message})`);
  }
}

/** The module of a LoRA key and which matrix it holds, or null when the key is no LoRA matrix. */
function parseKey(key: string): { module: string; layout: WeightLayout | null; which: 'A' | 'B' } | null {
  const m = /^base_model\.model\.(.+)\.lora_([AB])\.weight$/.exec(key);
  if (!m) return null;
  const { name, layout } = canonicalName(m[1]);
  return { module: name, layout, which: m[2] as 'A' | 'B' };
}

/**
 * Reads a PEFT LoRA adapter folder and attaches it to `model` (which must have none yet). Every
 * module the config targets must have both matrices with the config's rank, and every tensor must
 * belong to such a module: anything else is an error naming the file and the key.
 */
export async function loadPeftAdapter(model: QwenVL, files: FileSet): Promise<LoraConfig> {
  if (model.lora) throw new Error(`${files.label}: the model already has LoRA adapters attached`);
  if (!(await files.has(ADAPTER_CONFIG))) throw new Error(`${files.label}: no ${ADAPTER_CONFIG} (is this a PEFT adapter folder?)`);
  const cfg = parseAdapterConfig(await readJson(files, ADAPTER_CONFIG), `${files.label}/${ADAPTER_CONFIG}`);
  if (!(await files.has(ADAPTER_WEIGHTS))) {
    const pickle = await files.has('adapter_model.bin');
    throw new Error(`${files.label}: no ${ADAPTER_WEIGHTS}${pickle ? ' (adapter_model.bin is a pickle, which is not read here: re-save it with safe_serialization=True)' : ''}`);
  }
  const file = `${files.label}/${ADAPTER_WEIGHTS}`;
  let tensors: Map<string, SafetensorsTensor>;
  try {
    tensors = readSafetensors(await files.read(ADAPTER_WEIGHTS)).tensors;
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }

  let targets;
  try {
    targets = new Map(model.loraTargets(cfg).map((t) => [t.module, t]));
  } catch (e) {
    throw new Error(`${files.label}/${ADAPTER_CONFIG}: ${(e as Error).message}`);
  }
  const found = new Map<string, { A?: Float32Array; B?: Float32Array }>();
  let layout: WeightLayout = model.layout;
  for (const [key, t] of tensors) {
    const k = parseKey(key);
    if (!k)
      throw new Error(`${file}: unexpected key '${key}' (a LoRA adapter holds base_model.model.<module>.lora_A.weight and .lora_B.weight only; DoRA, biases, embeddings and modules_to_save are not supported)`);
    if (k.layout) layout = k.layout;
    const target = targets.get(k.module);
    if (!target) throw new Error(`${file}: '${key}' is for '${k.module}', which is not a linear layer that target_modules ${JSON.stringify(cfg.targetModules)} selects in this model`);
    const want = k.which === 'A' ? [cfg.r, target.inFeatures] : [target.outFeatures, cfg.r];
    if (t.shape.length !== 2 || t.shape[0] !== want[0] || t.shape[1] !== want[1])
      throw new Error(`${file}: '${key}' has shape [${t.shape}], expected [${want}] (r=${cfg.r} on a [${target.outFeatures}, ${target.inFeatures}] layer)`);
    let values: Float32Array;
    try {
      values = decodeWeight(key, t).f32();
    } catch (e) {
      throw new Error(`${file}: ${(e as Error).message}`);
    }
    const entry = found.get(k.module) ?? {};
    entry[k.which] = values;
    found.set(k.module, entry);
  }
  for (const module of targets.keys()) {
    const entry = found.get(module);
    for (const which of ['A', 'B'] as const)
      if (!entry?.[which]) throw new Error(`${file}: missing '${peftKey(module, layout, which)}' (adapter_config.json's target_modules select '${module}')`);
  }

  const lora = new LoraAdapters(model.rt, cfg);
  try {
    for (const [module, { A, B }] of found) {
      const t = targets.get(module)!;
      lora.set(module, A!, B!, t.outFeatures, t.inFeatures);
    }
    model.useLora(lora);
  } catch (e) {
    lora.release();
    throw e;
  }
  return cfg;
}
