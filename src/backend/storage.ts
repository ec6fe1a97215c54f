// A backend's raw memory: an opaque handle with a byte size. Tensors own storages;
// the backend's pool recycles them.

export interface Storage {
  /** Unique per allocation, stable for the storage's life (used as a cache key). */
  readonly id: number;
  /** Usable size in bytes (the pool may have reserved more). */
  readonly bytes: number;
  /** Set once freed; any later use is an error. */
  freed: boolean;
}

export interface MemoryStats {
  /** Bytes held by live storages right now. */
  liveBytes: number;
  /** High-water mark of liveBytes since the last resetPeak(). */
  peakBytes: number;
  /** Bytes held by the pool for reuse (allocated on the device, not live). */
  pooledBytes: number;
}
