// Picks a backend: a real (hardware) WebGPU adapter if present, else wasm.
// `webgpu` forces WebGPU (software adapters such as lavapipe included); `wasm` forces the CPU.
import type { Backend } from './backend.js';
import { platform } from '../platform/platform.js';
import { acquireDevice } from './webgpu/device.js';
import { WebGpuBackend } from './webgpu/backend.js';
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

export async function createBackend(choice: DeviceChoice = 'auto'): Promise<BackendChoice> {
  if (choice === 'wasm') return { backend: await WasmBackend.create(), reason: 'forced with --device wasm' };
  const gpu = await platform().gpu();
  const acquired = gpu ? await acquireDevice(gpu) : undefined;
  if (choice === 'webgpu') {
    if (!acquired)
      throw new Error(
        gpu
          ? 'no WebGPU adapter found (on Linux without a GPU, install Mesa lavapipe: see README); use --device wasm for the CPU backend'
          : 'this runtime has no WebGPU; use --device wasm for the CPU backend',
      );
    return { backend: new WebGpuBackend(acquired.info, acquired.device, [gpu, acquired.adapter]), reason: 'forced with --device webgpu' };
  }
  if (acquired && !acquired.info.software)
    return { backend: new WebGpuBackend(acquired.info, acquired.device, [gpu, acquired.adapter]), reason: 'hardware WebGPU adapter found' };
  acquired?.device.destroy();
  return {
    backend: await WasmBackend.create(),
    reason: acquired ? `only a software WebGPU adapter (${acquired.info.description}); wasm is faster on the CPU` : 'no WebGPU adapter',
  };
}
