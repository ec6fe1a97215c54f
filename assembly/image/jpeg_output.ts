// JPEG reconstruction as libjpeg-turbo does it for PIL (default settings): dequantization and the
// accurate integer IDCT (jidctint.c, "islow": Loeffler–Ligtenberg–Moschytz with 13-bit constants,
// 2 extra bits after the first pass), its wrap-around range limit, "fancy" triangular chroma
// upsampling (jdsample.c: h2v1 and h2v2 when the component is over 2 samples wide, h1v2) or
// replication otherwise, and the fixed-point YCbCr→RGB tables of jdcolor.c.

const CONST_BITS = 13;
const PASS1_BITS = 2;
const FIX_0_298631336: i32 = 2446;
const FIX_0_390180644: i32 = 3196;
const FIX_0_541196100: i32 = 4433;
const FIX_0_765366865: i32 = 6270;
const FIX_0_899976223: i32 = 7373;
const FIX_1_175875602: i32 = 9633;
const FIX_1_501321110: i32 = 12299;
const FIX_1_847759065: i32 = 15137;
const FIX_1_961570560: i32 = 16069;
const FIX_2_053119869: i32 = 16819;
const FIX_2_562915447: i32 = 20995;
const FIX_3_072711026: i32 = 25172;

const workspace: usize = memory.data(64 * 4);

@inline function descale(x: i32, n: i32): i32 {
  return (x + (1 << (n - 1))) >> n;
}

/** The post-IDCT range limit: the value wraps modulo 1024 (as libjpeg's table does) then clamps. */
@inline function rangeLimit(v: i32): u8 {
  const s = (((v & 1023) ^ 512) - 512) + 128;
  return <u8>(s < 0 ? 0 : s > 255 ? 255 : s);
}

/** jpeg_idct_islow: coefficients (i16, natural order) × quantizers (u16) → 8×8 samples. */
function idctIslow(coef: usize, quant: usize, out: usize, stride: i32): void {
  // Pass 1: columns → workspace (scaled by 2^PASS1_BITS)
  for (let c = 0; c < 8; c++) {
    const ip = coef + (<usize>c << 1);
    const qp = quant + (<usize>c << 1);
    const wp = workspace + (<usize>c << 2);
    if (load<i16>(ip, 16) == 0 && load<i16>(ip, 32) == 0 && load<i16>(ip, 48) == 0 && load<i16>(ip, 64) == 0 &&
      load<i16>(ip, 80) == 0 && load<i16>(ip, 96) == 0 && load<i16>(ip, 112) == 0) {
      const dcval = (<i32>load<i16>(ip) * <i32>load<u16>(qp)) << PASS1_BITS;
      for (let r = 0; r < 8; r++) store<i32>(wp + (<usize>r << 5), dcval);
      continue;
    }
    let z2 = <i32>load<i16>(ip, 32) * <i32>load<u16>(qp, 32);
    let z3 = <i32>load<i16>(ip, 96) * <i32>load<u16>(qp, 96);
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    z2 = <i32>load<i16>(ip) * <i32>load<u16>(qp);
    z3 = <i32>load<i16>(ip, 64) * <i32>load<u16>(qp, 64);
    let tmp0 = (z2 + z3) << CONST_BITS;
    let tmp1 = (z2 - z3) << CONST_BITS;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = <i32>load<i16>(ip, 112) * <i32>load<u16>(qp, 112);
    tmp1 = <i32>load<i16>(ip, 80) * <i32>load<u16>(qp, 80);
    tmp2 = <i32>load<i16>(ip, 48) * <i32>load<u16>(qp, 48);
    tmp3 = <i32>load<i16>(ip, 16) * <i32>load<u16>(qp, 16);
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 = tmp0 * FIX_0_298631336;
    tmp1 = tmp1 * FIX_2_053119869;
    tmp2 = tmp2 * FIX_3_072711026;
    tmp3 = tmp3 * FIX_1_501321110;
    z1 = z1 * -FIX_0_899976223;
    z2 = z2 * -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    const n = CONST_BITS - PASS1_BITS;
    store<i32>(wp, descale(tmp10 + tmp3, n));
    store<i32>(wp, descale(tmp10 - tmp3, n), 224);
    store<i32>(wp, descale(tmp11 + tmp2, n), 32);
    store<i32>(wp, descale(tmp11 - tmp2, n), 192);
    store<i32>(wp, descale(tmp12 + tmp1, n), 64);
    store<i32>(wp, descale(tmp12 - tmp1, n), 160);
    store<i32>(wp, descale(tmp13 + tmp0, n), 96);
    store<i32>(wp, descale(tmp13 - tmp0, n), 128);
  }
  // Pass 2: rows → samples (descale by 8 and the pass-1 bits)
  const n2 = CONST_BITS + PASS1_BITS + 3;
  for (let r = 0; r < 8; r++) {
    const wp = workspace + (<usize>r << 5);
    const op = out + <usize>(r * stride);
    if (load<i32>(wp, 4) == 0 && load<i32>(wp, 8) == 0 && load<i32>(wp, 12) == 0 && load<i32>(wp, 16) == 0 &&
      load<i32>(wp, 20) == 0 && load<i32>(wp, 24) == 0 && load<i32>(wp, 28) == 0) {
      const dc = rangeLimit(descale(load<i32>(wp), PASS1_BITS + 3));
      for (let i = 0; i < 8; i++) store<u8>(op + i, dc);
      continue;
    }
    let z2 = load<i32>(wp, 8);
    let z3 = load<i32>(wp, 24);
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    let tmp0 = (load<i32>(wp) + load<i32>(wp, 16)) << CONST_BITS;
    let tmp1 = (load<i32>(wp) - load<i32>(wp, 16)) << CONST_BITS;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = load<i32>(wp, 28);
    tmp1 = load<i32>(wp, 20);
    tmp2 = load<i32>(wp, 12);
    tmp3 = load<i32>(wp, 4);
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 = tmp0 * FIX_0_298631336;
    tmp1 = tmp1 * FIX_2_053119869;
    tmp2 = tmp2 * FIX_3_072711026;
    tmp3 = tmp3 * FIX_1_501321110;
    z1 = z1 * -FIX_0_899976223;
    z2 = z2 * -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    store<u8>(op, rangeLimit(descale(tmp10 + tmp3, n2)));
    store<u8>(op, rangeLimit(descale(tmp10 - tmp3, n2)), 7);
    store<u8>(op, rangeLimit(descale(tmp11 + tmp2, n2)), 1);
    store<u8>(op, rangeLimit(descale(tmp11 - tmp2, n2)), 6);
    store<u8>(op, rangeLimit(descale(tmp12 + tmp1, n2)), 2);
    store<u8>(op, rangeLimit(descale(tmp12 - tmp1, n2)), 5);
    store<u8>(op, rangeLimit(descale(tmp13 + tmp0, n2)), 3);
    store<u8>(op, rangeLimit(descale(tmp13 - tmp0, n2)), 4);
  }
}

// ---- upsampling: plane `src` (stride ss, real size dw × dh) → `dst` (stride ds), rows 0..outH
function upFull(src: usize, ss: i32, dst: usize, ds: i32, outW: i32, outH: i32): void {
  for (let y = 0; y < outH; y++) memory.copy(dst + <usize>(y * ds), src + <usize>(y * ss), <usize>outW);
}

function upReplicate(src: usize, ss: i32, dst: usize, ds: i32, outW: i32, outH: i32, hx: i32, vy: i32): void {
  for (let y = 0; y < outH; y++) {
    const s = src + <usize>((y / vy) * ss);
    const d = dst + <usize>(y * ds);
    for (let x = 0; x < outW; x++) store<u8>(d + x, load<u8>(s + x / hx));
  }
}

/** h2v1_fancy_upsample: 3/4 nearer + 1/4 further sample, alternating rounding biases. */
function fancyRow2(s: usize, d: usize, dw: i32): void {
  let v = <i32>load<u8>(s);
  store<u8>(d, <u8>v);
  store<u8>(d + 1, <u8>((v * 3 + load<u8>(s + 1) + 2) >> 2));
  for (let i = 1; i < dw - 1; i++) {
    v = <i32>load<u8>(s + i) * 3;
    store<u8>(d + 2 * i, <u8>((v + load<u8>(s + i - 1) + 1) >> 2));
    store<u8>(d + 2 * i + 1, <u8>((v + load<u8>(s + i + 1) + 2) >> 2));
  }
  v = <i32>load<u8>(s + dw - 1);
  store<u8>(d + 2 * (dw - 1), <u8>((v * 3 + load<u8>(s + dw - 2) + 1) >> 2));
  store<u8>(d + 2 * dw - 1, <u8>v);
}

/** The context row libjpeg pairs with component row r for output row parity `below`: the row
 *  above (the first row repeats at the top) or below (the last real row repeats at the bottom). */
@inline function neighbour(r: i32, below: bool, dh: i32): i32 {
  return below ? min(r + 1, dh - 1) : max(r - 1, 0);
}

function upH2V2Fancy(src: usize, ss: i32, dw: i32, dh: i32, dst: usize, ds: i32, outH: i32): void {
  for (let y = 0; y < outH; y++) {
    const r = y >> 1;
    const i0 = src + <usize>(r * ss);
    const i1 = src + <usize>(neighbour(r, (y & 1) != 0, dh) * ss);
    const d = dst + <usize>(y * ds);
    let thiscol = <i32>load<u8>(i0) * 3 + load<u8>(i1);
    let nextcol = <i32>load<u8>(i0 + 1) * 3 + load<u8>(i1 + 1);
    store<u8>(d, <u8>((thiscol * 4 + 8) >> 4));
    store<u8>(d + 1, <u8>((thiscol * 3 + nextcol + 7) >> 4));
    let lastcol = thiscol;
    thiscol = nextcol;
    for (let i = 1; i < dw - 1; i++) {
      nextcol = <i32>load<u8>(i0 + i + 1) * 3 + load<u8>(i1 + i + 1);
      store<u8>(d + 2 * i, <u8>((thiscol * 3 + lastcol + 8) >> 4));
      store<u8>(d + 2 * i + 1, <u8>((thiscol * 3 + nextcol + 7) >> 4));
      lastcol = thiscol;
      thiscol = nextcol;
    }
    store<u8>(d + 2 * (dw - 1), <u8>((thiscol * 3 + lastcol + 8) >> 4));
    store<u8>(d + 2 * dw - 1, <u8>((thiscol * 4 + 7) >> 4));
  }
}

function upH1V2Fancy(src: usize, ss: i32, dw: i32, dh: i32, dst: usize, ds: i32, outH: i32): void {
  for (let y = 0; y < outH; y++) {
    const r = y >> 1;
    const below = (y & 1) != 0;
    const i0 = src + <usize>(r * ss);
    const i1 = src + <usize>(neighbour(r, below, dh) * ss);
    const bias = below ? 2 : 1;
    const d = dst + <usize>(y * ds);
    for (let i = 0; i < dw; i++) store<u8>(d + i, <u8>((<i32>load<u8>(i0 + i) * 3 + load<u8>(i1 + i) + bias) >> 2));
  }
}

// ---- YCbCr → RGB tables (jdcolor.c build_ycc_rgb_table, SCALEBITS = 16)
const crR: usize = memory.data(256 * 4);
const cbB: usize = memory.data(256 * 4);
const crG: usize = memory.data(256 * 4);
const cbG: usize = memory.data(256 * 4);
let tablesReady = false;

@inline function fix16(x: f64): i32 {
  return <i32>(x * 65536.0 + 0.5);
}

function buildColorTables(): void {
  for (let i = 0; i < 256; i++) {
    const x = i - 128;
    const o = <usize>i << 2;
    store<i32>(crR + o, (fix16(1.402) * x + 32768) >> 16);
    store<i32>(cbB + o, (fix16(1.772) * x + 32768) >> 16);
    store<i32>(crG + o, -fix16(0.71414) * x);
    store<i32>(cbG + o, -fix16(0.34414) * x + 32768);
  }
  tablesReady = true;
}

@inline function clamp255(v: i32): u8 {
  return <u8>(v < 0 ? 0 : v > 255 ? 255 : v);
}

/** Component planes (full resolution) → interleaved output: grey copy, RGB copy or YCbCr→RGB. */
function convertColour(planes: usize, strides: usize, ncomp: i32, transform: i32, width: i32, height: i32, out: usize): void {
  const p0 = load<usize>(planes), s0 = load<i32>(strides);
  if (ncomp == 1) {
    for (let y = 0; y < height; y++) memory.copy(out + <usize>(y * width), p0 + <usize>(y * s0), <usize>width);
  } else {
    const p1 = load<usize>(planes, 4), s1 = load<i32>(strides, 4);
    const p2 = load<usize>(planes, 8), s2 = load<i32>(strides, 8);
    let o = out;
    for (let y = 0; y < height; y++) {
      const r0 = p0 + <usize>(y * s0), r1 = p1 + <usize>(y * s1), r2 = p2 + <usize>(y * s2);
      if (transform == 2) {
        for (let x = 0; x < width; x++, o += 3) {
          store<u8>(o, load<u8>(r0 + x));
          store<u8>(o + 1, load<u8>(r1 + x));
          store<u8>(o + 2, load<u8>(r2 + x));
        }
      } else {
        for (let x = 0; x < width; x++, o += 3) {
          const yv = <i32>load<u8>(r0 + x);
          const cb = <usize>load<u8>(r1 + x) << 2;
          const cr = <usize>load<u8>(r2 + x) << 2;
          store<u8>(o, clamp255(yv + load<i32>(crR + cr)));
          store<u8>(o + 1, clamp255(yv + ((load<i32>(cbG + cb) + load<i32>(crG + cr)) >> 16)));
          store<u8>(o + 2, clamp255(yv + load<i32>(cbB + cb)));
        }
      }
    }
  }
}

// frame description written by src/vision/jpeg.ts (i32 fields):
// 0 width, 1 height, 2 ncomp, 3 hmax, 4 vmax, 5 colour transform (0 none/grey, 1 YCbCr, 2 RGB),
// then per component (6 fields from 6): h, v, coefficient buffer, blocks per line, block rows, quantizers.
const F_COMP = 6;

/** IDCT, upsampling and colour conversion of a fully decoded frame into out (width × height × 1|3).
 *  Every component's sampling factors divide the maxima (src/vision/jpeg.ts checks). */
export function jpeg_output(frame: usize, out: usize): void {
  if (!tablesReady) buildColorTables();
  const width = load<i32>(frame), height = load<i32>(frame, 4), ncomp = load<i32>(frame, 8);
  const hmax = load<i32>(frame, 12), vmax = load<i32>(frame, 16), transform = load<i32>(frame, 20);
  const planes = heap.alloc(<usize>(ncomp << 2));
  const strides = heap.alloc(<usize>(ncomp << 2));
  for (let c = 0; c < ncomp; c++) {
    const f = frame + (<usize>(F_COMP + c * 6) << 2);
    const h = load<i32>(f), v = load<i32>(f, 4), coefs = <usize>load<i32>(f, 8);
    const perLine = load<i32>(f, 12), rows = load<i32>(f, 16), quant = <usize>load<i32>(f, 20);
    // IDCT every block into a component plane
    const pw = perLine * 8;
    const plane = heap.alloc(<usize>(pw * rows * 8));
    for (let by = 0; by < rows; by++) {
      for (let bx = 0; bx < perLine; bx++) {
        idctIslow(coefs + (<usize>(by * perLine + bx) << 7), quant, plane + <usize>(by * 8 * pw + bx * 8), pw);
      }
    }
    // upsample to the full-resolution grid (stride ds ≥ width, with room for a whole last pair)
    const dw = (width * h + hmax - 1) / hmax;
    const dh = (height * v + vmax - 1) / vmax;
    const hx = hmax / h, vy = vmax / v;
    const ds = max(pw * hx, width + 2);
    const full = heap.alloc(<usize>(ds * height + 2));
    if (hx == 1 && vy == 1) {
      upFull(plane, pw, full, ds, width, height);
    } else if (hx == 2 && vy == 1 && dw > 2) {
      for (let y = 0; y < height; y++) fancyRow2(plane + <usize>(y * pw), full + <usize>(y * ds), dw);
    } else if (hx == 1 && vy == 2) {
      upH1V2Fancy(plane, pw, dw, dh, full, ds, height);
    } else if (hx == 2 && vy == 2 && dw > 2) {
      upH2V2Fancy(plane, pw, dw, dh, full, ds, height);
    } else {
      upReplicate(plane, pw, full, ds, width, height, hx, vy);
    }
    heap.free(plane);
    store<usize>(planes + (<usize>c << 2), full);
    store<i32>(strides + (<usize>c << 2), ds);
  }
  convertColour(planes, strides, ncomp, transform, width, height, out);
  for (let c = 0; c < ncomp; c++) heap.free(load<usize>(planes + (<usize>c << 2)));
  heap.free(planes);
  heap.free(strides);
}
