// Elementwise kernel family on WebGPU (shaders/basic.wgsl).
import type { FillArgs } from '../../kernels.js';
import type { GpuContext } from '../context.js';
import { Params } from '../params.js';

export function fill(ctx: GpuContext, a: FillArgs): void {
  const bits = a.dtype === 'i32' ? a.value | 0 : new Uint32Array(new Float32Array([a.value]).buffer)[0];
  ctx.dispatch({
    label: `fill [${a.n}]`,
    shader: 'basic',
    entry: 'fill',
    bindings: [[a.out, 'write']],
    params: new Params().u32(a.n, bits),
    workgroups: ctx.grid(a.n, 256),
  });
}
export function unpack(_ctx: GpuContext, _a: unknown): void { throw new Error('unpack: TEMPORARY scaffold'); }
export function binary(_ctx: GpuContext, _a: unknown): void { throw new Error('binary: TEMPORARY scaffold'); }
export function unary(_ctx: GpuContext, _a: unknown): void { throw new Error('unary: TEMPORARY scaffold'); }
export function unaryGrad(_ctx: GpuContext, _a: unknown): void { throw new Error('unaryGrad: TEMPORARY scaffold'); }
export function reduce(_ctx: GpuContext, _a: unknown): void { throw new Error('reduce: TEMPORARY scaffold'); }
export function copyStrided(_ctx: GpuContext, _a: unknown): void { throw new Error('copyStrided: TEMPORARY scaffold'); }
export function swiglu(_ctx: GpuContext, _a: unknown): void { throw new Error('swiglu: TEMPORARY scaffold'); }
export function swigluGrad(_ctx: GpuContext, _a: unknown): void { throw new Error('swigluGrad: TEMPORARY scaffold'); }
