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

const scratchBits = new Uint32Array(1);
const scratchFloat = new Float32Array(scratchBits.buffer);

function f32Bits(x: number): number {
  scratchFloat[0] = x;
  return scratchBits[0];
}

/** bf16 bits of the f32 with bits u: round-to-nearest-even (NaN stays NaN). */
function bf16FromF32Bits(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return (u >>> 16) | 0x40;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** IEEE half bits of the f32 with bits u: round-to-nearest-even, overflow → ±inf, subnormals kept, NaN quiet. */
function f16FromF32Bits(u: number): number {
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
  if (e > 0) return sign | round((e << 23) | mant, 13); // a carry out of the mantissa bumps the exponent (to inf at most)
  const shift = 126 - exp; // subnormal: the value in units of 2^−24 is (1.mant) · 2^(exp−126+23) / 2^23
  return shift > 24 ? sign : sign | round(mant | 0x800000, shift);
}

/** f32 → bf16 bits with round-to-nearest-even (NaN stays NaN), as torch's .to(bfloat16). */
export function f32ToBf16Bits(x: number): number {
  return bf16FromF32Bits(f32Bits(x));
}

/** f32 → IEEE half bits with round-to-nearest-even (overflow → ±inf, subnormals kept, NaN quiet), as torch's .to(float16). */
export function f32ToF16Bits(x: number): number {
  return f16FromF32Bits(f32Bits(x));
}

/** A whole array to bf16 or f16 bits, as the scalar functions, reading the f32 bits through one view (no per-element allocation). */
export function f32ArrayToHalfBits(a: Float32Array, dtype: 'bf16' | 'f16'): Uint16Array {
  const bits = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const out = new Uint16Array(a.length);
  const conv = dtype === 'bf16' ? bf16FromF32Bits : f16FromF32Bits;
  for (let i = 0; i < a.length; i++) out[i] = conv(bits[i]);
  return out;
}

/** bf16 or f16 bits to f32 values, a whole array at once. */
export function halfBitsToF32Array(bits: Uint16Array, dtype: 'bf16' | 'f16'): Float32Array {
  if (dtype === 'f16') return Float32Array.from(bits, f16BitsToF32);
  const wide = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) wide[i] = bits[i] << 16;
  return new Float32Array(wide.buffer);
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
