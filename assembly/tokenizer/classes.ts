// Character classes of the pre-tokenizer regexes, looked up per code point: a byte table for
// the BMP (built once from the ranges), binary search above it.
import { CLASS_RANGES } from './unicode';

export const OTHER: u32 = 0;
export const LETTER: u32 = 1; // \p{L}
export const NUMBER: u32 = 2; // \p{N}
export const SPACE: u32 = 3; // \s (White_Space)

let bmp: usize = 0;
let astralFirst: i32 = 0; // index (in ranges) of the first range above the BMP

export function initClasses(): void {
  if (bmp) return;
  bmp = heap.alloc(0x10000);
  memory.fill(bmp, 0, 0x10000);
  const n = CLASS_RANGES.length / 3;
  astralFirst = n;
  for (let r = 0; r < n; r++) {
    const first = unchecked(CLASS_RANGES[r * 3]);
    const last = unchecked(CLASS_RANGES[r * 3 + 1]);
    const cls = <u8>unchecked(CLASS_RANGES[r * 3 + 2]);
    if (first >= 0x10000) {
      if (astralFirst == n) astralFirst = r;
      continue;
    }
    const end = last < 0xffff ? last : 0xffff;
    memory.fill(bmp + first, cls, end - first + 1);
  }
}

export function classOf(cp: u32): u32 {
  if (cp < 0x10000) return load<u8>(bmp + cp);
  let lo = astralFirst;
  let hi = CLASS_RANGES.length / 3 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < unchecked(CLASS_RANGES[mid * 3])) hi = mid - 1;
    else if (cp > unchecked(CLASS_RANGES[mid * 3 + 1])) lo = mid + 1;
    else return unchecked(CLASS_RANGES[mid * 3 + 2]);
  }
  return OTHER;
}

/** Code point at p of valid UTF-8 (TextEncoder output); its byte length is left in `cpLen`. */
export let cpLen: usize = 1;

// @ts-ignore: decorator
@inline
export function codePointAt(p: usize): u32 {
  const b0 = <u32>load<u8>(p);
  if (b0 < 0x80) {
    cpLen = 1;
    return b0;
  }
  if (b0 < 0xe0) {
    cpLen = 2;
    return ((b0 & 0x1f) << 6) | (<u32>load<u8>(p, 1) & 0x3f);
  }
  if (b0 < 0xf0) {
    cpLen = 3;
    return ((b0 & 0x0f) << 12) | ((<u32>load<u8>(p, 1) & 0x3f) << 6) | (<u32>load<u8>(p, 2) & 0x3f);
  }
  cpLen = 4;
  return ((b0 & 0x07) << 18) | ((<u32>load<u8>(p, 1) & 0x3f) << 12) | ((<u32>load<u8>(p, 2) & 0x3f) << 6) | (<u32>load<u8>(p, 3) & 0x3f);
}

/** Class of the code point at p (a fast path for ASCII); its length is left in `cpLen`. */
// @ts-ignore: decorator
@inline
export function classAt(p: usize): u32 {
  const b0 = <u32>load<u8>(p);
  if (b0 < 0x80) {
    cpLen = 1;
    return load<u8>(bmp + b0);
  }
  return classOf(codePointAt(p));
}
