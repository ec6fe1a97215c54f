// DICOM pixel work: RLE Lossless frames (PS3.5 Annex G) and the grey pipeline to 8 bits — stored
// value (Bits Stored / High Bit, two's complement when Pixel Representation = 1), modality
// rescale x = stored·slope + intercept, then a VOI window (PS3.3 C.11.2.1.2: LINEAR,
// LINEAR_EXACT, SIGMOID) or, without one, the frame's min..max; out = floor(y + 0.5).

const RLE_ERR_SEGMENTS: i32 = -1; // header segment count ≠ samples × bytes per sample
const RLE_ERR_OFFSETS: i32 = -2; // a segment offset outside the fragment
const RLE_ERR_SHORT: i32 = -3; // a segment decodes to fewer bytes than the frame needs

/** Decodes one RLE frame to interleaved samples, each little-endian (segments are MSB-first byte planes). */
export function rle_decode(src: usize, len: i32, dst: usize, pixels: i32, bytesPerSample: i32, samples: i32): i32 {
  if (len < 64) return RLE_ERR_OFFSETS;
  const nseg = load<i32>(src);
  if (nseg != bytesPerSample * samples) return RLE_ERR_SEGMENTS;
  const stride = bytesPerSample * samples;
  for (let s = 0; s < nseg; s++) {
    const off = load<i32>(src + 4 + (<usize>s << 2));
    const stop = s + 1 < nseg ? load<i32>(src + 8 + (<usize>s << 2)) : len;
    if (off < 64 || off > stop || stop > len) return RLE_ERR_OFFSETS;
    const sample = s / bytesPerSample;
    const byte = bytesPerSample - 1 - (s - sample * bytesPerSample);
    let o = dst + <usize>(sample * bytesPerSample + byte);
    let i = 0;
    let p = src + <usize>off;
    const e = src + <usize>stop;
    while (i < pixels && p < e) {
      const n = <i32>load<i8>(p++);
      if (n >= 0) {
        const count = min(n + 1, pixels - i);
        if (p + <usize>count > e) return RLE_ERR_SHORT;
        for (let k = 0; k < count; k++, o += stride) store<u8>(o, load<u8>(p + k));
        p += <usize>(n + 1);
        i += count;
      } else if (n != -128) {
        if (p >= e) return RLE_ERR_SHORT;
        const v = load<u8>(p++);
        const count = min(1 - n, pixels - i);
        for (let k = 0; k < count; k++, o += stride) store<u8>(o, v);
        i += count;
      }
    }
    if (i < pixels) return RLE_ERR_SHORT;
  }
  return 0;
}

const VOI_LINEAR: i32 = 0;
const VOI_LINEAR_EXACT: i32 = 1;
const VOI_SIGMOID: i32 = 2;
const VOI_MINMAX: i32 = 3;
const VOI_IDENTITY: i32 = 4;

@inline function stored(src: usize, i: i32, bytes: i32, shift: i32, bitsStored: i32, signed: bool): f64 {
  const raw = bytes == 2 ? <i32>load<u16>(src + (<usize>i << 1)) : <i32>load<u8>(src + i);
  let v = (raw >> shift) & ((1 << bitsStored) - 1);
  if (signed && (v & (1 << (bitsStored - 1)))) v -= 1 << bitsStored;
  return <f64>v;
}

/** Grey frame (8- or 16-bit little-endian stored values) → 8-bit display values. */
export function grey_to_u8(src: usize, n: i32, bytes: i32, bitsStored: i32, highBit: i32, signed: i32,
  slope: f64, intercept: f64, fn: i32, center: f64, width: f64, invert: i32, out: usize): void {
  const shift = highBit + 1 - bitsStored;
  let lo: f64 = Infinity, hi: f64 = -Infinity;
  if (fn == VOI_MINMAX) {
    for (let i = 0; i < n; i++) {
      const x = stored(src, i, bytes, shift, bitsStored, signed != 0) * slope + intercept;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  }
  for (let i = 0; i < n; i++) {
    const x = stored(src, i, bytes, shift, bitsStored, signed != 0) * slope + intercept;
    let y: f64;
    if (fn == VOI_LINEAR) {
      if (x <= center - 0.5 - (width - 1.0) / 2.0) y = 0.0;
      else if (x > center - 0.5 + (width - 1.0) / 2.0) y = 255.0;
      else y = ((x - (center - 0.5)) / (width - 1.0) + 0.5) * 255.0;
    } else if (fn == VOI_LINEAR_EXACT) {
      if (x <= center - width / 2.0) y = 0.0;
      else if (x > center + width / 2.0) y = 255.0;
      else y = ((x - center) / width + 0.5) * 255.0;
    } else if (fn == VOI_SIGMOID) {
      y = 255.0 / (1.0 + Math.exp((-4.0 * (x - center)) / width));
    } else if (fn == VOI_IDENTITY) {
      y = x;
    } else {
      y = hi == lo ? 0.0 : ((x - lo) / (hi - lo)) * 255.0; // VOI_MINMAX
    }
    let v = Math.floor(y + 0.5);
    v = v < 0.0 ? 0.0 : v > 255.0 ? 255.0 : v;
    store<u8>(out + i, invert ? <u8>(255 - <i32>v) : <u8>v);
  }
}
