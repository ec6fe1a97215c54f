// Operand checks shared by both backends' kernel wrappers. A kernel that runs past a
// storage corrupts the wasm heap or reads whatever WebGPU's robust access clamps to, so
// sizes are checked on the host before any work is issued; errors name the op, its
// shapes and the operand, and say what size was needed.
import type { Storage } from '../storage.js';

/** Throws unless every value is a non-negative integer (shapes, counts). */
export function requireDims(label: string, dims: Record<string, number>): void {
  for (const [name, v] of Object.entries(dims))
    if (!Number.isInteger(v) || v < 0) throw new Error(`${label}: ${name} must be a non-negative integer, got ${v}`);
}

/** Throws unless `s` is live and holds at least `elems` 4-byte elements (`what` says why, e.g. "rows·cols"). */
export function requireElems(label: string, name: string, s: Storage, elems: number, what: string): void {
  if (s.freed) throw new Error(`${label}: operand '${name}' was released (storage #${s.id})`);
  const need = elems * 4;
  if (s.bytes < need) throw new Error(`${label}: operand '${name}' holds ${s.bytes} bytes but needs ${need} (${what} = ${elems} × 4 bytes)`);
}

/** Like requireElems for 16-bit elements packed two per u32 (padded to a whole word). */
export function requirePacked(label: string, name: string, s: Storage, elems: number, what: string): void {
  if (s.freed) throw new Error(`${label}: operand '${name}' was released (storage #${s.id})`);
  const need = Math.ceil(elems / 2) * 4;
  if (s.bytes < need) throw new Error(`${label}: operand '${name}' holds ${s.bytes} bytes but needs ${need} (${what} = ${elems} packed 16-bit values)`);
}
