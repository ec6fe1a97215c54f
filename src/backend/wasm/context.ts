// Owns the kernels wasm instance: tensors live in its linear memory as (ptr, bytes).
// Memory may grow on any alloc, so typed views are made fresh on each access.
import { instantiateEmbedded } from '../../util/wasm.js';
import { wasmBase64 } from '../../generated/wasm/kernels.js';
import type { MemoryStats, Storage } from '../storage.js';

export class WasmStorage implements Storage {
  freed = false;
  constructor(
    readonly id: number,
    readonly bytes: number,
    readonly ptr: number,
  ) {}
}

/** The wasm exports every family module may call; families add their own signatures via `k<T>()`. */
export interface CoreExports {
  alloc(bytes: number): number;
  free(ptr: number): void;
  memory: WebAssembly.Memory;
}

const MAX_BYTES = 4 * 2 ** 30 - 2 ** 16; // wasm32 address space

export class WasmContext {
  private nextId = 1;
  private live = 0;
  private peak = 0;

  private constructor(
    readonly exports: CoreExports & Record<string, unknown>,
    readonly memory: WebAssembly.Memory,
  ) {}

  static async create(): Promise<WasmContext> {
    const { exports, memory } = await instantiateEmbedded<CoreExports & Record<string, unknown>>('kernels', wasmBase64);
    return new WasmContext(exports, memory);
  }

  /** Typed access to a family's exported functions. */
  k<T>(): T {
    return this.exports as unknown as T;
  }

  alloc(bytes: number, label: string): WasmStorage {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new Error(`${label}: invalid allocation size ${bytes}`);
    if (bytes > MAX_BYTES) throw new Error(`${label}: needs ${bytes} bytes, over the wasm backend's 4 GiB address space`);
    let ptr: number;
    try {
      ptr = this.exports.alloc(bytes) >>> 0;
    } catch {
      throw new Error(`${label}: wasm backend out of memory allocating ${bytes} bytes (${this.live} bytes live)`);
    }
    this.live += bytes;
    if (this.live > this.peak) this.peak = this.live;
    return new WasmStorage(this.nextId++, bytes, ptr);
  }

  free(s: WasmStorage): void {
    if (s.freed) throw new Error(`storage #${s.id} released twice`);
    s.freed = true;
    this.live -= s.bytes;
    this.exports.free(s.ptr);
  }

  /** The storage's address, checked against use-after-release. */
  ptr(s: Storage, label: string): number {
    if (s.freed) throw new Error(`${label}: uses a released tensor (storage #${s.id})`);
    return (s as WasmStorage).ptr;
  }

  bytes(s: Storage): Uint8Array {
    return new Uint8Array(this.memory.buffer, (s as WasmStorage).ptr, s.bytes);
  }

  /** Copies a small i32 array (shapes, strides) into scratch memory for a kernel call; caller frees. */
  i32Scratch(values: number[], label: string): WasmStorage {
    const s = this.alloc(Math.max(4, values.length * 4), label);
    new Int32Array(this.memory.buffer, s.ptr, values.length).set(values);
    return s;
  }

  stats(): MemoryStats {
    return { liveBytes: this.live, peakBytes: this.peak, pooledBytes: 0 };
  }

  resetPeak(): void {
    this.peak = this.live;
  }
}
