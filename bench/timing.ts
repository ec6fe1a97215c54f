// Times a piece of backend work: warmed up, then the median over repeats of a batch of
// back-to-back runs long enough that submission and readback overheads vanish. On WebGPU
// devices with timestamp-query the GPU's own clock brackets each batch; elsewhere the wall
// clock around `sync()`.
import type { Backend } from '../src/backend/backend.js';
import type { WebGpuBackend } from '../src/backend/webgpu/backend.js';

export interface TimingOptions {
  /** Each timed batch lasts at least this long (seconds). */
  minBatchSeconds: number;
  repeats: number;
  warmup: number;
  maxRunsPerBatch: number;
}

export const DEFAULT_TIMING: TimingOptions = { minBatchSeconds: 0.05, repeats: 5, warmup: 2, maxRunsPerBatch: 500 };

export interface Timed {
  /** Median seconds per run. */
  seconds: number;
  /** Median wall-clock seconds per run (equals `seconds` when no GPU timer is used). */
  wallSeconds: number;
  runsPerBatch: number;
}

/** Brackets submitted work with GPU timestamps written by empty compute passes. */
class GpuClock {
  private readonly querySet: GPUQuerySet;
  private readonly resolve: GPUBuffer;
  private readonly readback: GPUBuffer;

  constructor(private readonly gpu: WebGpuBackend) {
    const device = gpu.ctx.device;
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
    this.resolve = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.readback = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /** Submits a timestamp, written once everything submitted before it has finished. */
  stamp(index: 0 | 1): void {
    const device = this.gpu.ctx.device;
    const enc = device.createCommandEncoder();
    enc.beginComputePass({ timestampWrites: { querySet: this.querySet, endOfPassWriteIndex: index } }).end();
    device.queue.submit([enc.finish()]);
  }

  /** Seconds between the two marks. */
  async elapsed(): Promise<number> {
    const device = this.gpu.ctx.device;
    const enc = device.createCommandEncoder();
    enc.resolveQuerySet(this.querySet, 0, 2, this.resolve, 0);
    enc.copyBufferToBuffer(this.resolve, 0, this.readback, 0, 16);
    device.queue.submit([enc.finish()]);
    await this.readback.mapAsync(GPUMapMode.READ);
    const [t0, t1] = new BigUint64Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    return Number(t1 - t0) / 1e9;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolve.destroy();
    this.readback.destroy();
  }
}

export function timerKind(backend: Backend): string {
  return backend.info.kind === 'webgpu' && backend.info.features.includes('timestamp-query') ? 'timestamp-query' : 'wall-clock around sync()';
}

/** The middle value (mean of the two middle ones for an even count). */
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Times `run` (which issues work on `backend`) per the options. */
export async function timeRuns(backend: Backend, run: () => void, opts: TimingOptions = DEFAULT_TIMING): Promise<Timed> {
  for (let i = 0; i < opts.warmup; i++) run();
  await backend.sync();
  // One run, timed by the wall clock, sizes the batches.
  let t = performance.now();
  run();
  await backend.sync();
  const once = (performance.now() - t) / 1000;
  const runs = Math.max(1, Math.min(opts.maxRunsPerBatch, Math.ceil(opts.minBatchSeconds / Math.max(once, 1e-6))));
  const clock = timerKind(backend) === 'timestamp-query' ? new GpuClock(backend as WebGpuBackend) : null;
  const gpu: number[] = [];
  const wall: number[] = [];
  // The stamps bracket one submit of the whole batch: the context must not submit part of it
  // earlier on its own (it does every submitEvery dispatches), or the stamps miss that part.
  const ctx = clock ? (backend as WebGpuBackend).ctx : null;
  const submitEvery = ctx?.submitEvery ?? 0;
  if (ctx) ctx.submitEvery = 0;
  try {
    for (let r = 0; r < opts.repeats; r++) {
      t = performance.now();
      for (let i = 0; i < runs; i++) run();
      if (clock) {
        // Recorded work is submitted between the stamps, so recording time is not counted.
        clock.stamp(0);
        (backend as WebGpuBackend).ctx.submit();
        clock.stamp(1);
      }
      await backend.sync();
      wall.push((performance.now() - t) / 1000 / runs);
      if (clock) gpu.push((await clock.elapsed()) / runs);
    }
  } finally {
    clock?.destroy();
    if (ctx) ctx.submitEvery = submitEvery;
  }
  const wallSeconds = median(wall);
  return { seconds: clock ? median(gpu) : wallSeconds, wallSeconds, runsPerBatch: runs };
}
