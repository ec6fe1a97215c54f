// 16-bit conversions used when saving checkpoints: f32 → f16/bf16 with round-to-nearest-even as
// torch's .to() (numpy's astype gives the same bits), and the whole-array forms against the scalar ones.
import { describe, expect, it } from 'vitest';
import { bf16BitsToF32, f16BitsToF32, f32ArrayToHalfBits, f32ToBf16Bits, f32ToF16Bits, halfBitsToF32Array } from '../../src/tensor/dtype.js';
import { randomF32 } from '../helpers/backends.js';

describe('f32 → f16 bits', () => {
  it('rounds to nearest even at every boundary: normals, overflow, subnormals, zero, inf, NaN', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65519.99, 0x7bff],
      [65520, 0x7c00], // halfway to the next binade rounds up to inf
      [1e6, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -14, 0x0400],
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000], // halfway between 0 and the smallest subnormal: to even (0)
      [3 * 2 ** -26, 0x0001],
      [3 * 2 ** -25, 0x0002], // 1.5 subnormal steps: to even (2)
      [2 ** -14 - 2 ** -25, 0x0400], // rounds up out of the subnormals into the smallest normal
      [1 + 2 ** -11, 0x3c00], // halfway: to even
      [1 + 3 * 2 ** -11, 0x3c02],
      [-0, 0x8000],
      [1e-8, 0x0000],
      [NaN, 0x7e00],
    ];
    for (const [x, bits] of cases) expect(f32ToF16Bits(x).toString(16), `${x}`).toBe(bits.toString(16));
  });

  it('every non-NaN 16-bit pattern survives → f32 → back unchanged', () => {
    const every = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const f16 = every.filter((h) => (h & 0x7c00) !== 0x7c00 || !(h & 0x3ff));
    const bf16 = every.filter((b) => (b & 0x7f80) !== 0x7f80 || !(b & 0x7f));
    expect(f32ArrayToHalfBits(halfBitsToF32Array(f16, 'f16'), 'f16')).toEqual(f16);
    expect(f32ArrayToHalfBits(halfBitsToF32Array(bf16, 'bf16'), 'bf16')).toEqual(bf16);
  });

  it('the array forms give the scalar functions’ bits and values', () => {
    const x = randomF32(4096, 8, -70000, 70000).map((v, i) => (i % 3 ? v * 1e-6 : v));
    expect(f32ArrayToHalfBits(x, 'f16')).toEqual(Uint16Array.from(x, f32ToF16Bits));
    expect(f32ArrayToHalfBits(x, 'bf16')).toEqual(Uint16Array.from(x, f32ToBf16Bits));
    const bits = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const differ = (arr: Float32Array, scalar: (b: number) => number) => bits.filter((b) => !Object.is(arr[b], scalar(b)) && !Number.isNaN(scalar(b)));
    expect(differ(halfBitsToF32Array(bits, 'f16'), f16BitsToF32)).toEqual(new Uint16Array());
    expect(differ(halfBitsToF32Array(bits, 'bf16'), bf16BitsToF32)).toEqual(new Uint16Array());
  });
});
