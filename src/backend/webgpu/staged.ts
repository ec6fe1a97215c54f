// Host memory staged for the next submit: bytes go into host-side chunks now, and each
// chunk's used part is uploaded with queue.writeBuffer just before the submit's command
// buffer. Queue order makes the bytes visible to every command recorded before that submit,
// and puts the next upload after them, so the space is reused from the start after a submit.
// Kernel uniforms and small host-to-device writes both travel this way: neither costs a
// submit of its own.

export interface StagedChunk {
  readonly buffer: GPUBuffer;
  readonly host: Uint8Array;
  /** Position in the arena (stable: part of bind-group cache keys). */
  readonly index: number;
  used: number;
}

export class StagedArena {
  private chunks: StagedChunk[] = [];
  private current = 0;
  /** Bytes taken since the last flush. */
  pending = 0;

  constructor(
    private device: GPUDevice,
    readonly chunkBytes: number,
    private usage: GPUBufferUsageFlags,
    private label: string,
  ) {}

  /** Reserves `bytes` (≤ chunkBytes) at an offset aligned to `align`; the caller fills chunk.host there. */
  take(bytes: number, align: number): { chunk: StagedChunk; offset: number } {
    if (bytes > this.chunkBytes) throw new Error(`${this.label}: ${bytes} bytes exceed a ${this.chunkBytes}-byte chunk`);
    let c = this.chunks[this.current];
    let offset = c ? Math.ceil(c.used / align) * align : 0;
    if (c && offset + bytes > this.chunkBytes) {
      c = this.chunks[++this.current];
      offset = 0;
    }
    if (!c) {
      c = {
        buffer: this.device.createBuffer({ size: this.chunkBytes, usage: this.usage | GPUBufferUsage.COPY_DST, label: `${this.label} ${this.current}` }),
        host: new Uint8Array(this.chunkBytes),
        index: this.current,
        used: 0,
      };
      this.chunks.push(c);
    }
    c.used = offset + bytes;
    this.pending += bytes;
    return { chunk: c, offset };
  }

  /** Uploads what was taken since the last flush (call right before submitting) and starts over. */
  flush(queue: GPUQueue): void {
    for (let i = 0; i <= this.current && i < this.chunks.length; i++) {
      const c = this.chunks[i];
      if (c.used) queue.writeBuffer(c.buffer, 0, c.host.buffer as ArrayBuffer, 0, Math.ceil(c.used / 4) * 4);
      c.used = 0;
    }
    this.current = 0;
    this.pending = 0;
  }
}
