// The wasm backend: tensors in linear memory, kernels run synchronously by the family
// modules. It is the CPU fallback and the reference the WGSL kernels are tested against.
import type { Backend, BackendInfo } from '../backend.js';
import type { Kernels } from '../kernels.js';
import type { Storage } from '../storage.js';
import { WasmContext, type WasmStorage } from './context.js';
import * as basic from './kernels/basic.js';
import * as matmul from './kernels/matmul.js';
import * as rows from './kernels/rows.js';
import * as optim from './kernels/optim.js';
import * as attention from './kernels/attention.js';

export class WasmBackend implements Backend {
  readonly info: BackendInfo = {
    kind: 'wasm',
    description: 'wasm simd128 (AssemblyScript, single thread)',
    software: true,
    features: ['simd128'],
    limits: { maxBufferBytes: 4 * 2 ** 30 - 2 ** 16, maxBindingBytes: 4 * 2 ** 30 - 2 ** 16 },
  };

  private constructor(readonly ctx: WasmContext) {}

  static async create(): Promise<WasmBackend> {
    return new WasmBackend(await WasmContext.create());
  }

  alloc(bytes: number, label: string): Storage {
    return this.ctx.alloc(bytes, label);
  }
  free(s: Storage): void {
    this.ctx.free(s as WasmStorage);
  }
  write(s: Storage, data: ArrayBufferView, byteOffset = 0): void {
    if (byteOffset + data.byteLength > s.bytes) throw new Error(`write: ${data.byteLength} bytes at ${byteOffset} overflow a ${s.bytes}-byte storage`);
    this.ctx.ptr(s, 'write');
    this.ctx.bytes(s).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), byteOffset);
  }
  async read(s: Storage, byteOffset: number, bytes: number): Promise<ArrayBuffer> {
    this.ctx.ptr(s, 'read');
    return this.ctx.bytes(s).slice(byteOffset, byteOffset + bytes).buffer;
  }
  copy(src: Storage, srcOffset: number, dst: Storage, dstOffset: number, bytes: number): void {
    this.ctx.ptr(src, 'copy');
    this.ctx.ptr(dst, 'copy');
    this.ctx.bytes(dst).set(this.ctx.bytes(src).subarray(srcOffset, srcOffset + bytes), dstOffset);
  }
  async sync(): Promise<void> {}
  memory() {
    return this.ctx.stats();
  }
  resetPeak(): void {
    this.ctx.resetPeak();
  }
  trim(): void {}
  destroy(): void {}

  fill: Kernels['fill'] = (a) => basic.fill(this.ctx, a);
  unpack: Kernels['unpack'] = (a) => basic.unpack(this.ctx, a);
  binary: Kernels['binary'] = (a) => basic.binary(this.ctx, a);
  unary: Kernels['unary'] = (a) => basic.unary(this.ctx, a);
  unaryGrad: Kernels['unaryGrad'] = (a) => basic.unaryGrad(this.ctx, a);
  reduce: Kernels['reduce'] = (a) => basic.reduce(this.ctx, a);
  copyStrided: Kernels['copyStrided'] = (a) => basic.copyStrided(this.ctx, a);
  swiglu: Kernels['swiglu'] = (a) => basic.swiglu(this.ctx, a);
  swigluGrad: Kernels['swigluGrad'] = (a) => basic.swigluGrad(this.ctx, a);
  swigluStacked: Kernels['swigluStacked'] = (a) => basic.swigluStacked(this.ctx, a);
  swigluStackedGrad: Kernels['swigluStackedGrad'] = (a) => basic.swigluStackedGrad(this.ctx, a);
  matmul: Kernels['matmul'] = (a) => matmul.matmul(this.ctx, a);
  softmax: Kernels['softmax'] = (a) => rows.softmax(this.ctx, a);
  softmaxGrad: Kernels['softmaxGrad'] = (a) => rows.softmaxGrad(this.ctx, a);
  rmsNorm: Kernels['rmsNorm'] = (a) => rows.rmsNorm(this.ctx, a);
  rmsNormGrad: Kernels['rmsNormGrad'] = (a) => rows.rmsNormGrad(this.ctx, a);
  layerNorm: Kernels['layerNorm'] = (a) => rows.layerNorm(this.ctx, a);
  layerNormGrad: Kernels['layerNormGrad'] = (a) => rows.layerNormGrad(this.ctx, a);
  crossEntropy: Kernels['crossEntropy'] = (a) => rows.crossEntropy(this.ctx, a);
  crossEntropyGrad: Kernels['crossEntropyGrad'] = (a) => rows.crossEntropyGrad(this.ctx, a);
  gatherRows: Kernels['gatherRows'] = (a) => rows.gatherRows(this.ctx, a);
  scatterAddRows: Kernels['scatterAddRows'] = (a) => rows.scatterAddRows(this.ctx, a);
  sumSquares: Kernels['sumSquares'] = (a) => optim.sumSquares(this.ctx, a);
  clipScale: Kernels['clipScale'] = (a) => optim.clipScale(this.ctx, a);
  adamw: Kernels['adamw'] = (a) => optim.adamw(this.ctx, a);
  attention: Kernels['attention'] = (a) => attention.attention(this.ctx, a);
  attentionGrad: Kernels['attentionGrad'] = (a) => attention.attentionGrad(this.ctx, a);
  rope: Kernels['rope'] = (a) => attention.rope(this.ctx, a);
}
