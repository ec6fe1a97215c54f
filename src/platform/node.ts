// Node: WebGPU from the `webgpu` package (Dawn). The object create() returns must stay
// referenced while its adapter is used, or the process crashes when it is collected.
import { readFile } from 'node:fs/promises';
import type { Platform } from './platform.js';

let dawn: GPU | undefined;
let tried = false;

/** Dawn toggles, e.g. MEDE2_DAWN_FLAGS="enable-dawn-features=allow_unsafe_apis". */
function dawnFlags(): string[] {
  const f = process.env.MEDE2_DAWN_FLAGS;
  return f ? f.split(/\s+/).filter(Boolean) : [];
}

export const nodePlatform: Platform = {
  name: 'node',
  async gpu() {
    if (!tried) {
      tried = true;
      process.env.XDG_RUNTIME_DIR ??= '/tmp'; // Vulkan loaders warn and some ICDs fail without it
      try {
        const { create, globals } = await import('webgpu');
        Object.assign(globalThis, globals); // GPUBufferUsage & co. as in the browser
        dawn = create(dawnFlags()) as GPU;
      } catch {
        dawn = undefined;
      }
    }
    return dawn;
  },
  readFile: (path) => readFile(path),
};
