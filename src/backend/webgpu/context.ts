// Records kernels into one command encoder (one compute pass between copies) and
// submits when the host needs results (read/sync), before a large write, and every
// `submitEvery` dispatches so the GPU starts on a step while the host records the rest.
// Pipelines, layouts and bind groups are cached. Every dispatch's uniforms live in a 256-byte
// slot of a staged arena (staged.ts) bound with a dynamic offset, so bind groups are reused
// across steps; small writes are staged too and land by a recorded copy, in command order.
import { shaders } from '../../generated/shaders.js';
import { PARAM_SLOT_BYTES, type Params } from './params.js';
import { BufferPool, GpuStorage } from './pool.js';
import { StagedArena } from './staged.js';
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

/** Uniform slots per staged chunk. */
const CHUNK_SLOTS = 256;
/** Writes up to this size are staged and copied in command order; larger ones submit and go straight to the queue. */
const STAGED_WRITE_MAX = 1 << 16;
/** Staged writes held for one submit at most (a loop of small writes with no dispatch would otherwise hold them all in host and staging memory). */
const STAGED_PENDING_MAX = 8 << 20;
/**
 * Default for GpuContext.submitEvery. Host-bound steps gain from the GPU starting early, and each
 * submit costs ~80 µs of host time on the H100 machine; 64 gives the tiny training step (138
 * dispatches) two early submits. Sweeping 0/16/32/64/128 there moved its time less than the ±30%
 * between processes, so the pick rests on that cost, not on a measured optimum.
 */
const SUBMIT_EVERY = 64;

export class GpuContext {
  readonly pool: BufferPool;
  readonly maxBinding: number;
  readonly maxWorkgroups: number;
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, GPUComputePipeline>();
  private layouts = new Map<string, GPUBindGroupLayout>();
  private bindGroups = new Map<string, GPUBindGroup>();
  private uniforms: StagedArena;
  private uploads: StagedArena;
  /** The pipeline last set in the open compute pass (a repeat needs no setPipeline). */
  private passPipeline: GPUComputePipeline | null = null;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private staging: GPUBuffer[] = [];
  private error: Error | null = null;
  private profiler: KernelProfiler | null = null;
  /** Dispatches recorded, queue submissions made and bind groups created since the context was made (for tests and benchmarks). */
  dispatches = 0;
  submits = 0;
  bindGroupsMade = 0;
  /** Submit once this many dispatches are recorded since the last submit; 0: only when results or writes need it. */
  submitEvery = SUBMIT_EVERY;
  private recorded = 0;

  constructor(
    readonly device: GPUDevice,
    /** The adapter, as BackendInfo.description names it (per-adapter tuning tables are keyed by it). */
    readonly adapter = '',
  ) {
    this.maxBinding = device.limits.maxStorageBufferBindingSize;
    this.maxWorkgroups = device.limits.maxComputeWorkgroupsPerDimension;
    this.pool = new BufferPool(device, device.limits.maxBufferSize);
    this.uniforms = new StagedArena(device, CHUNK_SLOTS * PARAM_SLOT_BYTES, GPUBufferUsage.UNIFORM, 'kernel uniforms');
    this.uploads = new StagedArena(device, 4 * STAGED_WRITE_MAX, GPUBufferUsage.COPY_SRC, 'staged writes');
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

  private computePass(): GPUComputePassEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    this.pass ??= this.encoder.beginComputePass();
    return this.pass;
  }

  private endPass(): GPUCommandEncoder {
    this.pass?.end();
    this.pass = null;
    this.passPipeline = null;
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
    const { chunk, offset } = this.uniforms.take(PARAM_SLOT_BYTES, PARAM_SLOT_BYTES);
    chunk.host.set(new Uint8Array(d.params.view.buffer), offset);
    const bufs = d.bindings.map(([s]) => s as GpuStorage);
    // Keyed by buffer and bound size, not by storage: the pool hands the same buffers to the next
    // step's tensors, so a repeated step finds its bind groups here.
    const bgKey = `${accessKey}|${chunk.index}|${bufs.map((b) => `${b.bufferId}:${bindSize(b)}`).join(',')}`;
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
    if (pipeline !== this.passPipeline) {
      pass.setPipeline(pipeline);
      this.passPipeline = pipeline;
    }
    pass.setBindGroup(0, bg, [offset]);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiler) this.endPass();
    this.dispatches++;
    if (this.submitEvery > 0 && ++this.recorded >= this.submitEvery) this.submit();
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

  /** Submits recorded work (staged bytes are uploaded first: queue order makes them visible to it). */
  submit(): void {
    this.throwIfFailed();
    if (!this.encoder) return;
    const enc = this.endPass();
    this.uniforms.flush(this.device.queue);
    this.uploads.flush(this.device.queue);
    this.profiler?.resolve(enc);
    this.device.queue.submit([enc.finish()]);
    this.submits++;
    this.encoder = null;
    this.recorded = 0;
  }

  write(s: Storage, data: ArrayBufferView, byteOffset = 0): void {
    if (s.freed) throw new Error(`write: storage #${s.id} was released`);
    if (byteOffset + data.byteLength > s.bytes) throw new Error(`write: ${data.byteLength} bytes at ${byteOffset} overflow a ${s.bytes}-byte storage`);
    const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    const padded = Math.ceil(bytes.byteLength / 4) * 4; // zero-padded to whole words
    if (padded === 0) return;
    if (padded <= STAGED_WRITE_MAX) {
      // Staged, then copied in command order: work recorded earlier still sees the old contents.
      const { chunk, offset } = this.uploads.take(padded, 4);
      chunk.host.fill(0, offset + bytes.byteLength, offset + padded);
      chunk.host.set(bytes, offset);
      this.endPass().copyBufferToBuffer(chunk.buffer, offset, (s as GpuStorage).buffer, byteOffset, padded);
      if (this.uploads.pending >= STAGED_PENDING_MAX) this.submit();
      return;
    }
    // Work recorded earlier must see the old contents: submit it before the queue write.
    this.submit();
    if (padded === bytes.byteLength) this.device.queue.writeBuffer((s as GpuStorage).buffer, byteOffset, bytes);
    else {
      const whole = new Uint8Array(padded);
      whole.set(bytes);
      this.device.queue.writeBuffer((s as GpuStorage).buffer, byteOffset, whole);
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
