// Loads a Qwen2-VL / Qwen2.5-VL folder (config.json + safetensors, single or sharded) from a
// directory (Node) or picked files (browser).
import type { Runtime } from '../../tensor/runtime.js';
import type { FileSet } from '../../io/fileset.js';
import { safetensorsWeights } from '../../io/hf_weights.js';
import { parseQwenVLConfig } from './config.js';
import { QwenVL, type LoadOptions } from './model.js';

export async function loadQwenVL(rt: Runtime, files: FileSet, opts: LoadOptions = {}): Promise<QwenVL> {
  if (!(await files.has('config.json'))) throw new Error(`${files.label}: no config.json (is this a Hugging Face model folder?)`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(await files.read('config.json')));
  } catch (e) {
    throw new Error(`${files.label}/config.json: not valid JSON (${(e as Error).message})`);
  }
  const config = parseQwenVLConfig(json, `${files.label}/config.json`);
  return QwenVL.load(rt, config, await safetensorsWeights(files), opts);
}
