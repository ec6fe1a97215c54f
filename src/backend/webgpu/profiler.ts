// Per-kernel GPU time from timestamp queries: while a profile is open, GpuContext gives every
// dispatch its own compute pass whose beginning and end write timestamps here; the results are
// summed per kernel label. Separate passes cost a little, so profiles are for benchmarks, not
// for training. Dawn quantizes timestamps unless its `timestamp_quantization` toggle is
// disabled (MEDE2_DAWN_FLAGS="disable-dawn-features=timestamp_quantization").

/** GPU time of one kernel label over a profile. */
export interface KernelTime {
  label: string;
  calls: number;
  ms: number;
}

/** Timestamp pairs a query set holds before the context must submit and start another. */
const CAPACITY = 2048;

interface Pending {
  staging: GPUBuffer;
  labels: string[];
}

export class KernelProfiler {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  private labels: string[] = [];
  private pending: Pending[] = [];

  constructor(private readonly device: GPUDevice) {
    if (!device.features.has('timestamp-query')) throw new Error("profiling needs the adapter's 'timestamp-query' feature, which this device lacks");
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * CAPACITY, label: 'kernel profile' });
    this.resolveBuffer = device.createBuffer({ size: 16 * CAPACITY, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  }

  get full(): boolean {
    return this.labels.length === CAPACITY;
  }

  /** The pass descriptor for the next dispatch, labelled `label`. Submit first when `full`. */
  nextPass(label: string): GPUComputePassDescriptor {
    const i = this.labels.length;
    this.labels.push(label);
    return { timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } };
  }

  /** Records the copy-out of this encoder's timestamps; call just before the encoder is finished. */
  resolve(encoder: GPUCommandEncoder): void {
    const n = this.labels.length;
    if (!n) return;
    const staging = this.device.createBuffer({ size: 16 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuffer, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, staging, 0, 16 * n);
    this.pending.push({ staging, labels: this.labels });
    this.labels = [];
  }

  /** Sums the resolved timestamps per label, slowest first (the work must have been submitted). */
  async collect(): Promise<KernelTime[]> {
    const byLabel = new Map<string, KernelTime>();
    for (const { staging, labels } of this.pending) {
      await staging.mapAsync(GPUMapMode.READ);
      const t = new BigUint64Array(staging.getMappedRange());
      labels.forEach((label, i) => {
        const k = byLabel.get(label) ?? { label, calls: 0, ms: 0 };
        // A pass whose end precedes its beginning (a driver clock quirk) counts as zero.
        k.ms += t[2 * i + 1] > t[2 * i] ? Number(t[2 * i + 1] - t[2 * i]) / 1e6 : 0;
        k.calls++;
        byLabel.set(label, k);
      });
      staging.unmap();
      staging.destroy();
    }
    this.pending = [];
    return [...byLabel.values()].sort((a, b) => b.ms - a.ms);
  }

  destroy(): void {
    for (const p of this.pending) p.staging.destroy();
    this.querySet.destroy();
    this.resolveBuffer.destroy();
  }
}
