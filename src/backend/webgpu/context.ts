// Records kernels into one command encoder (one compute pass between copies) and
// submits only when the host needs results (read/sync) or writes memory. Pipelines,
// layouts and bind groups are cached; every dispatch's uniforms live in a 256-byte slot
// of a chunked arena bound with a dynamic offset, so bind groups are reused across steps.
import { shaders } from '../../generated/shaders.js';
import { PARAM_SLOT_BYTES, type Params } from './params.js';
import { BufferPool, GpuStorage } from './pool.js';
import { KernelProfiler, type KernelTime } from './profiler.js';
import { fmtBytes } from '../../util/format.js';
import type { Storage } from '../storage.js';

export type Access = 'read' | 'write';

export interface Dispatch {
  /** Names the op and shapes in errors, e.g. "matmul [4,8]×[8,3]". */
  label: string;
  /** File name in shaders/ without .wgsl. */
  shader: string;
  entry: string;
  /** WGSL `override` constants (specialised per pipeline). */
  constants?: Record<string, number>;
  /**
   * Values for the shader's `const NAME: u32 = …u;` declarations, for what overrides cannot size
   * (the inner dimension of a nested workgroup array): each distinct set compiles its own module.
   */
  defines?: Record<string, number>;
  /** Storage bindings 1..n in order; binding 0 is the uniform params struct. */
  bindings: [Storage, Access][];
  params: Params;
  workgroups: [number, number?, number?];
}

const CHUNK_SLOTS = 256;

interface ParamChunk {
  buffer: GPUBuffer;
  host: Uint8Array;
  used: number;
}

export class GpuContext {
  readonly pool: BufferPool;
  readonly maxBinding: number;
  readonly maxWorkgroups: number;
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, GPUComputePipeline>();
  private layouts = new Map<string, GPUBindGroupLayout>();
  private bindGroups = new Map<string, GPUBindGroup>();
  private chunks: ParamChunk[] = [];
  private chunkIndex = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private staging: GPUBuffer[] = [];
  private error: Error | null = null;
  private profiler: KernelProfiler | null = null;
  /** Dispatches recorded, queue submissions made and bind groups created since the context was made (for tests and benchmarks). */
  dispatches = 0;
  submits = 0;
  bindGroupsMade = 0;

  constructor(readonly device: GPUDevice) {
    this.maxBinding = device.limits.maxStorageBufferBindingSize;
    this.maxWorkgroups = device.limits.maxComputeWorkgroupsPerDimension;
    this.pool = new BufferPool(device, device.limits.maxBufferSize);
    this.pool.onDestroy = () => this.bindGroups.clear();
    device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.error ??= new Error(`WebGPU error: ${e.message}`);
    });
    device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.error ??= new Error(`WebGPU device lost: ${info.message}`);
    });
  }

  private throwIfFailed(): void {
    if (this.error) {
      const e = this.error;
      this.error = null;
      throw e;
    }
  }

  private module(name: string, defines?: Record<string, number>): GPUShaderModule {
    const key = defines ? `${name}:${JSON.stringify(defines)}` : name;
    let m = this.modules.get(key);
    if (!m) {
      let code = shaders[name];
      if (code === undefined) throw new Error(`no shader '${name}' in shaders/ (rebuild with npm run build?)`);
      for (const [k, v] of Object.entries(defines ?? {})) {
        const decl = new RegExp(`^const ${k}: u32 = \\d+u;`, 'm');
        if (!decl.test(code)) throw new Error(`shader '${name}' declares no 'const ${k}: u32 = …u;' to define`);
        code = code.replace(decl, `const ${k}: u32 = ${v >>> 0}u;`);
      }
      m = this.device.createShaderModule({ code, label: key });
      this.modules.set(key, m);
    }
    return m;
  }

  private layout(access: Access[]): GPUBindGroupLayout {
    const key = access.map((a) => a[0]).join('');
    let l = this.layouts.get(key);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
      ];
      access.forEach((a, i) =>
        entries.push({ binding: i + 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: a === 'read' ? 'read-only-storage' : 'storage' } }),
      );
      l = this.device.createBindGroupLayout({ entries, label: key });
      this.layouts.set(key, l);
    }
    return l;
  }

  private pipeline(d: Dispatch, layout: GPUBindGroupLayout, accessKey: string): GPUComputePipeline {
    const key = `${d.shader}:${d.entry}:${accessKey}:${d.constants ? JSON.stringify(d.constants) : ''}:${d.defines ? JSON.stringify(d.defines) : ''}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.device.createComputePipeline({
        label: `${d.shader}.${d.entry}`,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module: this.module(d.shader, d.defines), entryPoint: d.entry, constants: d.constants },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  private paramSlot(params: Params): [ParamChunk, number] {
    let c = this.chunks[this.chunkIndex];
    if (c && c.used === CHUNK_SLOTS) c = this.chunks[++this.chunkIndex];
    if (!c) {
      c = {
        buffer: this.device.createBuffer({ size: CHUNK_SLOTS * PARAM_SLOT_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }),
        host: new Uint8Array(CHUNK_SLOTS * PARAM_SLOT_BYTES),
        used: 0,
      };
      this.chunks.push(c);
    }
    const offset = c.used++ * PARAM_SLOT_BYTES;
    c.host.set(new Uint8Array(params.view.buffer), offset);
    return [c, offset];
  }

  private computePass(): GPUComputePassEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    this.pass ??= this.encoder.beginComputePass();
    return this.pass;
  }

  private endPass(): GPUCommandEncoder {
    this.pass?.end();
    this.pass = null;
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  dispatch(d: Dispatch): void {
    for (const [s] of d.bindings) {
      if (s.freed) throw new Error(`${d.label}: uses a released tensor (storage #${s.id})`);
      if (s.bytes > this.maxBinding)
        throw new Error(
          `${d.label}: a ${fmtBytes(s.bytes)} operand exceeds this adapter's maxStorageBufferBindingSize (${fmtBytes(this.maxBinding)}); split the op or use a smaller batch`,
        );
    }
    const [x, y = 1, z = 1] = d.workgroups;
    if (x > this.maxWorkgroups || y > this.maxWorkgroups || z > this.maxWorkgroups)
      throw new Error(`${d.label}: dispatch ${x}×${y}×${z} exceeds maxComputeWorkgroupsPerDimension ${this.maxWorkgroups}`);
    if (x === 0 || y === 0 || z === 0) return;
    const access = d.bindings.map(([, a]) => a);
    const accessKey = access.map((a) => a[0]).join('');
    const layout = this.layout(access);
    const pipeline = this.pipeline(d, layout, accessKey);
    // A full profile submits before this dispatch takes its uniform slot: slots taken before a submit
    // are reused after it, and this one must not be.
    if (this.profiler?.full) this.submit();
    const [chunk, offset] = this.paramSlot(d.params);
    const bufs = d.bindings.map(([s]) => s as GpuStorage);
    // Keyed by buffer and bound size, not by storage: the pool hands the same buffers to the next
    // step's tensors, so a repeated step finds its bind groups here.
    const bgKey = `${accessKey}|${this.chunks.indexOf(chunk)}|${bufs.map((b) => `${b.bufferId}:${bindSize(b)}`).join(',')}`;
    let bg = this.bindGroups.get(bgKey);
    if (!bg) {
      bg = this.device.createBindGroup({
        layout,
        entries: [
          { binding: 0, resource: { buffer: chunk.buffer, size: PARAM_SLOT_BYTES } },
          ...bufs.map((b, i) => ({ binding: i + 1, resource: { buffer: b.buffer, size: bindSize(b) } })),
        ],
      });
      this.bindGroupsMade++;
      if (this.bindGroups.size > 50_000) this.bindGroups.clear();
      this.bindGroups.set(bgKey, bg);
    }
    const pass = this.profiler ? this.profiledPass(`${d.shader}.${d.entry} ${d.label}`) : this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bg, [offset]);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiler) this.endPass();
    this.dispatches++;
  }

  /** A pass of its own for one dispatch, bracketed by the profiler's timestamps. */
  private profiledPass(label: string): GPUComputePassEncoder {
    const enc = this.endPass();
    this.pass = enc.beginComputePass(this.profiler!.nextPass(label));
    return this.pass;
  }

  /** Starts timing every dispatch on the GPU (see profiler.ts); `endProfile` returns the times. */
  startProfile(): void {
    if (this.profiler) throw new Error('startProfile: a profile is already open');
    this.submit();
    this.profiler = new KernelProfiler(this.device);
  }

  /** Submits what is recorded, waits for it and returns GPU time per kernel label, slowest first. */
  async endProfile(): Promise<KernelTime[]> {
    const p = this.profiler;
    if (!p) throw new Error('endProfile: no profile is open (call startProfile first)');
    await this.sync();
    this.profiler = null;
    try {
      return await p.collect();
    } finally {
      p.destroy();
    }
  }

  /** Workgroup counts for n invocations of size wg, folded into 2-D when x would exceed the limit. */
  grid(n: number, wg: number): [number, number] {
    const groups = Math.ceil(n / wg);
    if (groups <= this.maxWorkgroups) return [groups, 1];
    const y = Math.ceil(groups / this.maxWorkgroups);
    return [Math.ceil(groups / y), y];
  }

  copy(src: Storage, srcOffset: number, dst: Storage, dstOffset: number, bytes: number): void {
    if (src.freed || dst.freed) throw new Error('copy: uses a released tensor');
    if (bytes === 0) return;
    this.endPass().copyBufferToBuffer((src as GpuStorage).buffer, srcOffset, (dst as GpuStorage).buffer, dstOffset, bytes);
  }

  /** Submits recorded work (uniform slots are uploaded first: queue order makes them visible to it). */
  submit(): void {
    this.throwIfFailed();
    if (!this.encoder) return;
    const enc = this.endPass();
    for (let i = 0; i <= this.chunkIndex && i < this.chunks.length; i++) {
      const c = this.chunks[i];
      if (c.used) this.device.queue.writeBuffer(c.buffer, 0, c.host.buffer as ArrayBuffer, 0, c.used * PARAM_SLOT_BYTES);
      c.used = 0;
    }
    this.chunkIndex = 0;
    this.profiler?.resolve(enc);
    this.device.queue.submit([enc.finish()]);
    this.submits++;
    this.encoder = null;
  }

  write(s: Storage, data: ArrayBufferView, byteOffset = 0): void {
    if (s.freed) throw new Error(`write: storage #${s.id} was released`);
    if (byteOffset + data.byteLength > s.bytes) throw new Error(`write: ${data.byteLength} bytes at ${byteOffset} overflow a ${s.bytes}-byte storage`);
    // Work recorded earlier must see the old contents: submit it before the queue write.
    this.submit();
    const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength % 4 === 0) this.device.queue.writeBuffer((s as GpuStorage).buffer, byteOffset, bytes);
    else {
      const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
      padded.set(bytes);
      this.device.queue.writeBuffer((s as GpuStorage).buffer, byteOffset, padded);
    }
  }

  async read(s: Storage, byteOffset: number, bytes: number): Promise<ArrayBuffer> {
    if (s.freed) throw new Error(`read: storage #${s.id} was released`);
    const aligned = Math.ceil(bytes / 4) * 4;
    const size = Math.max(aligned, 256);
    const idx = this.staging.findIndex((b) => b.size >= size);
    const staging = idx >= 0 ? this.staging.splice(idx, 1)[0] : this.device.createBuffer({ size: sizeUp(size), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.endPass().copyBufferToBuffer((s as GpuStorage).buffer, byteOffset, staging, 0, aligned);
    this.submit();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, aligned);
    } catch (e) {
      this.throwIfFailed();
      throw e;
    }
    this.throwIfFailed();
    const out = staging.getMappedRange(0, aligned).slice(0, bytes);
    staging.unmap();
    this.staging.push(staging);
    if (this.staging.length > 8) this.staging.shift()!.destroy();
    return out;
  }

  async sync(): Promise<void> {
    this.submit();
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfFailed();
  }
}

/** Bytes bound for a storage: its size rounded up to whole 32-bit words (at least one). */
function bindSize(s: GpuStorage): number {
  return Math.max(4, Math.ceil(s.bytes / 4) * 4);
}

function sizeUp(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}
