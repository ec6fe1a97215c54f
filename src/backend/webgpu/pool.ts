// Buffer pool: freed storages go to a free list per size class and are reused, so a
// training step allocates nothing after the first. Size classes are 2^k and 1.5·2^k
// (at most 33% slack); tracks live and peak bytes.
import type { MemoryStats, Storage } from '../storage.js';
import { fmtBytes } from '../../util/format.js';

export class GpuStorage implements Storage {
  freed = false;
  constructor(
    readonly id: number,
    readonly bytes: number,
    readonly buffer: GPUBuffer,
    readonly capacity: number,
    /** Identifies the GPUBuffer across the storages the pool makes from it (bind-group cache key). */
    readonly bufferId: number,
  ) {}
}

export function sizeClass(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 16) * 16);
  if (b <= 4096) return Math.ceil(b / 256) * 256;
  const p = 2 ** Math.floor(Math.log2(b));
  if (b === p) return p;
  return b <= p * 1.5 ? p * 1.5 : p * 2;
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private nextId = 1;
  private nextBufferId = 1;
  private bufferIds = new WeakMap<GPUBuffer, number>();
  private live = 0;
  private peak = 0;
  private pooled = 0;
  /** Called with a buffer about to be destroyed, so caches holding it can drop it. */
  onDestroy: (b: GPUBuffer) => void = () => {};

  constructor(
    private device: GPUDevice,
    private maxBufferBytes: number,
  ) {}

  alloc(bytes: number, label: string): GpuStorage {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new Error(`${label}: invalid allocation size ${bytes}`);
    let cap = sizeClass(bytes);
    if (cap > this.maxBufferBytes) {
      if (bytes > this.maxBufferBytes)
        throw new Error(`${label}: needs a ${fmtBytes(bytes)} buffer but this adapter allows at most ${fmtBytes(this.maxBufferBytes)} (maxBufferSize)`);
      cap = Math.ceil(bytes / 16) * 16;
    }
    const list = this.free.get(cap);
    let buffer = list?.pop();
    if (buffer) this.pooled -= cap;
    else buffer = this.device.createBuffer({ size: cap, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label });
    this.live += cap;
    if (this.live > this.peak) this.peak = this.live;
    let bufferId = this.bufferIds.get(buffer);
    if (bufferId === undefined) this.bufferIds.set(buffer, (bufferId = this.nextBufferId++));
    return new GpuStorage(this.nextId++, bytes, buffer, cap, bufferId);
  }

  release(s: GpuStorage): void {
    if (s.freed) throw new Error(`storage #${s.id} released twice`);
    s.freed = true;
    this.live -= s.capacity;
    this.pooled += s.capacity;
    const list = this.free.get(s.capacity);
    if (list) list.push(s.buffer);
    else this.free.set(s.capacity, [s.buffer]);
  }

  stats(): MemoryStats {
    return { liveBytes: this.live, peakBytes: this.peak, pooledBytes: this.pooled };
  }

  resetPeak(): void {
    this.peak = this.live;
  }

  trim(): void {
    for (const list of this.free.values())
      for (const b of list) {
        this.onDestroy(b);
        b.destroy();
      }
    this.free.clear();
    this.pooled = 0;
  }
}
