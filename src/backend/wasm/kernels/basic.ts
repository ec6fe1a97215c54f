// Elementwise kernel family on wasm (assembly/kernels/basic.ts).
import type { FillArgs } from '../../kernels.js';
import type { WasmContext } from '../context.js';

interface BasicExports {
  fill(out: number, n: number, bits: number): void;
}

const f32Bits = (v: number): number => new Uint32Array(new Float32Array([v]).buffer)[0];

export function fill(ctx: WasmContext, a: FillArgs): void {
  ctx.k<BasicExports>().fill(ctx.ptr(a.out, 'fill'), a.n, a.dtype === 'i32' ? a.value | 0 : f32Bits(a.value));
}
export function unpack(_ctx: WasmContext, _a: unknown): void { throw new Error('unpack: TEMPORARY scaffold'); }
export function binary(_ctx: WasmContext, _a: unknown): void { throw new Error('binary: TEMPORARY scaffold'); }
export function unary(_ctx: WasmContext, _a: unknown): void { throw new Error('unary: TEMPORARY scaffold'); }
export function unaryGrad(_ctx: WasmContext, _a: unknown): void { throw new Error('unaryGrad: TEMPORARY scaffold'); }
export function reduce(_ctx: WasmContext, _a: unknown): void { throw new Error('reduce: TEMPORARY scaffold'); }
export function copyStrided(_ctx: WasmContext, _a: unknown): void { throw new Error('copyStrided: TEMPORARY scaffold'); }
export function swiglu(_ctx: WasmContext, _a: unknown): void { throw new Error('swiglu: TEMPORARY scaffold'); }
export function swigluGrad(_ctx: WasmContext, _a: unknown): void { throw new Error('swigluGrad: TEMPORARY scaffold'); }
