// The Stage-I trainer against the same loop written in PyTorch (float64; test/fixtures/sft_parity,
// made by tools/fixtures/sft_parity.py): 5 steps of full fine-tuning with AdamW, clipping, cosine
// warmup, grad-accum 2 over packed rows — losses per step and the final weights ≤ 1e-4 relative.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/tensor/runtime.js';
import { dirFileSet } from '../../src/io/fileset.js';
import { readSafetensors, tensorArray } from '../../src/io/safetensors.js';
import { loadQwenVL } from '../../src/models/qwen2vl/load.js';
import { SftTrainer } from '../../src/train/sft.js';
import { maxRelError, testBackends } from '../helpers/backends.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/sft_parity/sft_parity.json', import.meta.url), 'utf8'));
const weights = readSafetensors(readFileSync(new URL('../fixtures/sft_parity/sft_parity.safetensors', import.meta.url))).tensors;
const modelDir = new URL('../fixtures/qwen_vl/qwen2_5_vl/model', import.meta.url).pathname;
const backends = await testBackends();

describe.each(backends)('Stage-I trainer vs a PyTorch loop on $name', ({ backend }) => {
  it('5 optimizer steps give the same losses, learning rates and weights', async () => {
    const rt = new Runtime(backend);
    const model = await loadQwenVL(rt, dirFileSet(modelDir), { freeze: { vision: true } });
    const samples = fx.samples.map((s: { id: string; input_ids: number[]; labels: number[] }) => ({ id: s.id, inputIds: Int32Array.from(s.input_ids), labels: Int32Array.from(s.labels) }));
    const trainer = new SftTrainer(model, samples, {
      lr: fx.lr,
      schedule: 'cosine',
      epochs: 1,
      maxSteps: fx.steps,
      batchTokens: fx.batch_tokens,
      gradAccum: fx.grad_accum,
      warmup: { steps: fx.warmup },
      weightDecay: fx.weight_decay,
      maxGradNorm: fx.max_grad_norm,
      seed: 0,
      shuffle: false,
      beta1: fx.betas[0],
      beta2: fx.betas[1],
      eps: fx.eps,
    });
    for (let s = 0; s < fx.steps; s++) {
      const r = await trainer.train();
      expect(r.lr).toBeCloseTo(fx.lrs[s], 12);
      expect(Math.abs(r.loss - fx.losses[s]) / fx.losses[s], `loss at step ${s + 1}: ${r.loss} vs ${fx.losses[s]}`).toBeLessThanOrEqual(1e-4);
      const norm = await trainer.optimizer.gradNorm();
      expect(Math.abs(norm - fx.grad_norms[s]) / fx.grad_norms[s], `grad norm at step ${s + 1}`).toBeLessThanOrEqual(1e-4);
    }
    expect(trainer.done).toBe(true);
    let checked = 0;
    for (const [name, t] of weights) {
      const err = maxRelError(await model.params.get(name)!.f32(), tensorArray(t) as Float32Array);
      expect(err, `${name}: rel error ${err}`).toBeLessThanOrEqual(1e-4);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
    trainer.optimizer.dispose();
    model.release();
  });
});
