// Element types. f32/i32 are computed with; bf16/f16 are storage-only formats for frozen
// weights, packed two per u32 (element 2i in the low half), unpacked inside the shaders.

export type DType = 'f32' | 'i32' | 'bf16' | 'f16';

export function isPacked(d: DType): d is 'bf16' | 'f16' {
  return d === 'bf16' || d === 'f16';
}

/** Bytes a tensor of n elements occupies (packed formats round up to whole u32 words). */
export function storageBytes(dtype: DType, n: number): number {
  return isPacked(dtype) ? Math.ceil(n / 2) * 4 : n * 4;
}

/** f32 → bf16 bits with round-to-nearest-even (NaN stays NaN), as torch's .to(bfloat16). */
export function f32ToBf16Bits(x: number): number {
  const u = new Uint32Array(new Float32Array([x]).buffer)[0];
  if ((u & 0x7fffffff) > 0x7f800000) return (u >>> 16) | 0x40;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** f32 → IEEE half bits with round-to-nearest-even (overflow → ±inf, subnormals kept, NaN quiet), as torch's .to(float16). */
export function f32ToF16Bits(x: number): number {
  const u = new Uint32Array(new Float32Array([x]).buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const round = (v: number, shift: number): number => {
    const rem = v & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    const q = v >>> shift;
    return rem > half || (rem === half && q & 1) ? q + 1 : q;
  };
  const e = exp - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e > 0) return sign | Math.min(0x7c00, round((e << 23) | mant, 13)); // a carry out of the mantissa bumps the exponent
  const shift = 126 - exp; // subnormal: the value in units of 2^−24 is (1.mant) · 2^(exp−126+23) / 2^23
  return shift > 24 ? sign : sign | round(mant | 0x800000, shift);
}

export function bf16BitsToF32(b: number): number {
  return new Float32Array(new Uint32Array([(b & 0xffff) << 16]).buffer)[0];
}

/** IEEE half bits → f32 value (subnormals, ±inf and NaN included). */
export function f16BitsToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
