// The runs whose results must be bit-identical in Chromium and in Node (both on SwiftShader):
// platform-free, so the page and the Node child process execute this same module.
import { createBackend } from '../../../src/backend/select.js';
import { Runtime } from '../../../src/tensor/runtime.js';
import { trainMlp } from '../../helpers/mlp.js';

export interface IdentityResult {
  /** The WebGPU adapter, as BackendInfo describes it. */
  adapter: string;
  /** Loss after each step, as the f32 values read back. */
  losses: number[];
  /** SHA-256 (hex) of the final trainable weights' f32 bytes, in a fixed order. */
  sha256: string;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The MLP of test/tensor/mlp.test.ts, `steps` AdamW steps on WebGPU. */
export async function mlpIdentity(steps: number): Promise<IdentityResult> {
  const { backend } = await createBackend('webgpu');
  try {
    const { losses, weights } = await trainMlp(new Runtime(backend), steps);
    return { adapter: backend.info.description, losses, sha256: await sha256Hex(new Uint8Array(weights.buffer)) };
  } finally {
    backend.destroy();
  }
}
