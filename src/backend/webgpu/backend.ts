// The WebGPU backend: memory from the pool, kernels recorded by the family modules.
import type { Backend, BackendInfo } from '../backend.js';
import type { Kernels } from '../kernels.js';
import type { Storage } from '../storage.js';
import { GpuContext } from './context.js';
import type { GpuStorage } from './pool.js';
import * as basic from './kernels/basic.js';
import * as matmul from './kernels/matmul.js';
import * as rows from './kernels/rows.js';
import * as optim from './kernels/optim.js';
import * as attention from './kernels/attention.js';

export class WebGpuBackend implements Backend {
  readonly ctx: GpuContext;

  constructor(
    readonly info: BackendInfo,
    device: GPUDevice,
    /** Keeps the Dawn instance and adapter reachable for as long as the device is used. */
    private readonly keepAlive: unknown,
  ) {
    this.ctx = new GpuContext(device, info.description);
  }

  alloc(bytes: number, label: string): Storage {
    return this.ctx.pool.alloc(bytes, label);
  }
  free(s: Storage): void {
    this.ctx.pool.release(s as GpuStorage);
  }
  write(s: Storage, data: ArrayBufferView, byteOffset = 0): void {
    this.ctx.write(s, data, byteOffset);
  }
  read(s: Storage, byteOffset: number, bytes: number): Promise<ArrayBuffer> {
    return this.ctx.read(s, byteOffset, bytes);
  }
  copy(src: Storage, srcOffset: number, dst: Storage, dstOffset: number, bytes: number): void {
    this.ctx.copy(src, srcOffset, dst, dstOffset, bytes);
  }
  sync(): Promise<void> {
    return this.ctx.sync();
  }
  memory() {
    return this.ctx.pool.stats();
  }
  resetPeak(): void {
    this.ctx.pool.resetPeak();
  }
  trim(): void {
    this.ctx.pool.trim();
  }
  destroy(): void {
    this.ctx.pool.trim();
    this.ctx.device.destroy();
    void this.keepAlive;
  }

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
