// Elementwise kernels (reference for shaders/basic.wgsl): the same formulas, evaluated in
// f32. Addresses are byte offsets in linear memory, counts are elements; op codes match
// src/backend/args/basic.ts. The op is switched per 4-lane vector (a jump table that
// predicts perfectly), which costs little next to the memory traffic or the vector math.
import { bf16ToF32, f16ToF32 } from './half';
import { erfV, expV, loadPartial, logV, sigmoidV, storePartial, tanhV } from './vmath';

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
function binaryRow(op: i32, a: usize, b: usize, out: usize, len: i32, sa: i32, sb: i32): void {
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

// ── unary / unaryGrad ─────────────────────────────────────────────────────────────────
// Four lanes at a time for every op; a tail of 1–3 elements is padded into one more vector.
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

const GELU_2K: f32 = 1.5957691216057308; // 2·√(2/π): gelu_tanh = 0.5x(1 + tanh(u)) = x·σ(2u)
const GELU_C: f32 = 0.044715;
const SQRT1_2: f32 = 0.7071067811865476;
const INV_SQRT_2PI: f32 = 0.3989422804014327;
const QUICK_GELU_A: f32 = 1.702;

@inline function splat(v: f32): v128 {
  return f32x4.splat(v);
}

@inline function mul(a: v128, b: v128): v128 {
  return f32x4.mul(a, b);
}

@inline function add(a: v128, b: v128): v128 {
  return f32x4.add(a, b);
}

/** 2·√(2/π)·x·(1 + 0.044715x²): the σ argument of gelu_tanh. */
@inline function geluTanhArg(x: v128): v128 {
  return mul(mul(splat(GELU_2K), x), add(splat(1), mul(splat(GELU_C), mul(x, x))));
}

/** f(x); relu keeps NaN and −0 (x < 0 ? 0 : x). */
@inline function unaryV(op: i32, x: v128, alpha: v128): v128 {
  switch (op) {
    case SCALE: return mul(alpha, x);
    case NEG: return f32x4.neg(x);
    case EXP: return expV(x);
    case LOG: return logV(x);
    case SQRT: return f32x4.sqrt(x);
    case RSQRT: return f32x4.div(splat(1), f32x4.sqrt(x));
    case SQUARE: return mul(x, x);
    case RELU: return v128.bitselect(splat(0), x, f32x4.lt(x, splat(0)));
    case SIGMOID: return sigmoidV(x);
    case TANH: return tanhV(x);
    case SILU: return mul(x, sigmoidV(x));
    case GELU_TANH: return mul(x, sigmoidV(geluTanhArg(x)));
    case GELU_ERF: return mul(mul(splat(0.5), x), add(splat(1), erfV(mul(x, splat(SQRT1_2)))));
    default: return mul(x, sigmoidV(mul(splat(QUICK_GELU_A), x))); // quick_gelu
  }
}

/** gy·f'(x); relu passes gy only where x > 0 (torch's threshold_backward). */
@inline function unaryGradV(op: i32, x: v128, gy: v128, alpha: v128): v128 {
  const one = splat(1);
  switch (op) {
    case SCALE: return mul(alpha, gy);
    case NEG: return f32x4.neg(gy);
    case EXP: return mul(gy, expV(x));
    case LOG: return f32x4.div(gy, x);
    case SQRT: return f32x4.div(gy, mul(splat(2), f32x4.sqrt(x)));
    case RSQRT: {
      const r = f32x4.div(one, f32x4.sqrt(x));
      return mul(mul(mul(mul(splat(-0.5), gy), r), r), r);
    }
    case SQUARE: return mul(mul(splat(2), x), gy);
    case RELU: return v128.bitselect(gy, splat(0), f32x4.gt(x, splat(0)));
    case SIGMOID: {
      const s = sigmoidV(x);
      return mul(mul(gy, s), f32x4.sub(one, s));
    }
    case TANH: {
      const t = tanhV(x);
      return mul(gy, f32x4.sub(one, mul(t, t)));
    }
    case SILU: {
      const s = sigmoidV(x);
      return mul(mul(gy, s), add(one, mul(x, f32x4.sub(one, s))));
    }
    case GELU_TANH: {
      // s + x·s(1 − s)·2√(2/π)(1 + 3·0.044715x²)
      const s = sigmoidV(geluTanhArg(x));
      const du = mul(splat(GELU_2K), add(one, mul(splat(3 * GELU_C), mul(x, x))));
      return mul(gy, add(s, mul(mul(mul(x, s), f32x4.sub(one, s)), du)));
    }
    case GELU_ERF: {
      // Φ(x) + x·φ(x) = 0.5(1 + erf(x/√2)) + x·e^(−x²/2)/√(2π)
      const cdf = mul(splat(0.5), add(one, erfV(mul(x, splat(SQRT1_2)))));
      const pdf = mul(splat(INV_SQRT_2PI), expV(mul(splat(-0.5), mul(x, x))));
      return mul(gy, add(cdf, mul(x, pdf)));
    }
    default: {
      // quick_gelu: s + 1.702·x·s(1 − s), s = σ(1.702x)
      const s = sigmoidV(mul(splat(QUICK_GELU_A), x));
      return mul(gy, add(s, mul(mul(mul(splat(QUICK_GELU_A), x), s), f32x4.sub(one, s))));
    }
  }
}

/** out[i] = f(x[i]) for i < n. */
export function unary(op: i32, x: usize, out: usize, n: i32, alpha: f32): void {
  const va = splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), unaryV(op, v128.load(x + (<usize>i << 2)), va));
  if (i < n) storePartial(out + (<usize>i << 2), unaryV(op, loadPartial(x + (<usize>i << 2), n - i), va), n - i);
}

/** gx[i] = gy[i]·f'(x[i]) for i < n. */
export function unaryGrad(op: i32, x: usize, gy: usize, gx: usize, n: i32, alpha: f32): void {
  const va = splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    v128.store(gx + at, unaryGradV(op, v128.load(x + at), v128.load(gy + at), va));
  }
  if (i < n) {
    const at = <usize>i << 2;
    storePartial(gx + at, unaryGradV(op, loadPartial(x + at, n - i), loadPartial(gy + at, n - i), va), n - i);
  }
}

// ── swiglu: out = silu(gate)·up;  gGate = gy·up·silu'(gate), gUp = gy·silu(gate) ──────

@inline function swigluV(g: v128, u: v128): v128 {
  return mul(mul(g, sigmoidV(g)), u);
}

export function swiglu(gate: usize, up: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    v128.store(out + at, swigluV(v128.load(gate + at), v128.load(up + at)));
  }
  if (i < n) {
    const at = <usize>i << 2;
    storePartial(out + at, swigluV(loadPartial(gate + at, n - i), loadPartial(up + at, n - i)), n - i);
  }
}

/** silu'(g) = σ(g)·(1 + g·(1 − σ(g))); writes both gradients of lanes [at, at + count). */
@inline function swigluGradAt(gate: usize, up: usize, gy: usize, gGate: usize, gUp: usize, at: usize, count: i32): void {
  const g = count == 4 ? v128.load(gate + at) : loadPartial(gate + at, count);
  const u = count == 4 ? v128.load(up + at) : loadPartial(up + at, count);
  const dy = count == 4 ? v128.load(gy + at) : loadPartial(gy + at, count);
  const s = sigmoidV(g);
  const one = splat(1);
  const dGate = mul(mul(mul(dy, u), s), add(one, mul(g, f32x4.sub(one, s))));
  const dUp = mul(mul(dy, g), s);
  if (count == 4) {
    v128.store(gGate + at, dGate);
    v128.store(gUp + at, dUp);
  } else {
    storePartial(gGate + at, dGate, count);
    storePartial(gUp + at, dUp, count);
  }
}

export function swigluGrad(gate: usize, up: usize, gy: usize, gGate: usize, gUp: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) swigluGradAt(gate, up, gy, gGate, gUp, <usize>i << 2, 4);
  if (i < n) swigluGradAt(gate, up, gy, gGate, gUp, <usize>i << 2, n - i);
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
