// Backends under test: wasm always; WebGPU on whatever adapter is present (lavapipe in CI,
// where a missing adapter is a failure, never a skip).
import '../../src/node.js';
import type { Backend } from '../../src/backend/backend.js';
import { createBackend } from '../../src/backend/select.js';
import type { Storage } from '../../src/backend/storage.js';
import { Rng } from '../../src/util/rng.js';

export interface NamedBackend {
  name: 'wasm' | 'webgpu';
  backend: Backend;
}

let cached: Promise<NamedBackend[]> | undefined;

/** Both backends, created once per test file (process). The WebGPU one keeps Dawn alive. */
export function testBackends(): Promise<NamedBackend[]> {
  cached ??= (async () => {
    const list: NamedBackend[] = [{ name: 'wasm', backend: (await createBackend('wasm')).backend }];
    try {
      list.push({ name: 'webgpu', backend: (await createBackend('webgpu')).backend });
    } catch (e) {
      if (process.env.CI) throw new Error(`CI must run the WebGPU tests on lavapipe: ${(e as Error).message}`);
      console.warn(`WebGPU tests skipped: ${(e as Error).message}`);
    }
    return list;
  })();
  return cached;
}

export function upload(b: Backend, data: Float32Array | Int32Array | Uint32Array | Uint16Array): Storage {
  const s = b.alloc(Math.max(4, data.byteLength), 'test upload');
  b.write(s, data);
  return s;
}

export async function downloadF32(b: Backend, s: Storage, n: number): Promise<Float32Array> {
  return new Float32Array(await b.read(s, 0, n * 4));
}

export async function downloadI32(b: Backend, s: Storage, n: number): Promise<Int32Array> {
  return new Int32Array(await b.read(s, 0, n * 4));
}

/** Deterministic pseudo-random floats in [lo, hi), so failures reproduce. */
export function randomF32(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  return new Rng(seed).uniformArray(n, lo, hi);
}

/** max |a−b| / max(|b|max, floor): the relative error measure used across the tests. */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-6): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let maxDiff = 0;
  let maxRef = floor;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  return maxDiff / maxRef;
}
