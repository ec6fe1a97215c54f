// TEMPORARY scaffold: replaced by the kernel family implementation.
import type { GpuContext } from '../context.js';
export function matmul(_ctx: GpuContext, _a: unknown): void { throw new Error('matmul: not yet implemented'); }
