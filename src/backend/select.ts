// Picks a backend: a real (hardware) WebGPU adapter if present, else wasm.
// `webgpu` forces WebGPU (software adapters such as lavapipe included); `wasm` forces the CPU.
import type { Backend } from './backend.js';
import { platform } from '../platform/platform.js';
import { acquireDevice } from './webgpu/device.js';
import { WebGpuBackend } from './webgpu/backend.js';
import { parseMatmulTuning, useMatmulTuning } from './webgpu/kernels/matmul.js';
import { WasmBackend } from './wasm/backend.js';

export type DeviceChoice = 'auto' | 'webgpu' | 'wasm';

export function parseDeviceChoice(s: string | undefined): DeviceChoice {
  if (s === undefined || s === 'auto' || s === 'webgpu' || s === 'wasm') return s ?? 'auto';
  throw new Error(`unknown device '${s}': expected webgpu, wasm or auto`);
}

export interface BackendChoice {
  backend: Backend;
  /** Why this backend was chosen, for `mede2 info` and logs. */
  reason: string;
}

/** Registers the matmul tuning tables the platform names (Node: MEDE2_MATMUL_TUNING); errors name the file. */
async function loadMatmulTunings(): Promise<void> {
  const p = platform();
  for (const file of p.matmulTuningFiles?.() ?? []) {
    const where = `${file} (MEDE2_MATMUL_TUNING)`;
    const bytes = await p.readFile!(file).catch((e: Error) => {
      throw new Error(`${where}: cannot read it: ${e.message}`);
    });
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      throw new Error(`${where}: not JSON (${(e as Error).message})`);
    }
    useMatmulTuning(parseMatmulTuning(json, where));
  }
}

export async function createBackend(choice: DeviceChoice = 'auto'): Promise<BackendChoice> {
  if (choice === 'wasm') return { backend: await WasmBackend.create(), reason: 'forced with --device wasm' };
  const gpu = await platform().gpu();
  const acquired = gpu ? await acquireDevice(gpu) : undefined;
  const webgpu = async (a: NonNullable<typeof acquired>, reason: string): Promise<BackendChoice> => {
    await loadMatmulTunings().catch((e: unknown) => {
      a.device.destroy();
      throw e;
    });
    return { backend: new WebGpuBackend(a.info, a.device, [gpu, a.adapter]), reason };
  };
  if (choice === 'webgpu') {
    if (!acquired)
      throw new Error(
        gpu
          ? 'no WebGPU adapter found (on Linux without a GPU, install Mesa lavapipe: see README); use --device wasm for the CPU backend'
          : 'this runtime has no WebGPU; use --device wasm for the CPU backend',
      );
    return webgpu(acquired, 'forced with --device webgpu');
  }
  if (acquired && !acquired.info.software) return webgpu(acquired, 'hardware WebGPU adapter found');
  acquired?.device.destroy();
  return {
    backend: await WasmBackend.create(),
    reason: acquired ? `only a software WebGPU adapter (${acquired.info.description}); wasm is faster on the CPU` : 'no WebGPU adapter',
  };
}
