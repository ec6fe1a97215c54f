// Elementwise kernels (reference for shaders/basic.wgsl): the same formulas, evaluated in
// f32. Addresses are byte offsets in linear memory, counts are elements; op codes match
// src/backend/args/basic.ts. Ops are specialised by calling @inline bodies with constant
// op codes, so no loop branches on the op per element.
import { bf16ToF32, f16ToF32 } from './half';

/** out[i] = bits for i < n (f32 and i32 alike: the caller passes the bit pattern). */
export function fill(out: usize, n: i32, bits: u32): void {
  const v = v128.splat<u32>(bits);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < n; i++) store<u32>(out + (<usize>i << 2), bits);
}

// ── unpack: out[i] = f32(src[i]), src packed 16-bit floats ─────────────────────────────
// Integer decodes, so every value (±0, subnormals, ±inf, NaN payloads) survives bit-exactly.

/** bf16 is the top half of an f32. */
export function unpackBf16(src: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const h = v128.load(src + (<usize>i << 1));
    v128.store(out + (<usize>i << 2), i32x4.shl(i32x4.extend_low_i16x8_u(h), 16));
    v128.store(out + (<usize>i << 2), i32x4.shl(i32x4.extend_high_i16x8_u(h), 16), 16);
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), bf16ToF32(<u32>load<u16>(src + (<usize>i << 1))));
}

const F16_REBIAS: u32 = (127 - 15) << 23; // exponent bias 15 → 127, added to the shifted exponent field

/**
 * IEEE half → f32 bits, four lanes (f16ToF32 in ./half is the scalar form). Normal: (e, m) →
 * (e + 112, m << 13). Inf/NaN (e = 31): the rebias added twice lands e on 255, payload kept.
 * Zero/subnormal: m·2⁻²⁴ is exact (and normal) in f32.
 */
export function unpackF16(src: usize, out: usize, n: i32): void {
  const rebias = i32x4.splat(F16_REBIAS);
  const infnan = i32x4.splat(0x7c00);
  const subnormal = i32x4.splat(0x400);
  const magnitude = i32x4.splat(0x7fff);
  const signBit = i32x4.splat(0x8000);
  const step = f32x4.splat(5.9604644775390625e-8); // 2⁻²⁴
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const h = v128.load16x4_u(src + (<usize>i << 1)); // four u16 → u32 lanes
    const em = v128.and(h, magnitude);
    let r = i32x4.add(i32x4.shl(em, 13), rebias);
    r = v128.bitselect(i32x4.add(r, rebias), r, i32x4.ge_u(em, infnan));
    r = v128.bitselect(f32x4.mul(f32x4.convert_i32x4_u(em), step), r, i32x4.lt_u(em, subnormal));
    v128.store(out + (<usize>i << 2), v128.or(r, i32x4.shl(v128.and(h, signBit), 16)));
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), f16ToF32(<u32>load<u16>(src + (<usize>i << 1))));
}

// ── strided views: dims = [shape[rank], strides₁[rank], strides₂[rank]] (i32) ────────────
// The last dimension is walked as a row; rows are enumerated in row-major order.

@inline function dim(dims: usize, k: i32): i32 {
  return load<i32>(dims + (<usize>k << 2));
}

/** Element offset of row r (its index over every dimension but the last) in stride set `set`. */
@inline function rowOffset(dims: usize, rank: i32, set: i32, r: i32): usize {
  let off = 0;
  for (let d = rank - 2; d >= 0; d--) {
    const extent = dim(dims, d);
    off += (r % extent) * dim(dims, set * rank + d);
    r /= extent;
  }
  return <usize>off;
}

@inline function rowCount(dims: usize, rank: i32): i32 {
  let rows = 1;
  for (let d = 0; d < rank - 1; d++) rows *= dim(dims, d);
  return rows;
}

// ── binary: out[idx] = a[idx·aStrides] op b[idx·bStrides] ───────────────────────────────
const ADD = 0;
const SUB = 1;
const MUL = 2;

@inline function binaryScalar(op: i32, x: f32, y: f32): f32 {
  if (op == ADD) return x + y;
  if (op == SUB) return x - y;
  if (op == MUL) return x * y;
  return x / y;
}

@inline function binaryVector(op: i32, x: v128, y: v128): v128 {
  if (op == ADD) return f32x4.add(x, y);
  if (op == SUB) return f32x4.sub(x, y);
  if (op == MUL) return f32x4.mul(x, y);
  return f32x4.div(x, y);
}

/** out[i] = a[i·sa] op b[i·sb] for i < len; unit and zero (broadcast) strides run 4 lanes at a time. */
@inline function binaryRowOf(op: i32, a: usize, b: usize, out: usize, len: i32, sa: i32, sb: i32): void {
  let i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 4 <= len; i += 4) {
      const at = <usize>i << 2;
      v128.store(out + at, binaryVector(op, v128.load(a + at), v128.load(b + at)));
    }
  } else if (sa == 1 && sb == 0) {
    const y = f32x4.splat(load<f32>(b));
    for (; i + 4 <= len; i += 4) v128.store(out + (<usize>i << 2), binaryVector(op, v128.load(a + (<usize>i << 2)), y));
  } else if (sa == 0 && sb == 1) {
    const x = f32x4.splat(load<f32>(a));
    for (; i + 4 <= len; i += 4) v128.store(out + (<usize>i << 2), binaryVector(op, x, v128.load(b + (<usize>i << 2))));
  }
  for (; i < len; i++)
    store<f32>(out + (<usize>i << 2), binaryScalar(op, load<f32>(a + (<usize>(i * sa) << 2)), load<f32>(b + (<usize>(i * sb) << 2))));
}

function binaryRow(op: i32, a: usize, b: usize, out: usize, len: i32, sa: i32, sb: i32): void {
  if (op == ADD) binaryRowOf(ADD, a, b, out, len, sa, sb);
  else if (op == SUB) binaryRowOf(SUB, a, b, out, len, sa, sb);
  else if (op == MUL) binaryRowOf(MUL, a, b, out, len, sa, sb);
  else binaryRowOf(3, a, b, out, len, sa, sb);
}

/** dims = [shape, aStrides, bStrides]; out is contiguous over shape. */
export function binary(op: i32, a: usize, b: usize, out: usize, rank: i32, dims: usize): void {
  const len = dim(dims, rank - 1);
  const sa = dim(dims, 2 * rank - 1);
  const sb = dim(dims, 3 * rank - 1);
  const rows = rowCount(dims, rank);
  for (let r = 0; r < rows; r++) {
    const ra = a + (rowOffset(dims, rank, 1, r) << 2);
    const rb = b + (rowOffset(dims, rank, 2, r) << 2);
    binaryRow(op, ra, rb, out + (<usize>r * <usize>len << 2), len, sa, sb);
  }
}

// ── copyStrided: dst[idx·dstStrides] = src[idx·srcStrides], 32-bit words ──────────────

/** dims = [shape, srcStrides, dstStrides]; src and dst already include their offsets. */
export function copyStrided(src: usize, dst: usize, rank: i32, dims: usize): void {
  const len = dim(dims, rank - 1);
  const ss = dim(dims, 2 * rank - 1);
  const ds = dim(dims, 3 * rank - 1);
  const rows = rowCount(dims, rank);
  for (let r = 0; r < rows; r++) {
    const s = src + (rowOffset(dims, rank, 1, r) << 2);
    const d = dst + (rowOffset(dims, rank, 2, r) << 2);
    if (ss == 1 && ds == 1) memory.copy(d, s, <usize>len << 2);
    else for (let i = 0; i < len; i++) store<u32>(d + (<usize>(i * ds) << 2), load<u32>(s + (<usize>(i * ss) << 2)));
  }
}

// ── shared math ───────────────────────────────────────────────────────────────────────

/** σ(x) = 1/(1 + e^−x), built from e^−|x| ≤ 1 so nothing overflows for any x. */
@inline function sigmoid(x: f32): f32 {
  const e = Mathf.exp(-Mathf.abs(x));
  const r: f32 = 1 / (1 + e);
  return x >= 0 ? r : e * r;
}

// erf and tanh: coefficients and error bounds from tools/approx_coefficients.py.
/** erf(x) to ~6e-8 absolute: x + x·R(x²) for |x| < 1, 1 − e^−x²·P(|x|)/Q(|x|) up to 4, then ±1. */
@inline function erf(x: f32): f32 {
  const a = Mathf.min(Mathf.abs(x), 4);
  const t = a * a;
  let y: f32;
  if (a < 1) {
    y = a + a * (0.128379166 + t * (-0.37612626 + t * (0.112835854 + t * (-0.026853811 + t * (0.00518832775 + t * (-0.000801019312 + t * 7.85385928e-5))))));
  } else {
    const p: f32 = 1.00155318 + a * (0.75634861 + a * (0.249309763 + a * -6.52861636e-5));
    const q: f32 = 1 + a * (1.89392722 + a * (1.36063957 + a * 0.439594358));
    y = 1 - Mathf.exp(-t) * (p / q);
  }
  return x < 0 ? -y : y;
}

/** tanh(x) to ~2e-7 relative: x + x·x²·S(x²) for |x| < 0.625, else (1 − e)/(1 + e) with e = e^−2|x|. */
@inline function tanh(x: f32): f32 {
  const a = Mathf.abs(x);
  let y: f32;
  if (a < 0.625) {
    const t = a * a;
    y = a + a * (t * (-0.333333284 + t * (0.133327708 + t * (-0.0538509525 + t * (0.0209973548 + t * -0.00609693909)))));
  } else {
    const e = Mathf.exp(-2 * a);
    y = (1 - e) / (1 + e);
  }
  return x < 0 ? -y : y;
}

const GELU_2K: f32 = 1.5957691216057308; // 2·√(2/π): gelu_tanh = 0.5x(1 + tanh(u)) = x·σ(2u)
const GELU_C: f32 = 0.044715;
const SQRT1_2: f32 = 0.7071067811865476;
const INV_SQRT_2PI: f32 = 0.3989422804014327;
const QUICK_GELU_A: f32 = 1.702;

// ── unary / unaryGrad ─────────────────────────────────────────────────────────────────
const SCALE = 0;
const NEG = 1;
const EXP = 2;
const LOG = 3;
const SQRT = 4;
const RSQRT = 5;
const SQUARE = 6;
const RELU = 7;
const SIGMOID = 8;
const TANH = 9;
const SILU = 10;
const GELU_TANH = 11;
const GELU_ERF = 12;

/** f(x); relu keeps NaN and −0 (x < 0 ? 0 : x). */
@inline function unaryScalar(op: i32, x: f32, alpha: f32): f32 {
  switch (op) {
    case SCALE: return alpha * x;
    case NEG: return -x;
    case EXP: return Mathf.exp(x);
    case LOG: return Mathf.log(x);
    case SQRT: return Mathf.sqrt(x);
    case RSQRT: return 1 / Mathf.sqrt(x);
    case SQUARE: return x * x;
    case RELU: return x < 0 ? 0 : x;
    case SIGMOID: return sigmoid(x);
    case TANH: return tanh(x);
    case SILU: return x * sigmoid(x);
    case GELU_TANH: return x * sigmoid(GELU_2K * x * (1 + GELU_C * x * x));
    case GELU_ERF: return 0.5 * x * (1 + erf(x * SQRT1_2));
    default: return x * sigmoid(QUICK_GELU_A * x); // quick_gelu
  }
}

/** gy·f'(x); relu passes gy only where x > 0 (torch's threshold_backward). */
@inline function unaryGradScalar(op: i32, x: f32, gy: f32, alpha: f32): f32 {
  switch (op) {
    case SCALE: return alpha * gy;
    case NEG: return -gy;
    case EXP: return gy * Mathf.exp(x);
    case LOG: return gy / x;
    case SQRT: return gy / (2 * Mathf.sqrt(x));
    case RSQRT: {
      const r: f32 = 1 / Mathf.sqrt(x);
      return -0.5 * gy * r * r * r;
    }
    case SQUARE: return 2 * x * gy;
    case RELU: return x > 0 ? gy : 0;
    case SIGMOID: {
      const s = sigmoid(x);
      return gy * s * (1 - s);
    }
    case TANH: {
      const t = tanh(x);
      return gy * (1 - t * t);
    }
    case SILU: {
      const s = sigmoid(x);
      return gy * s * (1 + x * (1 - s));
    }
    case GELU_TANH: {
      const x2 = x * x;
      const s = sigmoid(GELU_2K * x * (1 + GELU_C * x2));
      return gy * (s + x * s * (1 - s) * GELU_2K * (1 + 3 * GELU_C * x2));
    }
    case GELU_ERF: return gy * (0.5 * (1 + erf(x * SQRT1_2)) + x * INV_SQRT_2PI * Mathf.exp(-0.5 * x * x));
    default: {
      const s = sigmoid(QUICK_GELU_A * x);
      return gy * (s + QUICK_GELU_A * x * s * (1 - s));
    }
  }
}

/** The ops cheap enough that four lanes at a time pay off (the rest are bound by exp/log). */
@inline function unaryVector(op: i32, x: v128, alpha: v128): v128 {
  switch (op) {
    case SCALE: return f32x4.mul(alpha, x);
    case NEG: return f32x4.neg(x);
    case SQRT: return f32x4.sqrt(x);
    case SQUARE: return f32x4.mul(x, x);
    default: return v128.bitselect(f32x4.splat(0), x, f32x4.lt(x, f32x4.splat(0))); // relu
  }
}

@inline function unaryOf(op: i32, x: usize, out: usize, n: i32, alpha: f32): void {
  let i = 0;
  if (op == SCALE || op == NEG || op == SQRT || op == SQUARE || op == RELU) {
    const va = f32x4.splat(alpha);
    for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), unaryVector(op, v128.load(x + (<usize>i << 2)), va));
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), unaryScalar(op, load<f32>(x + (<usize>i << 2)), alpha));
}

/** out[i] = f(x[i]) for i < n. */
export function unary(op: i32, x: usize, out: usize, n: i32, alpha: f32): void {
  switch (op) {
    case SCALE: unaryOf(SCALE, x, out, n, alpha); break;
    case NEG: unaryOf(NEG, x, out, n, alpha); break;
    case EXP: unaryOf(EXP, x, out, n, alpha); break;
    case LOG: unaryOf(LOG, x, out, n, alpha); break;
    case SQRT: unaryOf(SQRT, x, out, n, alpha); break;
    case RSQRT: unaryOf(RSQRT, x, out, n, alpha); break;
    case SQUARE: unaryOf(SQUARE, x, out, n, alpha); break;
    case RELU: unaryOf(RELU, x, out, n, alpha); break;
    case SIGMOID: unaryOf(SIGMOID, x, out, n, alpha); break;
    case TANH: unaryOf(TANH, x, out, n, alpha); break;
    case SILU: unaryOf(SILU, x, out, n, alpha); break;
    case GELU_TANH: unaryOf(GELU_TANH, x, out, n, alpha); break;
    case GELU_ERF: unaryOf(GELU_ERF, x, out, n, alpha); break;
    default: unaryOf(13, x, out, n, alpha); // quick_gelu
  }
}

@inline function unaryGradOf(op: i32, x: usize, gy: usize, gx: usize, n: i32, alpha: f32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(gx + at, unaryGradScalar(op, load<f32>(x + at), load<f32>(gy + at), alpha));
  }
}

/** gx[i] = gy[i]·f'(x[i]) for i < n. */
export function unaryGrad(op: i32, x: usize, gy: usize, gx: usize, n: i32, alpha: f32): void {
  switch (op) {
    case SCALE: unaryGradOf(SCALE, x, gy, gx, n, alpha); break;
    case NEG: unaryGradOf(NEG, x, gy, gx, n, alpha); break;
    case EXP: unaryGradOf(EXP, x, gy, gx, n, alpha); break;
    case LOG: unaryGradOf(LOG, x, gy, gx, n, alpha); break;
    case SQRT: unaryGradOf(SQRT, x, gy, gx, n, alpha); break;
    case RSQRT: unaryGradOf(RSQRT, x, gy, gx, n, alpha); break;
    case SQUARE: unaryGradOf(SQUARE, x, gy, gx, n, alpha); break;
    case RELU: unaryGradOf(RELU, x, gy, gx, n, alpha); break;
    case SIGMOID: unaryGradOf(SIGMOID, x, gy, gx, n, alpha); break;
    case TANH: unaryGradOf(TANH, x, gy, gx, n, alpha); break;
    case SILU: unaryGradOf(SILU, x, gy, gx, n, alpha); break;
    case GELU_TANH: unaryGradOf(GELU_TANH, x, gy, gx, n, alpha); break;
    case GELU_ERF: unaryGradOf(GELU_ERF, x, gy, gx, n, alpha); break;
    default: unaryGradOf(13, x, gy, gx, n, alpha); // quick_gelu
  }
}

// ── swiglu: out = silu(gate)·up;  gGate = gy·up·silu'(gate), gUp = gy·silu(gate) ──────

export function swiglu(gate: usize, up: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    const g = load<f32>(gate + at);
    store<f32>(out + at, g * sigmoid(g) * load<f32>(up + at));
  }
}

/** silu'(g) = σ(g)·(1 + g·(1 − σ(g))). */
export function swigluGrad(gate: usize, up: usize, gy: usize, gGate: usize, gUp: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    const g = load<f32>(gate + at);
    const dy = load<f32>(gy + at);
    const s = sigmoid(g);
    store<f32>(gGate + at, dy * load<f32>(up + at) * s * (1 + g * (1 - s)));
    store<f32>(gUp + at, dy * g * s);
  }
}

// ── reduce: out[o, i] = Σ_j x[o, j, i] (or the mean) over x viewed as [outer, size, inner] ──

/** Σ of len contiguous floats in a fixed order: 16 running lanes, combined pairwise, then the tail. */
function sumContiguous(p: usize, len: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = a0;
  let a2 = a0;
  let a3 = a0;
  let j = 0;
  for (; j + 16 <= len; j += 16) {
    const at = p + (<usize>j << 2);
    a0 = f32x4.add(a0, v128.load(at));
    a1 = f32x4.add(a1, v128.load(at, 16));
    a2 = f32x4.add(a2, v128.load(at, 32));
    a3 = f32x4.add(a3, v128.load(at, 48));
  }
  const v = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  let s = (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
  for (; j < len; j++) s += load<f32>(p + (<usize>j << 2));
  return s;
}

/** dst[i] += src[i] for i < len. */
function addRow(dst: usize, src: usize, len: i32): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const at = <usize>i << 2;
    v128.store(dst + at, f32x4.add(v128.load(dst + at), v128.load(src + at)));
  }
  for (; i < len; i++) {
    const at = <usize>i << 2;
    store<f32>(dst + at, load<f32>(dst + at) + load<f32>(src + at));
  }
}

/** Row sums (inner = 1) run along each row; otherwise whole rows of x are added in j order. */
export function reduce(x: usize, out: usize, outer: i32, size: i32, inner: i32, mean: bool): void {
  const div = <f32>size;
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const s = sumContiguous(x + (<usize>o * <usize>size << 2), size);
      store<f32>(out + (<usize>o << 2), mean ? s / div : s);
    }
    return;
  }
  const rowBytes = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const dst = out + <usize>o * rowBytes;
    memory.fill(dst, 0, rowBytes);
    const src = x + <usize>o * <usize>size * rowBytes;
    for (let j = 0; j < size; j++) addRow(dst, src + <usize>j * rowBytes, inner);
    if (mean) for (let i = 0; i < inner; i++) store<f32>(dst + (<usize>i << 2), load<f32>(dst + (<usize>i << 2)) / div);
  }
}
