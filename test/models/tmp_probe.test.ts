import { readFileSync } from 'node:fs';
import { it } from 'vitest';
import { Runtime } from '../../src/tensor/runtime.js';
import { dirFileSet } from '../../src/io/fileset.js';
import { readSafetensors, tensorArray } from '../../src/io/safetensors.js';
import { loadQwenVL } from '../../src/models/qwen2vl/load.js';
import { maxRelError, testBackends } from '../helpers/backends.js';
const root = new URL('../fixtures/qwen_vl/', import.meta.url).pathname;
it('probe', async () => {
  const [{ backend }] = await testBackends();
  const rt = new Runtime(backend);
  for (const kind of ['qwen2_vl', 'qwen2_5_vl']) {
    const io = readSafetensors(readFileSync(`${root}${kind}/io.safetensors`)).tensors;
    const arr = (k: string) => tensorArray(io.get(k)!);
    const g = arr('image_grid_thw') as Int32Array;
    const grids: [number, number, number][] = [[g[0], g[1], g[2]], [g[3], g[4], g[5]]];
    const model = await loadQwenVL(rt, dirFileSet(`${root}${kind}/model`), { keepPacked: false });
    const feats = model.imageFeatures(rt.tensor(arr('pixel_values') as Float32Array, io.get('pixel_values')!.shape), grids);
    console.log(kind, 'image features', maxRelError(await feats.f32(), arr('image_features') as Float32Array));
    const out = model.forward({ inputIds: Int32Array.from(arr('text_input_ids') as Int32Array) });
    console.log(kind, 'text logits', maxRelError(await out.logits!.f32(), arr('text_logits') as Float32Array));
  }
});
