// One interface, two implementations (webgpu, wasm). The tensor layer talks only to this.
import type { Kernels } from './kernels.js';
import type { MemoryStats, Storage } from './storage.js';

export type BackendKind = 'webgpu' | 'wasm';

export interface BackendInfo {
  kind: BackendKind;
  /** Adapter or engine description, e.g. "NVIDIA H100 (vulkan)" or "wasm simd128". */
  description: string;
  /** True for software adapters (lavapipe, SwiftShader). */
  software: boolean;
  features: string[];
  limits: { maxBufferBytes: number; maxBindingBytes: number; [name: string]: number };
}

export interface Backend extends Kernels {
  readonly info: BackendInfo;
  /** Allocates at least `bytes` (contents undefined). `label` names the op for errors. */
  alloc(bytes: number, label: string): Storage;
  free(s: Storage): void;
  /** Copies host data into s at byteOffset. Ordered after every kernel already issued. */
  write(s: Storage, data: ArrayBufferView, byteOffset?: number): void;
  /** Reads bytes back once all issued work is done. The only place the host waits. */
  read(s: Storage, byteOffset: number, bytes: number): Promise<ArrayBuffer>;
  /** Device-side copy. */
  copy(src: Storage, srcOffset: number, dst: Storage, dstOffset: number, bytes: number): void;
  /** Submits pending work and waits for it. */
  sync(): Promise<void>;
  memory(): MemoryStats;
  resetPeak(): void;
  /** Returns pooled memory to the device. */
  trim(): void;
  destroy(): void;
}
