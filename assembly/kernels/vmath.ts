// f32x4 math for the elementwise kernels: exp, σ, erf, tanh, log, and loads/stores of a
// partial vector, so every element (tails included) takes the same code path. Polynomial
// coefficients and error bounds come from tools/approx_coefficients.py; erf and tanh use
// the same formulas as shaders/basic.wgsl.

@inline function splat(v: f32): v128 {
  return f32x4.splat(v);
}

/** Loads count (1–3) floats from p into the low lanes; the rest are 0. */
@inline export function loadPartial(p: usize, count: i32): v128 {
  let v = f32x4.replace_lane(splat(0), 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Stores the low count (1–3) lanes of v at p. */
@inline export function storePartial(p: usize, v: v128, count: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

const LOG2E: f32 = 1.4426950408889634;
const LN2_HI: f32 = 0.693359375; // 9 significant bits: n·LN2_HI is exact for |n| < 2¹⁵
const LN2_LO: f32 = -2.12194442e-4; // ln 2 − LN2_HI, rounded to f32

/**
 * e^x to ~1 ulp: x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite), e^r = 1 + r + r²·P(r), then
 * ·2^n applied in two halves so subnormal results and the overflow to +inf come out right.
 * x is clamped to [−104, 89], past which the result is 0 or +inf anyway; NaN propagates.
 */
@inline export function expV(x: v128): v128 {
  const c = f32x4.min(f32x4.max(x, splat(-104)), splat(89));
  const n = f32x4.nearest(f32x4.mul(c, splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(c, f32x4.mul(n, splat(LN2_HI))), f32x4.mul(n, splat(LN2_LO)));
  let p = f32x4.add(f32x4.mul(splat(0.00139015319), r), splat(0.00836373959));
  p = f32x4.add(f32x4.mul(p, r), splat(0.0416668616));
  p = f32x4.add(f32x4.mul(p, r), splat(0.166665733));
  p = f32x4.add(f32x4.mul(p, r), splat(0.5));
  const e = f32x4.add(splat(1), f32x4.add(r, f32x4.mul(f32x4.mul(r, r), p)));
  const k = i32x4.trunc_sat_f32x4_s(n);
  const half = i32x4.shr_s(k, 1);
  const bias = i32x4.splat(127);
  const s1 = i32x4.shl(i32x4.add(half, bias), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(k, half), bias), 23);
  return f32x4.mul(f32x4.mul(e, s1), s2);
}

/** σ(x) = 1/(1 + e^−x), built from e^−|x| ≤ 1 so nothing overflows for any x; NaN propagates. */
@inline export function sigmoidV(x: v128): v128 {
  const e = expV(f32x4.neg(f32x4.abs(x)));
  const r = f32x4.div(splat(1), f32x4.add(splat(1), e));
  return v128.bitselect(r, f32x4.mul(e, r), f32x4.ge(x, splat(0)));
}

/** Puts the sign of x on y (y ≥ 0): erf and tanh are odd. */
@inline function withSignOf(x: v128, y: v128): v128 {
  return v128.or(y, v128.and(x, i32x4.splat(0x80000000)));
}

/** erf(x) to ~6e-8 absolute: x + x·R(x²) for |x| < 1, 1 − e^−x²·P(|x|)/Q(|x|) up to 4, then ±1. */
@inline export function erfV(x: v128): v128 {
  const a = f32x4.min(f32x4.abs(x), splat(4));
  const t = f32x4.mul(a, a);
  let r = f32x4.add(f32x4.mul(splat(7.85385928e-5), t), splat(-0.000801019312));
  r = f32x4.add(f32x4.mul(r, t), splat(0.00518832775));
  r = f32x4.add(f32x4.mul(r, t), splat(-0.026853811));
  r = f32x4.add(f32x4.mul(r, t), splat(0.112835854));
  r = f32x4.add(f32x4.mul(r, t), splat(-0.37612626));
  r = f32x4.add(f32x4.mul(r, t), splat(0.128379166));
  const small = f32x4.add(a, f32x4.mul(a, r));
  let p = f32x4.add(f32x4.mul(splat(-6.52861636e-5), a), splat(0.249309763));
  p = f32x4.add(f32x4.mul(p, a), splat(0.75634861));
  p = f32x4.add(f32x4.mul(p, a), splat(1.00155318));
  let q = f32x4.add(f32x4.mul(splat(0.439594358), a), splat(1.36063957));
  q = f32x4.add(f32x4.mul(q, a), splat(1.89392722));
  q = f32x4.add(f32x4.mul(q, a), splat(1));
  const big = f32x4.sub(splat(1), f32x4.mul(expV(f32x4.neg(t)), f32x4.div(p, q)));
  return withSignOf(x, v128.bitselect(small, big, f32x4.lt(a, splat(1))));
}

/** tanh(x) to ~2e-7 relative: x + x·x²·S(x²) for |x| < 0.625, else (1 − e)/(1 + e) with e = e^−2|x|. */
@inline export function tanhV(x: v128): v128 {
  const a = f32x4.abs(x);
  const t = f32x4.mul(a, a);
  let s = f32x4.add(f32x4.mul(splat(-0.00609693909), t), splat(0.0209973548));
  s = f32x4.add(f32x4.mul(s, t), splat(-0.0538509525));
  s = f32x4.add(f32x4.mul(s, t), splat(0.133327708));
  s = f32x4.add(f32x4.mul(s, t), splat(-0.333333284));
  const small = f32x4.add(a, f32x4.mul(a, f32x4.mul(t, s)));
  const e = expV(f32x4.mul(splat(-2), a));
  const big = f32x4.div(f32x4.sub(splat(1), e), f32x4.add(splat(1), e));
  return withSignOf(x, v128.bitselect(small, big, f32x4.lt(a, splat(0.625))));
}

/** Natural log, lane by lane (musl's logf via Mathf: no vector form is worth its code here). */
@inline export function logV(x: v128): v128 {
  let v = f32x4.replace_lane(x, 0, Mathf.log(f32x4.extract_lane(x, 0)));
  v = f32x4.replace_lane(v, 1, Mathf.log(f32x4.extract_lane(x, 1)));
  v = f32x4.replace_lane(v, 2, Mathf.log(f32x4.extract_lane(x, 2)));
  return f32x4.replace_lane(v, 3, Mathf.log(f32x4.extract_lane(x, 3)));
}
