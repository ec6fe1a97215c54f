// The runs whose results must be bit-identical in Chromium and in Node (both on SwiftShader):
// platform-free, so the page and the Node child process execute this same module.
import { createBackend } from '../../../src/backend/select.js';
import type { FileSet } from '../../../src/io/fileset.js';
import { loadQwenVL } from '../../../src/models/qwen2vl/load.js';
import { Runtime } from '../../../src/tensor/runtime.js';
import { SftTrainer } from '../../../src/train/sft.js';
import { trainMlp } from '../../helpers/mlp.js';

export interface IdentityResult {
  /** The WebGPU adapter, as BackendInfo describes it. */
  adapter: string;
  /** Loss after each step, as the f32 values read back. */
  losses: number[];
  /** SHA-256 (hex) of the final trainable weights' f32 bytes, in a fixed order. */
  sha256: string;
}

/** The tiny model's folder and packed-row samples (test/fixtures/qwen_vl/qwen2_5_vl/model, test/fixtures/sft_parity). */
export interface SftFixture {
  model: FileSet;
  samples: { id: string; input_ids: number[]; labels: number[] }[];
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function onWebGpu(run: (rt: Runtime) => Promise<{ losses: number[]; weights: Float32Array[] }>): Promise<IdentityResult> {
  const { backend } = await createBackend('webgpu');
  try {
    const { losses, weights } = await run(new Runtime(backend));
    const all = new Uint8Array(weights.reduce((n, w) => n + w.byteLength, 0));
    let at = 0;
    for (const w of weights) {
      all.set(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), at);
      at += w.byteLength;
    }
    return { adapter: backend.info.description, losses, sha256: await sha256Hex(all) };
  } finally {
    backend.destroy();
  }
}

/** The MLP of test/tensor/mlp.test.ts, `steps` AdamW steps. */
export function mlpIdentity(steps: number): Promise<IdentityResult> {
  return onWebGpu(async (rt) => {
    const { losses, weights } = await trainMlp(rt, steps);
    return { losses, weights: [weights] };
  });
}

/**
 * `steps` Stage-I steps of the tiny Qwen2.5-VL, full fine-tuning (vision frozen): shuffled
 * packing, grad-accum 2, cosine warmup, AdamW with weight decay and clipping. Weights are
 * hashed in name order.
 */
export function sftIdentity(fx: SftFixture, steps: number): Promise<IdentityResult> {
  return onWebGpu(async (rt) => {
    const model = await loadQwenVL(rt, fx.model, { freeze: { vision: true } });
    const samples = fx.samples.map((s) => ({ id: s.id, inputIds: Int32Array.from(s.input_ids), labels: Int32Array.from(s.labels) }));
    const trainer = new SftTrainer(model, samples, {
      lr: 1e-3,
      schedule: 'cosine',
      epochs: 3,
      maxSteps: steps,
      batchTokens: 24,
      gradAccum: 2,
      warmup: { steps: 2 },
      weightDecay: 0.01,
      maxGradNorm: 1,
      seed: 7,
    });
    const losses: number[] = [];
    while (!trainer.done) losses.push((await trainer.train()).loss);
    const names = [...model.params.keys()].filter((n) => model.params.get(n)!.requiresGrad).sort();
    const weights = await Promise.all(names.map((n) => model.params.get(n)!.f32()));
    trainer.optimizer.dispose();
    model.release();
    return { losses, weights };
  });
}
