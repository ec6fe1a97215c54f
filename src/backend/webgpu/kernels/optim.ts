// TEMPORARY scaffold: replaced by the kernel family implementation.
import type { GpuContext } from '../context.js';
export function sumSquares(_ctx: GpuContext, _a: unknown): void { throw new Error('sumSquares: not yet implemented'); }
export function clipScale(_ctx: GpuContext, _a: unknown): void { throw new Error('clipScale: not yet implemented'); }
export function adamw(_ctx: GpuContext, _a: unknown): void { throw new Error('adamw: not yet implemented'); }
