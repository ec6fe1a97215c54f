// Picks a backend: a real (hardware) WebGPU adapter if present, else wasm.
// `webgpu` forces WebGPU (software adapters such as lavapipe included); `wasm` forces the CPU.
import type { Backend } from './backend.js';
import { platform, tuningVariable, type TuningKind } from '../platform/platform.js';
import { acquireDevice } from './webgpu/device.js';
import { WebGpuBackend } from './webgpu/backend.js';
import { parseMatmulTuning, useMatmulTuning } from './webgpu/kernels/matmul.js';
import { parseAttentionTuning, useAttentionTuning } from './webgpu/kernels/attention.js';
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

/** How each kind of tuning table is checked and registered. */
const USE_TUNING: Record<TuningKind, (json: unknown, source: string) => void> = {
  matmul: (json, source) => useMatmulTuning(parseMatmulTuning(json, source)),
  attention: (json, source) => useAttentionTuning(parseAttentionTuning(json, source)),
};

/** Registers the tuning tables the platform names (Node: MEDE2_MATMUL_TUNING, MEDE2_ATTENTION_TUNING); errors name the file and the variable. */
async function loadTunings(): Promise<void> {
  for (const kind of Object.keys(USE_TUNING) as TuningKind[])
    for (const file of platform().tuningFiles?.(kind) ?? []) await loadTuning(kind, file);
}

/** Reads, checks and registers one table; errors name the file and the variable that named it. */
async function loadTuning(kind: TuningKind, file: string): Promise<void> {
  const where = `${file} (${tuningVariable(kind)})`;
  const bytes = await platform().readFile!(file).catch((e: Error) => {
    throw new Error(`${where}: cannot read it: ${e.message}`);
  });
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new Error(`${where}: not JSON (${(e as Error).message})`);
  }
  USE_TUNING[kind](json, where);
}

export async function createBackend(choice: DeviceChoice = 'auto'): Promise<BackendChoice> {
  if (choice === 'wasm') return { backend: await WasmBackend.create(), reason: 'forced with --device wasm' };
  const gpu = await platform().gpu();
  const acquired = gpu ? await acquireDevice(gpu) : undefined;
  const webgpu = async (a: NonNullable<typeof acquired>, reason: string): Promise<BackendChoice> => {
    await loadTunings().catch((e: unknown) => {
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
