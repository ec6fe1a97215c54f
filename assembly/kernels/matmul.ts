// Batched matrix product (reference for shaders/matmul.wgsl):
//
//   out[b, i, j] = Σ_{kk < k} opA[b, i, kk] · opB[b, kk, j]
//
// op(A) is A (m×k) or Aᵀ of an A stored k×m; op(B) is B (k×n) or Bᵀ of a B stored n×k,
// B being f32 or packed bf16/f16 (element e at byte 2e). Matrix b starts at element
// b·stride (0 broadcasts). Every output is summed in increasing kk order, one f32 mul and
// add per term, starting from 0 — the same bits whichever path below computes it.
//
// GotoBLAS blocking: B is packed KC×NC at a time into panels of NR columns (k-major,
// converted to f32), A into panels of MR rows per MC×KC block, and a 4×8 f32x4 register
// kernel runs over panel pairs, accumulating onto out from the second K-block on.
// Fewer than MR rows skip the packing (it would cost more than the product).

const MR = 4;
const NR = 8;
const KC = 256;
const MC = 128;
const NC = 512;

const F32: i32 = 0;
const BF16: i32 = 1;
const F16: i32 = 2;

/** 2^112: scales a half's exponent/mantissa bits, shifted into f32 position, to its value. */
const HALF_SCALE: f32 = reinterpret<f32>(0x77800000);

let packedA: usize = 0;
let packedB: usize = 0;
/** A 4×8 f32 tile for the partial tiles at the matrix edges. */
const edge: usize = memory.data(MR * NR * 4, 16);

/** IEEE half bits (in the low 16 bits of each i32 lane) → f32 lanes, exact. */
@inline
function halfToF32x4(h: v128): v128 {
  const mag = v128.and(h, i32x4.splat(0x7fff));
  const shifted = i32x4.shl(mag, 13);
  const finite = f32x4.mul(shifted, f32x4.splat(HALF_SCALE));
  const special = v128.or(shifted, i32x4.splat(0x7f800000)); // ±inf, NaN
  const value = v128.bitselect(special, finite, i32x4.gt_s(mag, i32x4.splat(0x7bff)));
  return v128.or(value, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}

@inline
function halfToF32(h: u32): f32 {
  const mag = h & 0x7fff;
  const value = mag > 0x7bff ? reinterpret<f32>((mag << 13) | 0x7f800000) : reinterpret<f32>(mag << 13) * HALF_SCALE;
  return reinterpret<f32>(reinterpret<u32>(value) | ((h & 0x8000) << 16));
}

/** B element e as f32. */
@inline
function loadB(b: usize, e: usize, dtype: i32): f32 {
  if (dtype == F32) return load<f32>(b + (e << 2));
  const h = <u32>load<u16>(b + (e << 1));
  return dtype == BF16 ? reinterpret<f32>(h << 16) : halfToF32(h);
}

/** B elements e..e+3 as f32x4. */
@inline
function loadB4(b: usize, e: usize, dtype: i32): v128 {
  if (dtype == F32) return v128.load(b + (e << 2));
  const h = v128.load16x4_u(b + (e << 1));
  return dtype == BF16 ? i32x4.shl(h, 16) : halfToF32x4(h);
}

/** Packs opB[pc.., j0..] (kc × up to NR valid columns, zero-filled) k-major at dst. */
function packPanelB(dst: usize, b: usize, dtype: i32, transB: bool, k: i32, n: i32, pc: i32, kc: i32, j0: i32): void {
  const valid = min(NR, n - j0);
  if (!transB && valid == NR) {
    for (let kk = 0; kk < kc; kk++) {
      const e = <usize>(pc + kk) * <usize>n + <usize>j0;
      v128.store(dst + (<usize>kk << 5), loadB4(b, e, dtype));
      v128.store(dst + (<usize>kk << 5), loadB4(b, e + 4, dtype), 16);
    }
    return;
  }
  for (let c = 0; c < NR; c++) {
    const col = dst + (<usize>c << 2);
    if (c >= valid) {
      for (let kk = 0; kk < kc; kk++) store<f32>(col + (<usize>kk << 5), 0);
    } else if (transB) {
      const e = <usize>(j0 + c) * <usize>k + <usize>pc;
      for (let kk = 0; kk < kc; kk++) store<f32>(col + (<usize>kk << 5), loadB(b, e + kk, dtype));
    } else {
      for (let kk = 0; kk < kc; kk++) store<f32>(col + (<usize>kk << 5), loadB(b, <usize>(pc + kk) * <usize>n + <usize>(j0 + c), dtype));
    }
  }
}

/** Packs opA[i0.., pc..] (up to MR valid rows × kc, zero-filled) k-major at dst. */
function packPanelA(dst: usize, a: usize, transA: bool, m: i32, k: i32, i0: i32, pc: i32, kc: i32): void {
  const valid = min(MR, m - i0);
  if (transA && valid == MR) {
    for (let kk = 0; kk < kc; kk++) v128.store(dst + (<usize>kk << 4), v128.load(a + ((<usize>(pc + kk) * <usize>m + <usize>i0) << 2)));
    return;
  }
  for (let r = 0; r < MR; r++) {
    const row = dst + (<usize>r << 2);
    if (r >= valid) {
      for (let kk = 0; kk < kc; kk++) store<f32>(row + (<usize>kk << 4), 0);
    } else if (transA) {
      for (let kk = 0; kk < kc; kk++) store<f32>(row + (<usize>kk << 4), load<f32>(a + ((<usize>(pc + kk) * <usize>m + <usize>(i0 + r)) << 2)));
    } else {
      const src = a + ((<usize>(i0 + r) * <usize>k + <usize>pc) << 2);
      for (let kk = 0; kk < kc; kk++) store<f32>(row + (<usize>kk << 4), load<f32>(src + (<usize>kk << 2)));
    }
  }
}

/** c[4×8] (row pitch ldc bytes) = (accumulate ? c : 0) + Σ_kk ap[kk]ᵀ·bp[kk], kk in order. */
@inline
function kernel4x8(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  if (accumulate) {
    c00 = v128.load(c);
    c01 = v128.load(c, 16);
    c10 = v128.load(c + ldc);
    c11 = v128.load(c + ldc, 16);
    c20 = v128.load(c + 2 * ldc);
    c21 = v128.load(c + 2 * ldc, 16);
    c30 = v128.load(c + 3 * ldc);
    c31 = v128.load(c + 3 * ldc, 16);
  }
  for (let kk = 0; kk < kc; kk++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let av = v128.load32_splat(ap);
    c00 = f32x4.add(c00, f32x4.mul(av, b0));
    c01 = f32x4.add(c01, f32x4.mul(av, b1));
    av = v128.load32_splat(ap, 4);
    c10 = f32x4.add(c10, f32x4.mul(av, b0));
    c11 = f32x4.add(c11, f32x4.mul(av, b1));
    av = v128.load32_splat(ap, 8);
    c20 = f32x4.add(c20, f32x4.mul(av, b0));
    c21 = f32x4.add(c21, f32x4.mul(av, b1));
    av = v128.load32_splat(ap, 12);
    c30 = f32x4.add(c30, f32x4.mul(av, b0));
    c31 = f32x4.add(c31, f32x4.mul(av, b1));
    ap += 16;
    bp += 32;
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + ldc, c10);
  v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20);
  v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30);
  v128.store(c + 3 * ldc, c31, 16);
}

/** One rows×cols corner tile (rows ≤ MR, cols ≤ NR) through the edge buffer. */
function kernelEdge(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, rows: i32, cols: i32, accumulate: bool): void {
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < cols; j++)
      store<f32>(edge + (<usize>(r * NR + j) << 2), accumulate ? load<f32>(c + <usize>r * ldc + (<usize>j << 2)) : 0);
  kernel4x8(kc, ap, bp, edge, NR * 4, accumulate);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < cols; j++) store<f32>(c + <usize>r * ldc + (<usize>j << 2), load<f32>(edge + (<usize>(r * NR + j) << 2)));
}

/** One matrix product, m ≥ MR, k ≥ 1, through the packed panels. */
function blocked(a: usize, b: usize, out: usize, m: i32, n: i32, k: i32, transA: bool, transB: bool, dtype: i32): void {
  if (packedA == 0) {
    packedA = heap.alloc(MC * KC * 4);
    packedB = heap.alloc(KC * NC * 4);
  }
  const ldc = <usize>n << 2;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const accumulate = pc > 0;
      for (let jr = 0; jr < nc; jr += NR) packPanelB(packedB + <usize>(jr * kc * 4), b, dtype, transB, k, n, pc, kc, jc + jr);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        for (let ir = 0; ir < mc; ir += MR) packPanelA(packedA + <usize>(ir * kc * 4), a, transA, m, k, ic + ir, pc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const bp = packedB + <usize>(jr * kc * 4);
          const cols = min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const ap = packedA + <usize>(ir * kc * 4);
            const c = out + <usize>(ic + ir) * ldc + (<usize>(jc + jr) << 2);
            const rows = min(MR, mc - ir);
            if (rows == MR && cols == NR) kernel4x8(kc, ap, bp, c, ldc, accumulate);
            else kernelEdge(kc, ap, bp, c, ldc, rows, cols, accumulate);
          }
        }
      }
    }
  }
}

/** out[i, :] (at row) = Σ_kk x[kk] · B[kk, :], kk in order, x[kk] at xs + kk·xStep: streams B's rows. */
@inline
function rowTimesB(row: usize, xs: usize, xStep: usize, b: usize, n: i32, k: i32, dtype: i32): void {
  const n4 = n & ~3;
  memory.fill(row, 0, <usize>n << 2);
  for (let kk = 0; kk < k; kk++) {
    const x = load<f32>(xs + <usize>kk * xStep);
    const xv = f32x4.splat(x);
    const e = <usize>kk * <usize>n;
    for (let j = 0; j < n4; j += 4) {
      const at = row + (<usize>j << 2);
      v128.store(at, f32x4.add(v128.load(at), f32x4.mul(xv, loadB4(b, e + j, dtype))));
    }
    for (let j = n4; j < n; j++) {
      const at = row + (<usize>j << 2);
      store<f32>(at, load<f32>(at) + x * loadB(b, e + j, dtype));
    }
  }
}

/** out[i, j] = Σ_kk x[kk] · B[j, kk] for B stored n×k (rows contiguous along kk); four
 * columns at a time keep four independent add chains in flight. */
@inline
function rowTimesBt(row: usize, xs: usize, xStep: usize, b: usize, n: i32, k: i32, dtype: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const e0 = <usize>j * <usize>k;
    const e1 = e0 + <usize>k;
    const e2 = e1 + <usize>k;
    const e3 = e2 + <usize>k;
    let s0: f32 = 0,
      s1: f32 = 0,
      s2: f32 = 0,
      s3: f32 = 0;
    for (let kk = 0; kk < k; kk++) {
      const x = load<f32>(xs + <usize>kk * xStep);
      s0 += x * loadB(b, e0 + kk, dtype);
      s1 += x * loadB(b, e1 + kk, dtype);
      s2 += x * loadB(b, e2 + kk, dtype);
      s3 += x * loadB(b, e3 + kk, dtype);
    }
    v128.store(row + (<usize>j << 2), f32x4(s0, s1, s2, s3));
  }
  for (; j < n; j++) {
    const e = <usize>j * <usize>k;
    let sum: f32 = 0;
    for (let kk = 0; kk < k; kk++) sum += load<f32>(xs + <usize>kk * xStep) * loadB(b, e + kk, dtype);
    store<f32>(row + (<usize>j << 2), sum);
  }
}

/** One matrix product of fewer than MR rows, straight from A and B (row by row). */
function fewRows(a: usize, b: usize, out: usize, m: i32, n: i32, k: i32, transA: bool, transB: bool, dtype: i32): void {
  const xStep: usize = transA ? <usize>m << 2 : 4;
  for (let i = 0; i < m; i++) {
    const row = out + ((<usize>i * <usize>n) << 2);
    const xs = a + ((transA ? <usize>i : <usize>i * <usize>k) << 2);
    // Literal dtypes let the optimizer fold the conversion out of the inner loops.
    if (transB) {
      if (dtype == F32) rowTimesBt(row, xs, xStep, b, n, k, F32);
      else if (dtype == BF16) rowTimesBt(row, xs, xStep, b, n, k, BF16);
      else rowTimesBt(row, xs, xStep, b, n, k, F16);
    } else {
      if (dtype == F32) rowTimesB(row, xs, xStep, b, n, k, F32);
      else if (dtype == BF16) rowTimesB(row, xs, xStep, b, n, k, BF16);
      else rowTimesB(row, xs, xStep, b, n, k, F16);
    }
  }
}

/** out[z] = op(A[z])·op(B[z]) for z < batch; strides in elements, bDtype 0 f32, 1 bf16, 2 f16. */
export function matmul(
  a: usize,
  b: usize,
  out: usize,
  batch: i32,
  m: i32,
  n: i32,
  k: i32,
  transA: bool,
  transB: bool,
  strideA: i32,
  strideB: i32,
  strideOut: i32,
  bDtype: i32,
): void {
  const bShift: usize = bDtype == F32 ? 2 : 1;
  for (let z = 0; z < batch; z++) {
    const az = a + ((<usize>z * <usize>strideA) << 2);
    const bz = b + ((<usize>z * <usize>strideB) << bShift);
    const oz = out + ((<usize>z * <usize>strideOut) << 2);
    if (k == 0) memory.fill(oz, 0, (<usize>m * <usize>n) << 2);
    else if (m < MR) fewRows(az, bz, oz, m, n, k, transA, transB, bDtype);
    else blocked(az, bz, oz, m, n, k, transA, transB, bDtype);
  }
}

/**
 * The epilogue, one pass over the outputs: out[z, i, j] = residual[z, i, j] + (out[z, i, j] + bias[j])
 * for z < batch, i < m, j < n, each term where its flag is set (residual laid out as out, strideOut
 * apart per matrix): the rounding of separate adds, as the WebGPU kernels' `finish`.
 */
export function finish(out: usize, hasBias: bool, bias: usize, hasResidual: bool, residual: usize, batch: i32, m: i32, n: i32, strideOut: i32): void {
  for (let z = 0; z < batch; z++) {
    const first = (<usize>z * <usize>strideOut) << 2;
    for (let i = 0; i < m; i++) {
      const row = first + ((<usize>i * <usize>n) << 2);
      for (let j = 0; j < n; j++) {
        const at = row + (<usize>j << 2);
        let v = load<f32>(out + at);
        if (hasBias) v += load<f32>(bias + (<usize>j << 2));
        if (hasResidual) v = load<f32>(residual + at) + v;
        store<f32>(out + at, v);
      }
    }
  }
}
