// TEMPORARY scaffold: replaced by the kernel family implementation.
import type { WasmContext } from '../context.js';
export function matmul(_ctx: WasmContext, _a: unknown): void { throw new Error('matmul: not yet implemented'); }
