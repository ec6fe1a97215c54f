// Where weights come from: any source of named, typed byte blobs (a safetensors file or a
// sharded set, in Node or the browser), decoded to f32 or kept as packed 16-bit bits.
import { bf16BitsToF32, f16BitsToF32 } from '../tensor/dtype.js';

export interface WeightRecord {
  /** safetensors dtype name: F32, BF16, F16 (others are rejected for weights). */
  dtype: string;
  shape: number[];
  /** Little-endian element bytes. */
  data: Uint8Array;
}

export interface WeightSource {
  keys(): string[];
  read(key: string): Promise<WeightRecord>;
}

export interface DecodedWeight {
  dtype: 'f32' | 'bf16' | 'f16';
  /** The raw 16-bit values for bf16/f16 (kept packed for frozen matrices). */
  bits: Uint16Array | null;
  f32(): Float32Array;
}

export function decodeWeight(name: string, rec: WeightRecord): DecodedWeight {
  const n = rec.shape.reduce((a, b) => a * b, 1);
  const aligned = (bytes: number) => {
    if (rec.data.byteLength !== n * bytes) throw new Error(`weight ${name}: ${rec.data.byteLength} bytes for ${rec.dtype}[${rec.shape.join(',')}] (expected ${n * bytes})`);
    // Copy when the blob is not aligned for a typed view (safetensors offsets need not be).
    return rec.data.byteOffset % bytes ? rec.data.slice() : rec.data;
  };
  switch (rec.dtype) {
    case 'F32': {
      const d = aligned(4);
      const f = new Float32Array(d.buffer, d.byteOffset, n);
      return { dtype: 'f32', bits: null, f32: () => f };
    }
    case 'BF16':
    case 'F16': {
      const d = aligned(2);
      const bits = new Uint16Array(d.buffer, d.byteOffset, n);
      const conv = rec.dtype === 'BF16' ? bf16BitsToF32 : f16BitsToF32;
      return { dtype: rec.dtype === 'BF16' ? 'bf16' : 'f16', bits, f32: () => Float32Array.from(bits, conv) };
    }
    default:
      throw new Error(`weight ${name}: dtype ${rec.dtype} is not supported for weights (F32, BF16, F16)`);
  }
}
