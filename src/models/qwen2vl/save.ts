// Full weights as a Hugging Face checkpoint folder, in the layout the model was loaded from:
// model.safetensors, or — past the shard size — model-0000i-of-0000n.safetensors shards plus
// model.safetensors.index.json, split as huggingface_hub's split_state_dict_into_shards does
// (keys in sorted order, a new shard when the next tensor would tip it over the limit, a tensor
// larger than the limit alone in its own), each shard with metadata {"format": "pt"} as
// transformers writes them; config.json (and generation_config.json) copied from the source
// folder, with config.json's dtype entries set to the dtype saved. Every file is written
// atomically through the platform; where it takes chunks (Node), shards go out tensor by
// tensor, so none has to fit one typed array.
import type { FileSet } from '../../io/fileset.js';
import { pythonJson } from '../../io/py_json.js';
import { safetensorsChunks, writeSafetensors, type TensorToWrite } from '../../io/safetensors.js';
import { platform } from '../../platform/platform.js';
import { f32ArrayToHalfBits, halfBitsToF32Array } from '../../tensor/dtype.js';
import type { Tensor } from '../../tensor/tensor.js';
import { joinPath } from '../../util/path.js';
import type { QwenVL } from './model.js';
import { layoutName } from './names.js';

export type SaveDtype = 'bf16' | 'f16' | 'f32';

/** 5 GB (10⁹ bytes per GB, as huggingface_hub counts): transformers 4's default shard size. */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;
const SINGLE = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';
const SHARD = /^model-\d{5}-of-\d{5}\.safetensors$/;
const COPIED = ['config.json', 'generation_config.json'];

export interface SaveOptions {
  /** The model folder the weights came from: config.json (required) and generation_config.json are copied from it. */
  configFrom: FileSet;
  /** Element type of every saved tensor (default bf16, what Qwen checkpoints ship in). */
  dtype?: SaveDtype;
  /** Shard size limit in bytes (default 5 GB). */
  maxShardBytes?: number;
}

const ST_DTYPE = { bf16: 'BF16', f16: 'F16', f32: 'F32' } as const;
const TORCH_DTYPE = { bf16: 'bfloat16', f16: 'float16', f32: 'float32' } as const;
const BYTES = { bf16: 2, f16: 2, f32: 4 } as const;

export function shardName(i: number, n: number): string {
  return `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
}

/** Groups keys (in the order given) into shards of at most `maxBytes`, huggingface_hub's way. */
export function planShards(tensors: { key: string; bytes: number }[], maxBytes: number): string[][] {
  const shards: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const { key, bytes } of tensors) {
    if (bytes > maxBytes) {
      shards.push([key]);
      continue;
    }
    if (size + bytes > maxBytes) {
      shards.push(current);
      current = [];
      size = 0;
    }
    current.push(key);
    size += bytes;
  }
  if (current.length) shards.push(current);
  return shards;
}

/** A weight's elements in `dtype` (bf16/f16 rounded to nearest even, as torch's .to()). */
async function encode(t: Tensor, dtype: SaveDtype): Promise<ArrayBufferView> {
  const data = await t.data();
  if (t.dtype === dtype) return data;
  const f32 = t.dtype === 'f32' ? (data as Float32Array) : halfBitsToF32Array(data as Uint16Array, t.dtype as 'bf16' | 'f16');
  return dtype === 'f32' ? f32 : f32ArrayToHalfBits(f32, dtype);
}

/**
 * Writes the model's weights into folder `dir` (created if needed). LoRA adapters must be merged
 * first (mergeLora) or saved on their own (savePeftAdapter). Shard files of an earlier save that
 * this one does not replace are removed, so the folder always describes one checkpoint.
 */
export async function saveQwenVL(model: QwenVL, dir: string, opts: SaveOptions): Promise<void> {
  const p = platform();
  if (!p.writeFileAtomic || !p.mkdirp) throw new Error(`saveQwenVL: the ${p.name} platform cannot write files`);
  if (model.lora) throw new Error('saveQwenVL: LoRA adapters are attached; merge them into the weights first (mergeLora) or save them as a PEFT adapter (savePeftAdapter)');
  const dtype = opts.dtype ?? 'bf16';
  if (!(dtype in ST_DTYPE)) throw new Error(`saveQwenVL: dtype must be bf16, f16 or f32, got ${JSON.stringify(dtype)}`);
  const maxShardBytes = opts.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  if (!(Number.isSafeInteger(maxShardBytes) && maxShardBytes > 0)) throw new Error(`saveQwenVL: maxShardBytes must be a positive integer, got ${maxShardBytes}`);
  if (!(await opts.configFrom.has('config.json'))) throw new Error(`saveQwenVL: ${opts.configFrom.label} has no config.json to copy`);

  // transformers drops a tied head from the state dict before saving
  const tied = model.config.text.tieWordEmbeddings;
  const byKey = new Map<string, Tensor>();
  for (const [name, t] of model.params) if (!(tied && name === 'lm_head.weight')) byKey.set(layoutName(name, model.layout), t);
  const keys = [...byKey.keys()].sort();
  const bytes = (k: string) => byKey.get(k)!.size * BYTES[dtype];
  const shards = planShards(keys.map((key) => ({ key, bytes: bytes(key) })), maxShardBytes);
  const names = shards.length === 1 ? [SINGLE] : shards.map((_, i) => shardName(i, shards.length));

  await p.mkdirp(dir);
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards.length; s++) {
    const tensors = new Map<string, TensorToWrite>();
    for (const key of shards[s]) {
      const t = byKey.get(key)!;
      tensors.set(key, { dtype: ST_DTYPE[dtype], shape: [...t.shape], data: await encode(t, dtype) });
      weightMap[key] = names[s];
    }
    const path = joinPath(dir, names[s]);
    if (p.writeChunksAtomic) await p.writeChunksAtomic(path, safetensorsChunks(tensors, { format: 'pt' }));
    else await p.writeFileAtomic(path, writeSafetensors(tensors, { format: 'pt' }));
  }
  if (shards.length > 1) {
    const index = {
      metadata: { total_parameters: keys.reduce((a, k) => a + byKey.get(k)!.size, 0), total_size: keys.reduce((a, k) => a + bytes(k), 0) },
      weight_map: weightMap,
    };
    await p.writeFileAtomic(joinPath(dir, INDEX), new TextEncoder().encode(`${pythonJson(index)}\n`));
  }
  for (const name of COPIED) {
    if (!(await opts.configFrom.has(name))) continue;
    const bytes = await opts.configFrom.read(name);
    await p.writeFileAtomic(joinPath(dir, name), name === 'config.json' ? configWithDtype(bytes, dtype) : bytes);
  }

  if (p.listDir && p.remove) {
    const written = new Set(names);
    for (const e of await p.listDir(dir)) {
      const stale = e.kind === 'file' && !written.has(e.name) && (SHARD.test(e.name) || e.name === SINGLE || (e.name === INDEX && shards.length === 1));
      if (stale) await p.remove(joinPath(dir, e.name));
    }
  }
}

/**
 * config.json with every "dtype" / "torch_dtype" entry (top level and sub-configs) naming the
 * dtype saved: transformers loads a checkpoint in its config's dtype by default, so a stale
 * "bfloat16" would silently round f32 fine-tuned weights. Only those values change; the rest of
 * the file stays byte for byte (re-serialising would lose Python's int/float distinction).
 */
export function configWithDtype(bytes: Uint8Array, dtype: SaveDtype): Uint8Array {
  const text = new TextDecoder().decode(bytes);
  const out = text.replace(/("(?:torch_)?dtype"\s*:\s*)"[A-Za-z0-9_.]+"/g, `$1"${TORCH_DTYPE[dtype]}"`);
  return out === text ? bytes : new TextEncoder().encode(out);
}
