// PIL's resize (libImaging/Resample.c, ImagingResample) for 8-bit images, bit for bit: separable
// convolution, horizontal pass first into a uint8 intermediate (only the rows the vertical pass
// reads), then vertical. Per output sample: filter support scaled by the downscale factor,
// window bounds rounded as (int)(center ± support + 0.5), weights normalised to sum 1, then
// quantised to 22-bit fixed point ((int)(w·2^22 ± 0.5)); accumulation starts at 2^21 (rounding)
// and the result is clip8(acc >> 22). Pixels are 4 bytes (RGBX) so one i32x4 lane per channel.

const PRECISION_BITS = 22;
const BICUBIC_SUPPORT: f64 = 2.0;

/** PIL's bicubic kernel, a = -0.5 (Keys). */
@inline function bicubic(x: f64): f64 {
  const a: f64 = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

/** precompute_coeffs + normalize_coeffs_8bpc. Writes bounds (xmin, count) pairs and ksize i32 weights
 *  per output sample; returns ksize. */
function coefficients(inSize: i32, outSize: i32, bounds: usize, weights: usize, scratch: usize): i32 {
  const scale = <f64>inSize / <f64>outSize;
  const filterscale = scale < 1.0 ? 1.0 : scale;
  const support = BICUBIC_SUPPORT * filterscale;
  const ksize = <i32>Math.ceil(support) * 2 + 1;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (<f64>xx + 0.5) * scale;
    const ss = 1.0 / filterscale;
    let xmin = <i32>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = <i32>(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww: f64 = 0.0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubic((<f64>(x + xmin) - center + 0.5) * ss);
      store<f64>(scratch + (<usize>x << 3), w);
      ww += w;
    }
    const k = weights + (<usize>(xx * ksize) << 2);
    for (let x = 0; x < ksize; x++) {
      let w: f64 = 0.0;
      if (x < xmax) {
        w = load<f64>(scratch + (<usize>x << 3));
        if (ww != 0.0) w /= ww;
      }
      store<i32>(k + (<usize>x << 2), w < 0.0 ? <i32>(-0.5 + w * <f64>(1 << PRECISION_BITS)) : <i32>(0.5 + w * <f64>(1 << PRECISION_BITS)));
    }
    store<i32>(bounds + (<usize>xx << 3), xmin);
    store<i32>(bounds + (<usize>xx << 3) + 4, xmax);
  }
  return ksize;
}

@inline function expand(px: v128): v128 {
  return i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(px));
}

/** clip8 on four lanes: acc >> 22 clamped to 0..255. */
@inline function clip8(acc: v128): v128 {
  const v = i32x4.shr_s(acc, PRECISION_BITS);
  return i32x4.min_s(i32x4.max_s(v, i32x4.splat(0)), i32x4.splat(255));
}

function horizontal(src: usize, srcW: i32, rowFirst: i32, rows: i32, dst: usize, dstW: i32,
  bounds: usize, weights: usize, ksize: i32): void {
  const init = i32x4.splat(1 << (PRECISION_BITS - 1));
  for (let y = 0; y < rows; y++) {
    const s = src + (<usize>((y + rowFirst) * srcW) << 2);
    let d = dst + (<usize>(y * dstW) << 2);
    for (let xx = 0; xx < dstW; xx++, d += 4) {
      const xmin = load<i32>(bounds + (<usize>xx << 3));
      const n = load<i32>(bounds + (<usize>xx << 3) + 4);
      const k = weights + (<usize>(xx * ksize) << 2);
      let acc = init;
      let p = s + (<usize>xmin << 2);
      for (let x = 0; x < n; x++, p += 4) {
        acc = i32x4.add(acc, i32x4.mul(expand(v128.load32_zero(p)), i32x4.splat(load<i32>(k + (<usize>x << 2)))));
      }
      const v = clip8(acc);
      const b = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(v, v), i16x8.splat(0));
      store<u32>(d, i32x4.extract_lane(b, 0));
    }
  }
}

/** Vertical pass, 4 pixels (16 bytes) at a time; rows must have 16 bytes of slack after the last. */
function vertical(src: usize, width: i32, dst: usize, dstH: i32, bounds: usize, weights: usize, ksize: i32): void {
  const init = i32x4.splat(1 << (PRECISION_BITS - 1));
  const rowBytes = <usize>width << 2;
  for (let yy = 0; yy < dstH; yy++) {
    const ymin = load<i32>(bounds + (<usize>yy << 3));
    const n = load<i32>(bounds + (<usize>yy << 3) + 4);
    const k = weights + (<usize>(yy * ksize) << 2);
    const d = dst + <usize>yy * rowBytes;
    for (let x: usize = 0; x < rowBytes; x += 16) {
      let a0 = init, a1 = init, a2 = init, a3 = init;
      let p = src + <usize>ymin * rowBytes + x;
      for (let y = 0; y < n; y++, p += rowBytes) {
        const kv = i32x4.splat(load<i32>(k + (<usize>y << 2)));
        const px = v128.load(p);
        const lo = i16x8.extend_low_i8x16_u(px);
        const hi = i16x8.extend_high_i8x16_u(px);
        a0 = i32x4.add(a0, i32x4.mul(i32x4.extend_low_i16x8_u(lo), kv));
        a1 = i32x4.add(a1, i32x4.mul(i32x4.extend_high_i16x8_u(lo), kv));
        a2 = i32x4.add(a2, i32x4.mul(i32x4.extend_low_i16x8_u(hi), kv));
        a3 = i32x4.add(a3, i32x4.mul(i32x4.extend_high_i16x8_u(hi), kv));
      }
      const lo16 = i16x8.narrow_i32x4_s(clip8(a0), clip8(a1));
      const hi16 = i16x8.narrow_i32x4_s(clip8(a2), clip8(a3));
      v128.store(d + x, i8x16.narrow_i16x8_u(lo16, hi16));
    }
  }
}

/**
 * Bicubic resize of RGBX pixels src (srcW × srcH) into dst (dstW × dstH). Both buffers need 16
 * bytes of slack past their end (the vertical pass works in 16-byte steps).
 */
export function resize_bicubic(src: usize, srcW: i32, srcH: i32, dst: usize, dstW: i32, dstH: i32): void {
  const needH = dstW != srcW;
  const needV = dstH != srcH;
  if (!needH && !needV) {
    memory.copy(dst, src, <usize>(srcW * srcH) << 2);
    return;
  }
  const kmaxV = <i32>Math.ceil(BICUBIC_SUPPORT * max<f64>(<f64>srcH / <f64>dstH, 1.0)) * 2 + 1;
  const kmaxH = <i32>Math.ceil(BICUBIC_SUPPORT * max<f64>(<f64>srcW / <f64>dstW, 1.0)) * 2 + 1;
  const scratch = heap.alloc(<usize>max(kmaxV, kmaxH) << 3);
  const boundsV = heap.alloc(<usize>dstH << 3);
  const weightsV = heap.alloc(<usize>(dstH * kmaxV) << 2);
  const ksizeV = coefficients(srcH, dstH, boundsV, weightsV, scratch);
  if (needH) {
    // only the source rows the vertical pass will read
    const first = load<i32>(boundsV);
    const last = load<i32>(boundsV + (<usize>(dstH - 1) << 3)) + load<i32>(boundsV + (<usize>(dstH - 1) << 3) + 4);
    for (let yy = 0; yy < dstH; yy++) store<i32>(boundsV + (<usize>yy << 3), load<i32>(boundsV + (<usize>yy << 3)) - first);
    const boundsH = heap.alloc(<usize>dstW << 3);
    const weightsH = heap.alloc(<usize>(dstW * kmaxH) << 2);
    const ksizeH = coefficients(srcW, dstW, boundsH, weightsH, scratch);
    const tmp = needV ? heap.alloc((<usize>(dstW * (last - first)) << 2) + 16) : dst;
    horizontal(src, srcW, first, last - first, tmp, dstW, boundsH, weightsH, ksizeH);
    if (needV) {
      vertical(tmp, dstW, dst, dstH, boundsV, weightsV, ksizeV);
      heap.free(tmp);
    }
    heap.free(boundsH);
    heap.free(weightsH);
  } else {
    vertical(src, srcW, dst, dstH, boundsV, weightsV, ksizeV);
  }
  heap.free(scratch);
  heap.free(boundsV);
  heap.free(weightsV);
}
