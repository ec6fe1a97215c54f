// Weights of a Hugging Face model folder: model.safetensors, or the shards listed by
// model.safetensors.index.json. Only headers are read up front; each tensor is read on
// demand by byte range, so a 7 GB checkpoint never sits in memory whole.
import type { FileSet } from './fileset.js';
import { readSafetensorsHeader, type SafetensorsHeader } from './safetensors.js';
import type { WeightRecord, WeightSource } from './weights.js';

const INDEX = 'model.safetensors.index.json';
const SINGLE = 'model.safetensors';

async function header(files: FileSet, name: string): Promise<SafetensorsHeader> {
  const size = await files.size(name);
  if (size < 8) throw new Error(`${files.label}/${name}: ${size} bytes, too short for a safetensors file`);
  const prefix = await files.readRange(name, 0, 8);
  const n = Number(new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true));
  try {
    return readSafetensorsHeader(await files.readRange(name, 0, Math.min(size, 8 + n)), size);
  } catch (e) {
    throw new Error(`${files.label}/${name}: ${(e as Error).message}`);
  }
}

export async function safetensorsWeights(files: FileSet): Promise<WeightSource> {
  const where = new Map<string, { file: string; h: SafetensorsHeader }>();
  if (await files.has(INDEX)) {
    let index: { weight_map?: Record<string, string> };
    try {
      index = JSON.parse(new TextDecoder().decode(await files.read(INDEX)));
    } catch (e) {
      throw new Error(`${files.label}/${INDEX}: not valid JSON (${(e as Error).message})`);
    }
    const map = index.weight_map;
    if (!map || typeof map !== 'object') throw new Error(`${files.label}/${INDEX}: missing 'weight_map'`);
    const headers = new Map<string, SafetensorsHeader>();
    for (const shard of new Set(Object.values(map))) {
      if (!(await files.has(shard))) throw new Error(`${files.label}: shard '${shard}' listed in ${INDEX} is missing`);
      headers.set(shard, await header(files, shard));
    }
    for (const [key, shard] of Object.entries(map)) {
      const h = headers.get(shard)!;
      if (!h.tensors.has(key)) throw new Error(`${files.label}/${INDEX}: '${key}' is mapped to ${shard}, which does not contain it`);
      where.set(key, { file: shard, h });
    }
  } else if (await files.has(SINGLE)) {
    const h = await header(files, SINGLE);
    for (const key of h.tensors.keys()) where.set(key, { file: SINGLE, h });
  } else throw new Error(`${files.label}: no ${SINGLE} or ${INDEX} found`);

  return {
    keys: () => [...where.keys()],
    async read(key: string): Promise<WeightRecord> {
      const w = where.get(key);
      if (!w) throw new Error(`${files.label}: no tensor '${key}'`);
      const t = w.h.tensors.get(key)!;
      const data = await files.readRange(w.file, w.h.dataOffset + t.begin, w.h.dataOffset + t.end);
      return { dtype: t.dtype, shape: t.shape, data };
    },
  };
}
