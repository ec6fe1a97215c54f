// Qwen2-VL and Qwen2.5-VL against transformers 5.17 (test/fixtures/qwen_vl, made by
// tools/fixtures/qwen_vl.py): loading in every layout, logits, loss, every gradient,
// greedy generation.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/tensor/runtime.js';
import { backward } from '../../src/tensor/autograd.js';
import { dirFileSet } from '../../src/io/fileset.js';
import { readSafetensors, tensorArray } from '../../src/io/safetensors.js';
import { loadQwenVL } from '../../src/models/qwen2vl/load.js';
import { parseQwenVLConfig } from '../../src/models/qwen2vl/config.js';
import { generate } from '../../src/models/qwen2vl/generate.js';
import type { Grid } from '../../src/models/qwen2vl/vision.js';
import { maxRelError, testBackends } from '../helpers/backends.js';

const backends = await testBackends();
const root = new URL('../fixtures/qwen_vl/', import.meta.url).pathname;
const fixture = (kind: string) => {
  const io = readSafetensors(readFileSync(`${root}${kind}/io.safetensors`)).tensors;
  const arr = (k: string) => tensorArray(io.get(k)!);
  return {
    io,
    ids: Int32Array.from(arr('input_ids') as Int32Array),
    labels: Int32Array.from(arr('labels') as Int32Array),
    pixels: Float32Array.from(arr('pixel_values') as Float32Array),
    pixelShape: io.get('pixel_values')!.shape,
    grids: chunk3(arr('image_grid_thw') as Int32Array),
    logits: arr('logits') as Float32Array,
    loss: (arr('loss') as Float32Array)[0],
    gen: JSON.parse(readFileSync(`${root}${kind}/generate.json`, 'utf8')) as { prompt: number[]; generated: number[]; grid: Grid },
  };
};
function chunk3(a: Int32Array): Grid[] {
  return Array.from({ length: a.length / 3 }, (_, i) => [a[3 * i], a[3 * i + 1], a[3 * i + 2]] as Grid);
}

describe('config.json layouts', () => {
  it('the flat (hub original) and nested (transformers 5) configs normalise to the same config', () => {
    const nested = parseQwenVLConfig(JSON.parse(readFileSync(`${root}qwen2_5_vl/model/config.json`, 'utf8')));
    const flat = parseQwenVLConfig(JSON.parse(readFileSync(`${root}qwen2_5_vl/flat/config.json`, 'utf8')));
    expect(flat).toEqual(nested);
    expect(nested.text.mropeSection).toEqual([2, 3, 3]);
    expect(nested.vision.fullattBlockIndexes).toEqual([1]);
  });
  it('bad configs are clear errors', () => {
    expect(() => parseQwenVLConfig({ model_type: 'llama' }, 'x/config.json')).toThrow(/x\/config.json: model_type "llama" is not supported/);
    const c = JSON.parse(readFileSync(`${root}qwen2_5_vl/model/config.json`, 'utf8'));
    c.text_config.rope_parameters.mrope_section = [2, 2, 2];
    expect(() => parseQwenVLConfig(c)).toThrow(/mrope_section \[2,2,2\] must sum to head_dim \/ 2 = 8/);
  });
});

describe.each(backends)('Qwen-VL parity with transformers on $name', ({ backend }) => {
  const rt = new Runtime(backend);

  it('the nested, flat, sharded and transformers-5-named checkpoints load to identical weights', async () => {
    const load = (d: string) => loadQwenVL(rt, dirFileSet(`${root}qwen2_5_vl/${d}`), { keepPacked: false });
    const models = [await load('model'), await load('flat'), await load('sharded'), await load('t5')];
    // transformers 5 itself writes the hub's original key names (model.layers.*, visual.*).
    expect(models.map((m) => m.layout)).toEqual(['original', 'original', 'original', 'transformers5']);
    const [a, ...rest] = models;
    for (const m of rest) expect([...m.params.keys()].sort()).toEqual([...a.params.keys()].sort());
    for (const name of ['model.visual.blocks.1.attn.qkv.weight', 'model.language_model.layers.1.mlp.down_proj.weight', 'lm_head.weight']) {
      const ref = await a.params.get(name)!.f32();
      for (const m of rest) expect(await m.params.get(name)!.f32()).toEqual(ref);
    }
    for (const m of models) m.release();
  });

  for (const kind of ['qwen2_5_vl', 'qwen2_vl'])
    describe(kind, () => {
      const f = fixture(kind);

      /** Every parameter's gradient against transformers'. */
      async function expectGradients(model: Awaited<ReturnType<typeof loadQwenVL>>): Promise<void> {
        let checked = 0;
        for (const [name, p] of model.params) {
          const ref = f.io.get(`grad.${name}`);
          expect(ref, `transformers has a gradient for ${name}`).toBeDefined();
          const want = tensorArray(ref!) as Float32Array;
          const err = maxRelError(await p.grad!.f32(), want);
          expect(err, `gradient of ${name}: rel error ${err}`).toBeLessThanOrEqual(1e-3);
          checked++;
        }
        expect(checked).toBe([...f.io.keys()].filter((k) => k.startsWith('grad.')).length);
      }
      const trainable = { freeze: { vision: false, merger: false, language: false }, keepPacked: false };

      it('logits, loss and every gradient match transformers', async () => {
        const model = await loadQwenVL(rt, dirFileSet(`${root}${kind}/model`), trainable);
        await rt.scopeAsync(async () => {
          const out = model.forward({
            inputIds: f.ids,
            labels: f.labels,
            pixelValues: rt.tensor(f.pixels, f.pixelShape),
            imageGridThw: f.grids,
          });
          const logitsErr = maxRelError(await out.logits!.f32(), f.logits);
          expect(logitsErr, `logits rel error ${logitsErr}`).toBeLessThanOrEqual(1e-4);
          const loss = await out.loss!.item();
          expect(Math.abs(loss - f.loss) / f.loss).toBeLessThanOrEqual(1e-4);
          backward(out.loss!);
          await expectGradients(model);
        });
        model.release();
      });

      it('the training loss (no logits) takes only the labelled rows through the LM head, and matches transformers', async () => {
        const model = await loadQwenVL(rt, dirFileSet(`${root}${kind}/model`), trainable);
        const head = model.params.get('lm_head.weight')!.storage;
        const headRows: number[] = [];
        const matmul = backend.matmul.bind(backend);
        backend.matmul = (a) => {
          if (a.b === head && a.transB) headRows.push(a.m * a.batch); // the logits of a chunk of rows
          matmul(a);
        };
        try {
          await rt.scopeAsync(async () => {
            const out = model.forward({ inputIds: f.ids, labels: f.labels, pixelValues: rt.tensor(f.pixels, f.pixelShape), imageGridThw: f.grids, logits: 'none' });
            expect(out.logits).toBeNull();
            const loss = await out.loss!.item();
            expect(Math.abs(loss - f.loss) / f.loss).toBeLessThanOrEqual(1e-4);
            backward(out.loss!);
            await expectGradients(model);
          });
        } finally {
          backend.matmul = matmul;
        }
        // Token t is scored on label t + 1: the rows whose next label is not −100.
        const labelled = f.labels.slice(1).filter((l) => l !== -100).length;
        expect(labelled).toBeLessThan(f.ids.length - 1);
        expect(headRows.reduce((s, m) => s + m, 0)).toBe(labelled);
        model.release();
      });

      it('greedy generation of 12 tokens matches token for token', async () => {
        const model = await loadQwenVL(rt, dirFileSet(`${root}${kind}/model`));
        const nPatch = f.gen.grid[0] * f.gen.grid[1] * f.gen.grid[2];
        const pixels = rt.keep(rt.tensor(f.pixels.subarray(0, nPatch * f.pixelShape[1]), [nPatch, f.pixelShape[1]]));
        const out = await generate(model, { inputIds: Int32Array.from(f.gen.prompt), pixelValues: pixels, imageGridThw: [f.gen.grid], maxNewTokens: 12 });
        expect(out.tokens).toEqual(f.gen.generated);
        pixels.release();
        model.release();
      });
    });
});
