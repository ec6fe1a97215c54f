// TEMPORARY scaffold: replaced by the kernel family implementation.
import type { GpuContext } from '../context.js';
export function softmax(_ctx: GpuContext, _a: unknown): void { throw new Error('softmax: not yet implemented'); }
export function softmaxGrad(_ctx: GpuContext, _a: unknown): void { throw new Error('softmaxGrad: not yet implemented'); }
export function rmsNorm(_ctx: GpuContext, _a: unknown): void { throw new Error('rmsNorm: not yet implemented'); }
export function rmsNormGrad(_ctx: GpuContext, _a: unknown): void { throw new Error('rmsNormGrad: not yet implemented'); }
export function layerNorm(_ctx: GpuContext, _a: unknown): void { throw new Error('layerNorm: not yet implemented'); }
export function layerNormGrad(_ctx: GpuContext, _a: unknown): void { throw new Error('layerNormGrad: not yet implemented'); }
export function crossEntropy(_ctx: GpuContext, _a: unknown): void { throw new Error('crossEntropy: not yet implemented'); }
export function crossEntropyGrad(_ctx: GpuContext, _a: unknown): void { throw new Error('crossEntropyGrad: not yet implemented'); }
export function gatherRows(_ctx: GpuContext, _a: unknown): void { throw new Error('gatherRows: not yet implemented'); }
export function scatterAddRows(_ctx: GpuContext, _a: unknown): void { throw new Error('scatterAddRows: not yet implemented'); }
