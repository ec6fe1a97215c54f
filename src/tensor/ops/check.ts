// Input validation shared by the ops: every error names the op and the tensors' shapes.
import type { Tensor } from '../tensor.js';
import { fmt, type Shape } from '../shape.js';

/** Checks the inputs are live, on one runtime, and f32. */
export function f32Inputs(op: string, ...ts: Tensor[]): void {
  const rt = ts[0].rt;
  for (const t of ts) {
    if (t.released) throw new Error(`${op}: input ${t.describe()} was released`);
    if (t.rt !== rt) throw new Error(`${op}: inputs live on different runtimes`);
    if (t.dtype !== 'f32') throw new Error(`${op}: expected f32 input, got ${t.describe()}${t.dtype === 'bf16' || t.dtype === 'f16' ? ' (packed weights are only accepted as matmul/linear weights and embedding tables; unpack with toF32)' : ''}`);
  }
}

export function indexInput(op: string, t: Tensor, bound: number): Int32Array {
  if (t.released) throw new Error(`${op}: index tensor ${t.describe()} was released`);
  if (t.dtype !== 'i32') throw new Error(`${op}: indices must be i32, got ${t.describe()}`);
  if (!t.host) throw new Error(`${op}: index tensor ${t.describe()} has no host copy; create it with rt.tensor(values, shape, 'i32')`);
  for (let i = 0; i < t.host.length; i++) {
    const v = t.host[i];
    if (v < 0 || v >= bound) throw new Error(`${op}: index ${v} at position ${i} is out of range [0, ${bound})`);
  }
  return t.host;
}

export function expectShape(op: string, what: string, got: Shape, want: Shape): void {
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) throw new Error(`${op}: ${what} has shape ${fmt(got)}, expected ${fmt(want)}`);
}
