// dtype conversion of packed frozen weights.
import type { Tensor } from '../tensor.js';

/** Unpacks a bf16/f16 tensor to f32 (no gradient: packed tensors are frozen). f32 is returned as a copy. */
export function toF32(t: Tensor): Tensor {
  if (t.released) throw new Error(`toF32: input ${t.describe()} was released`);
  if (t.dtype === 'f32') return t.rt.ops.copy(t);
  if (t.dtype === 'i32') throw new Error(`toF32: cannot convert integer tensor ${t.describe()}`);
  const out = t.rt.empty(t.shape, 'f32', 'toF32');
  if (t.size) t.rt.backend.unpack({ src: t.storage, srcDtype: t.dtype, out: out.storage, n: t.size });
  return out;
}
