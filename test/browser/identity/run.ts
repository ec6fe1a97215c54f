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

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** f32 arrays' bytes, concatenated. */
function concatBytes(arrays: Float32Array[]): Uint8Array {
  const all = new Uint8Array(arrays.reduce((n, w) => n + w.byteLength, 0));
  let at = 0;
  for (const w of arrays) {
    all.set(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), at);
    at += w.byteLength;
  }
  return all;
}

/** The MLP of test/tensor/mlp.test.ts, `steps` AdamW steps. */
async function mlpRun(rt: Runtime, steps: number): Promise<{ losses: number[]; weights: Float32Array[] }> {
  const { losses, weights } = await trainMlp(rt, steps);
  return { losses, weights: [weights] };
}

/**
 * `steps` Stage-I steps of the tiny Qwen2.5-VL, full fine-tuning (vision frozen): shuffled
 * packing, cosine warmup, AdamW with weight decay and clipping. One packed row per step
 * (SwiftShader runs the attention kernels slowly; gradient accumulation is the same kernels
 * again). Weights are hashed in name order.
 */
async function sftRun(rt: Runtime, fx: SftFixture, steps: number): Promise<{ losses: number[]; weights: Float32Array[] }> {
  const model = await loadQwenVL(rt, fx.model, { freeze: { vision: true } });
  const samples = fx.samples.map((s) => ({ id: s.id, inputIds: Int32Array.from(s.input_ids), labels: Int32Array.from(s.labels) }));
  const trainer = new SftTrainer(model, samples, {
    lr: 1e-3,
    schedule: 'cosine',
    epochs: 3,
    maxSteps: steps,
    batchTokens: 24,
    gradAccum: 1,
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
}

export interface IdentityResults {
  mlp: IdentityResult;
  sft: IdentityResult;
}

/**
 * Both runs on one WebGPU device, so the pipelines they share are compiled once (SwiftShader
 * compiles slowly: that is most of the time this takes).
 */
export async function identityRuns(fx: SftFixture, steps: number): Promise<IdentityResults> {
  const { backend } = await createBackend('webgpu');
  const rt = new Runtime(backend);
  const result = async (run: { losses: number[]; weights: Float32Array[] }): Promise<IdentityResult> => ({
    adapter: backend.info.description,
    losses: run.losses,
    sha256: await sha256Hex(concatBytes(run.weights)),
  });
  try {
    return { mlp: await result(await mlpRun(rt, steps)), sft: await result(await sftRun(rt, fx, steps)) };
  } finally {
    backend.destroy();
  }
}
