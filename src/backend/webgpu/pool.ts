// Buffer pool: freed storages go to a free list per size class and are reused, so a
// training step allocates nothing after the first. Size classes are 2^k and 1.5·2^k
// (at most 33% slack); tracks live and peak bytes. An allocation takes the free buffer with
// the lowest id, so a step that repeats the last one's allocations gets the same buffers in
// the same places, and the context's bind groups (keyed by buffer) are found again. With
// last-freed-first reuse the buffers permuted from step to step: the tiny training step
// still created 60 of its 176 bind groups at step 6 and reached 2 only at step 19, at about
// 50 µs each on an H100.
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

interface PooledBuffer {
  buffer: GPUBuffer;
  id: number;
}

export class BufferPool {
  /** Free buffers per size class, highest id first (pop takes the lowest). */
  private free = new Map<number, PooledBuffer[]>();
  private nextId = 1;
  private nextBufferId = 1;
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
    let pooled = this.free.get(cap)?.pop();
    if (pooled) this.pooled -= cap;
    else
      pooled = {
        buffer: this.device.createBuffer({ size: cap, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label }),
        id: this.nextBufferId++,
      };
    this.live += cap;
    if (this.live > this.peak) this.peak = this.live;
    return new GpuStorage(this.nextId++, bytes, pooled.buffer, cap, pooled.id);
  }

  release(s: GpuStorage): void {
    if (s.freed) throw new Error(`storage #${s.id} released twice`);
    s.freed = true;
    this.live -= s.capacity;
    this.pooled += s.capacity;
    const entry: PooledBuffer = { buffer: s.buffer, id: s.bufferId };
    const list = this.free.get(s.capacity);
    if (!list) {
      this.free.set(s.capacity, [entry]);
      return;
    }
    // Binary search for the first entry with a lower id: the list stays in descending id order.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid].id > entry.id) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, entry);
  }

  stats(): MemoryStats {
    return { liveBytes: this.live, peakBytes: this.peak, pooledBytes: this.pooled };
  }

  resetPeak(): void {
    this.peak = this.live;
  }

  trim(): void {
    for (const list of this.free.values())
      for (const { buffer } of list) {
        this.onDestroy(buffer);
        buffer.destroy();
      }
    this.free.clear();
    this.pooled = 0;
  }
}
