// 16-bit float → f32 for packed weights (two per u32, element 2i in the low half, so on
// little-endian wasm element e is simply the u16 at byte 2e).

/** bf16 is the top half of an f32. */
@inline export function bf16ToF32(h: u32): f32 {
  return reinterpret<f32>(h << 16);
}

/** IEEE half → f32 (exact: every half is representable), subnormals, ±inf and NaN included. */
export function f16ToF32(h: u32): f32 {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp == 0x1f) return reinterpret<f32>(sign | 0x7f800000 | (mant << 13));
  if (exp == 0) {
    // ±0 or subnormal: mant · 2^-24, exact in f32.
    const mag = <f32>mant * 5.9604644775390625e-8;
    return sign ? -mag : mag;
  }
  return reinterpret<f32>(sign | ((exp + 112) << 23) | (mant << 13));
}
