// A 96-token sequence, long enough for the text model to run q/k/v and gate/up as stacked
// products (text.ts): logits, loss and every gradient against transformers, and with peft's LoRA
// adapter on k_proj, o_proj, gate_proj and up_proj (but not layer 0's up_proj) logits, loss and the
// adapter's gradients against peft (test/fixtures/qwen_vl_long from tools/fixtures/qwen_vl_long.py).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/tensor/runtime.js';
import { backward } from '../../src/tensor/autograd.js';
import { dirFileSet } from '../../src/io/fileset.js';
import { readSafetensors, tensorArray } from '../../src/io/safetensors.js';
import { loadQwenVL } from '../../src/models/qwen2vl/load.js';
import { loadPeftAdapter } from '../../src/models/qwen2vl/adapter.js';
import type { MatmulArgs } from '../../src/backend/kernels.js';
import type { Storage } from '../../src/backend/storage.js';
import { maxRelError, testBackends } from '../helpers/backends.js';

const backends = await testBackends();
const fixtures = new URL('../fixtures/', import.meta.url).pathname;
const model = `${fixtures}qwen_vl/qwen2_5_vl/model`;
const io = readSafetensors(readFileSync(`${fixtures}qwen_vl_long/io.safetensors`)).tensors;
const arr = (k: string) => tensorArray(io.get(k)!);
const ids = Int32Array.from(arr('input_ids') as Int32Array);
const labels = Int32Array.from(arr('labels') as Int32Array);

describe.each(backends)('a 96-token sequence (stacked projections) against transformers on $name', ({ backend }) => {
  const rt = new Runtime(backend);
  const load = () => loadQwenVL(rt, dirFileSet(model), { freeze: { vision: true, merger: true, language: false }, keepPacked: false });

  /** Runs f while recording the output widths of the forward products of the layers reading a norm's output (k = hidden), the LM head's aside. */
  async function widths<T>(hidden: number, head: Storage, f: () => Promise<T>): Promise<[T, number[]]> {
    const seen: number[] = [];
    const matmul = backend.matmul.bind(backend);
    backend.matmul = (a: MatmulArgs) => {
      if (a.k === hidden && a.transB && !a.transA && a.b !== head) seen.push(a.n);
      matmul(a);
    };
    try {
      return [await f(), seen];
    } finally {
      backend.matmul = matmul;
    }
  }

  it('q/k/v and gate/up run as one product each; logits, loss and every gradient match', async () => {
    const m = await load();
    const t = m.config.text;
    const [, seen] = await widths(t.hiddenSize, m.weight('lm_head.weight').storage, () =>
      rt.scopeAsync(async () => {
        const out = m.forward({ inputIds: ids, labels });
        const err = maxRelError(await out.logits!.f32(), arr('logits') as Float32Array);
        expect(err, `logits rel error ${err}`).toBeLessThanOrEqual(1e-4);
        const loss = await out.loss!.item();
        const want = (arr('loss') as Float32Array)[0];
        expect(Math.abs(loss - want) / want).toBeLessThanOrEqual(1e-4);
        backward(out.loss!);
      }),
    );
    const qkv = (t.numHeads + 2 * t.numKvHeads) * t.headDim;
    expect(seen.filter((n) => n === qkv).length, 'stacked q/k/v products').toBe(t.numLayers);
    expect(seen.filter((n) => n === 2 * t.intermediateSize).length, 'stacked gate/up products').toBe(t.numLayers);
    let checked = 0;
    for (const [name, p] of m.params) {
      const ref = io.get(`grad.${name}`);
      if (!p.requiresGrad) continue;
      expect(ref, `transformers has a gradient for ${name}`).toBeDefined();
      const err = maxRelError(await p.grad!.f32(), tensorArray(ref!) as Float32Array);
      expect(err, `gradient of ${name}: rel error ${err}`).toBeLessThanOrEqual(1e-3);
      checked++;
    }
    expect(checked).toBe([...io.keys()].filter((k) => k.startsWith('grad.')).length);
    m.release();
  });

  it("with peft's adapter (LoRA on some of the stacked layers): logits, loss and the LoRA gradients match peft", async () => {
    const m = await load();
    await loadPeftAdapter(m, dirFileSet(`${fixtures}peft_lora/peft`));
    await rt.scopeAsync(async () => {
      const out = m.forward({ inputIds: ids, labels }); // not training: no dropout, as peft in eval mode
      const err = maxRelError(await out.logits!.f32(), arr('peft_logits') as Float32Array);
      expect(err, `logits vs peft: rel error ${err}`).toBeLessThanOrEqual(1e-4);
      const want = (arr('peft_loss') as Float32Array)[0];
      expect(Math.abs((await out.loss!.item()) - want) / want).toBeLessThanOrEqual(1e-4);
      backward(out.loss!);
    });
    let checked = 0;
    for (const [module, pair] of m.lora!.pairs)
      for (const [which, t] of [['lora_A', pair.a], ['lora_B', pair.b]] as const) {
        const ref = io.get(`peft_grad.${module}.${which}.weight`);
        if (module.startsWith('model.visual.')) {
          expect(ref, `${module} (vision, text-only input) has no gradient in peft`).toBeUndefined();
          continue;
        }
        expect(ref, `peft has a gradient for ${module}.${which}`).toBeDefined();
        const err = maxRelError(await t.grad!.f32(), tensorArray(ref!) as Float32Array);
        expect(err, `gradient of ${module}.${which}: rel error ${err}`).toBeLessThanOrEqual(1e-3);
        checked++;
      }
    expect(checked).toBe([...io.keys()].filter((k) => k.startsWith('peft_grad.')).length);
    m.release();
  });
});
