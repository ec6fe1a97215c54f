// Elementwise kernels. Each entry point reads its own params struct at binding 0.
// Invocation index i = gid.x + gid.y · (num_workgroups.x · 256): dispatches are folded
// into 2-D when one dimension would exceed the workgroup-count limit. Ops are chosen by
// `override` constants, so each pipeline compiles only its own op. The formulas match
// assembly/kernels/basic.ts; op codes match src/backend/args/basic.ts.

// ── fill: out[i] = value (bit pattern, so f32 and i32 alike) ───────────────────────
struct FillParams { n: u32, value: u32 }
@group(0) @binding(0) var<uniform> fill_p: FillParams;
@group(0) @binding(1) var<storage, read_write> fill_out: array<u32>;

@compute @workgroup_size(256)
fn fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < fill_p.n) { fill_out[i] = fill_p.value; }
}

// ── unpack: out[i] = f32(src[i]), src packed bf16/f16 (element 2w in the low half of word w) ──
// Integer decodes written as u32 bits, so ±0, subnormals, ±inf and NaN payloads survive exactly.
override UNPACK_F16: bool;
struct UnpackParams { n: u32 }
@group(0) @binding(0) var<uniform> unpack_p: UnpackParams;
@group(0) @binding(1) var<storage, read> unpack_src: array<u32>;
@group(0) @binding(2) var<storage, read_write> unpack_out: array<u32>;

// IEEE half → f32 bits. Normal: exponent rebias 15 → 127 (+112 << 23). Inf/NaN (exponent 31):
// rebias twice so it lands on 255, payload kept. Zero/subnormal: m·2⁻²⁴, exact and normal in f32.
fn f16_bits(h: u32) -> u32 {
  let em = h & 0x7fffu;
  var r = (em << 13u) + 0x38000000u;
  r = select(r, r + 0x38000000u, em >= 0x7c00u);
  r = select(r, bitcast<u32>(f32(em) * 0x1p-24f), em < 0x400u);
  return r | ((h & 0x8000u) << 16u);
}

fn half_bits(h: u32) -> u32 {
  if (UNPACK_F16) { return f16_bits(h); }
  return h << 16u; // bf16 is the top half of an f32
}

@compute @workgroup_size(256)
fn unpack(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let w = gid.x + gid.y * nwg.x * 256u; // one packed word, two elements
  let i = 2u * w;
  if (i >= unpack_p.n) { return; }
  let word = unpack_src[w];
  unpack_out[i] = half_bits(word & 0xffffu);
  if (i + 1u < unpack_p.n) { unpack_out[i + 1u] = half_bits(word >> 16u); }
}

// ── strided views (binary, copyStrided) ─────────────────────────────────────────────
// One shape and two stride sets (with base offsets), rank ≤ 8 slots packed as vec4s (unused
// slots are 0). The host drops unit dimensions and merges contiguous runs, so RANK is
// usually 1–3; as an override it fixes the loop's trip count, which then unrolls.
override RANK: u32;
struct StridedParams {
  n: u32,
  offset0: u32,
  offset1: u32,
  shape: array<vec4u, 2>,
  strides0: array<vec4u, 2>,
  strides1: array<vec4u, 2>,
}
@group(0) @binding(0) var<uniform> strided_p: StridedParams;

// Offsets in both views of the element with row-major (contiguous) index i over shape.
fn strided_offsets(i: u32) -> vec2u {
  var rem = i;
  var off = vec2u(strided_p.offset0, strided_p.offset1);
  for (var d = RANK - 1u; d > 0u; d--) {
    let extent = strided_p.shape[d / 4u][d % 4u];
    off += (rem % extent) * vec2u(strided_p.strides0[d / 4u][d % 4u], strided_p.strides1[d / 4u][d % 4u]);
    rem /= extent;
  }
  return off + rem * vec2u(strided_p.strides0[0].x, strided_p.strides1[0].x);
}

// ── binary: out[idx] = a[idx·aStrides] op b[idx·bStrides] (stride 0 broadcasts) ──────
const OP_ADD = 0u;
const OP_SUB = 1u;
const OP_MUL = 2u;
override BINARY_OP: u32;
@group(0) @binding(1) var<storage, read> binary_a: array<f32>;
@group(0) @binding(2) var<storage, read> binary_b: array<f32>;
@group(0) @binding(3) var<storage, read_write> binary_out: array<f32>;

fn binary_op(x: f32, y: f32) -> f32 {
  switch (BINARY_OP) {
    case OP_ADD: { return x + y; }
    case OP_SUB: { return x - y; }
    case OP_MUL: { return x * y; }
    default: { return x / y; }
  }
}

@compute @workgroup_size(256)
fn binary(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= strided_p.n) { return; }
  let at = strided_offsets(i);
  binary_out[i] = binary_op(binary_a[at.x], binary_b[at.y]);
}

// ── binary4: binary over contiguous, same-shape operands (n a multiple of 4), four elements
// a thread through 16-byte loads: the common case (residual adds, gradient sums) runs near
// memory speed instead of ~1 TB/s. Same op, same bits as `binary`.
@group(0) @binding(1) var<storage, read> binary4_a: array<vec4f>;
@group(0) @binding(2) var<storage, read> binary4_b: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> binary4_out: array<vec4f>;

@compute @workgroup_size(256)
fn binary4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= strided_p.n / 4u) { return; }
  let x = binary4_a[i];
  let y = binary4_b[i];
  binary4_out[i] = vec4f(binary_op(x.x, y.x), binary_op(x.y, y.y), binary_op(x.z, y.z), binary_op(x.w, y.w));
}

// ── copyStrided: dst[dstOffset + idx·dstStrides] = src[srcOffset + idx·srcStrides], 32-bit words ──
@group(0) @binding(1) var<storage, read> copy_src: array<u32>;
@group(0) @binding(2) var<storage, read_write> copy_dst: array<u32>;

@compute @workgroup_size(256)
fn copy_strided(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= strided_p.n) { return; }
  let at = strided_offsets(i);
  copy_dst[at.y] = copy_src[at.x];
}

// ── shared math ─────────────────────────────────────────────────────────────────────
const GELU_2K = 1.5957691216057308; // 2·√(2/π): gelu_tanh = 0.5x(1 + tanh(u)) = x·σ(2u)
const GELU_C = 0.044715;
const SQRT1_2 = 0.7071067811865476;
const INV_SQRT_2PI = 0.3989422804014327;
const QUICK_GELU_A = 1.702;

// σ(x) = 1/(1 + e^−x), built from e^−|x| ≤ 1 so nothing overflows for any x.
fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  let r = 1.0 / (1.0 + e);
  return select(e * r, r, x >= 0.0);
}

// erf and tanh: WGSL has no erf and specifies tanh only as sinh/cosh, so both are evaluated
// here; coefficients and error bounds from tools/approx_coefficients.py.
// erf(x) to ~6e-8 absolute: x + x·R(x²) for |x| < 1, 1 − e^−x²·P(|x|)/Q(|x|) up to 4, then ±1.
fn erf_f32(x: f32) -> f32 {
  let a = min(abs(x), 4.0);
  let t = a * a;
  var y: f32;
  if (a < 1.0) {
    y = a + a * (0.128379166 + t * (-0.37612626 + t * (0.112835854 + t * (-0.026853811 + t * (0.00518832775 + t * (-0.000801019312 + t * 7.85385928e-5))))));
  } else {
    let p = 1.00155318 + a * (0.75634861 + a * (0.249309763 + a * -6.52861636e-5));
    let q = 1.0 + a * (1.89392722 + a * (1.36063957 + a * 0.439594358));
    y = 1.0 - exp(-t) * (p / q);
  }
  return select(y, -y, x < 0.0);
}

// tanh(x) to ~2e-7 relative: x + x·x²·S(x²) for |x| < 0.625, else (1 − e)/(1 + e) with e = e^−2|x|.
fn tanh_f32(x: f32) -> f32 {
  let a = abs(x);
  var y: f32;
  if (a < 0.625) {
    let t = a * a;
    y = a + a * (t * (-0.333333284 + t * (0.133327708 + t * (-0.0538509525 + t * (0.0209973548 + t * -0.00609693909)))));
  } else {
    let e = exp(-2.0 * a);
    y = (1.0 - e) / (1.0 + e);
  }
  return select(y, -y, x < 0.0);
}

// ── unary: out[i] = f(x[i]);  unaryGrad: gx[i] = gy[i]·f'(x[i]) ──────────────────────
//   scale αx · neg −x · exp · log · sqrt · rsqrt 1/√x · square x² · relu (x < 0 ? 0 : x) ·
//   sigmoid σ · tanh · silu x·σ(x) · gelu_tanh x·σ(2√(2/π)(x + 0.044715x³)) ·
//   gelu_erf 0.5x(1 + erf(x/√2)) · quick_gelu x·σ(1.702x)
const OP_SCALE = 0u;
const OP_NEG = 1u;
const OP_EXP = 2u;
const OP_LOG = 3u;
const OP_SQRT = 4u;
const OP_RSQRT = 5u;
const OP_SQUARE = 6u;
const OP_RELU = 7u;
const OP_SIGMOID = 8u;
const OP_TANH = 9u;
const OP_SILU = 10u;
const OP_GELU_TANH = 11u;
const OP_GELU_ERF = 12u;
override UNARY_OP: u32;
struct UnaryParams { n: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> unary_p: UnaryParams;
@group(0) @binding(1) var<storage, read> unary_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> unary_out: array<f32>;

fn unary_f(x: f32, alpha: f32) -> f32 {
  switch (UNARY_OP) {
    case OP_SCALE: { return alpha * x; }
    case OP_NEG: { return -x; }
    case OP_EXP: { return exp(x); }
    case OP_LOG: { return log(x); }
    case OP_SQRT: { return sqrt(x); }
    case OP_RSQRT: { return inverseSqrt(x); }
    case OP_SQUARE: { return x * x; }
    case OP_RELU: { return select(x, 0.0, x < 0.0); }
    case OP_SIGMOID: { return sigmoid(x); }
    case OP_TANH: { return tanh_f32(x); }
    case OP_SILU: { return x * sigmoid(x); }
    case OP_GELU_TANH: { return x * sigmoid(GELU_2K * x * (1.0 + GELU_C * x * x)); }
    case OP_GELU_ERF: { return 0.5 * x * (1.0 + erf_f32(x * SQRT1_2)); }
    default: { return x * sigmoid(QUICK_GELU_A * x); } // quick_gelu
  }
}

// relu passes gy only where x > 0 (torch's threshold_backward).
fn unary_grad_f(x: f32, gy: f32, alpha: f32) -> f32 {
  switch (UNARY_OP) {
    case OP_SCALE: { return alpha * gy; }
    case OP_NEG: { return -gy; }
    case OP_EXP: { return gy * exp(x); }
    case OP_LOG: { return gy / x; }
    case OP_SQRT: { return gy / (2.0 * sqrt(x)); }
    case OP_RSQRT: { let r = inverseSqrt(x); return -0.5 * gy * r * r * r; }
    case OP_SQUARE: { return 2.0 * x * gy; }
    case OP_RELU: { return select(0.0, gy, x > 0.0); }
    case OP_SIGMOID: { let s = sigmoid(x); return gy * s * (1.0 - s); }
    case OP_TANH: { let t = tanh_f32(x); return gy * (1.0 - t * t); }
    case OP_SILU: { let s = sigmoid(x); return gy * s * (1.0 + x * (1.0 - s)); }
    case OP_GELU_TANH: {
      let x2 = x * x;
      let s = sigmoid(GELU_2K * x * (1.0 + GELU_C * x2));
      return gy * (s + x * s * (1.0 - s) * GELU_2K * (1.0 + 3.0 * GELU_C * x2));
    }
    case OP_GELU_ERF: { return gy * (0.5 * (1.0 + erf_f32(x * SQRT1_2)) + x * INV_SQRT_2PI * exp(-0.5 * x * x)); }
    default: { // quick_gelu
      let s = sigmoid(QUICK_GELU_A * x);
      return gy * (s + QUICK_GELU_A * x * s * (1.0 - s));
    }
  }
}

@compute @workgroup_size(256)
fn unary(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < unary_p.n) { unary_out[i] = unary_f(unary_x[i], unary_p.alpha); }
}

struct UnaryGradParams { n: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> unary_grad_p: UnaryGradParams;
@group(0) @binding(1) var<storage, read> unary_grad_x: array<f32>;
@group(0) @binding(2) var<storage, read> unary_grad_gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> unary_grad_gx: array<f32>;

@compute @workgroup_size(256)
fn unary_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < unary_grad_p.n) { unary_grad_gx[i] = unary_grad_f(unary_grad_x[i], unary_grad_gy[i], unary_grad_p.alpha); }
}

// ── swiglu: out = silu(gate)·up;  swigluGrad: gGate = gy·up·σ(g)(1 + g(1 − σ(g))), gUp = gy·silu(g) ──
struct SwigluParams { n: u32 }
@group(0) @binding(0) var<uniform> swiglu_p: SwigluParams;
@group(0) @binding(1) var<storage, read> swiglu_gate: array<f32>;
@group(0) @binding(2) var<storage, read> swiglu_up: array<f32>;
@group(0) @binding(3) var<storage, read_write> swiglu_out: array<f32>;

fn silu_times(g: f32, u: f32) -> f32 {
  return g * sigmoid(g) * u;
}

/** (∂/∂gate, ∂/∂up) of silu(g)·u times dy. */
fn swiglu_grads(g: f32, u: f32, dy: f32) -> vec2f {
  let s = sigmoid(g);
  return vec2f(dy * u * s * (1.0 + g * (1.0 - s)), dy * g * s);
}

@compute @workgroup_size(256)
fn swiglu(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= swiglu_p.n) { return; }
  swiglu_out[i] = silu_times(swiglu_gate[i], swiglu_up[i]);
}

@group(0) @binding(0) var<uniform> swiglu_grad_p: SwigluParams;
@group(0) @binding(1) var<storage, read> swiglu_grad_gate: array<f32>;
@group(0) @binding(2) var<storage, read> swiglu_grad_up: array<f32>;
@group(0) @binding(3) var<storage, read> swiglu_grad_gy: array<f32>;
@group(0) @binding(4) var<storage, read_write> swiglu_grad_ggate: array<f32>;
@group(0) @binding(5) var<storage, read_write> swiglu_grad_gup: array<f32>;

@compute @workgroup_size(256)
fn swiglu_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= swiglu_grad_p.n) { return; }
  let d = swiglu_grads(swiglu_grad_gate[i], swiglu_grad_up[i], swiglu_grad_gy[i]);
  swiglu_grad_ggate[i] = d.x;
  swiglu_grad_gup[i] = d.y;
}

// ── swiglu_stacked(_grad): the same with gate and up side by side in each row of x [rows, 2·cols] ──
// Output element i = r·cols + j reads x[r·2·cols + j] (gate) and x[r·2·cols + cols + j] (up).
struct SwigluStackedParams { n: u32, cols: u32 }
@group(0) @binding(0) var<uniform> sws_p: SwigluStackedParams;
@group(0) @binding(1) var<storage, read> sws_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> sws_out: array<f32>;

fn gate_at(i: u32, cols: u32) -> u32 {
  return i + (i / cols) * cols;
}

@compute @workgroup_size(256)
fn swiglu_stacked(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= sws_p.n) { return; }
  let at = gate_at(i, sws_p.cols);
  sws_out[i] = silu_times(sws_x[at], sws_x[at + sws_p.cols]);
}

@group(0) @binding(0) var<uniform> swsg_p: SwigluStackedParams;
@group(0) @binding(1) var<storage, read> swsg_x: array<f32>;
@group(0) @binding(2) var<storage, read> swsg_gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> swsg_gx: array<f32>;

@compute @workgroup_size(256)
fn swiglu_stacked_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= swsg_p.n) { return; }
  let at = gate_at(i, swsg_p.cols);
  let d = swiglu_grads(swsg_x[at], swsg_x[at + swsg_p.cols], swsg_gy[i]);
  swsg_gx[at] = d.x;
  swsg_gx[at + swsg_p.cols] = d.y;
}

// ── reduce: out[o, i] = Σ_j x[o, j, i] (or the mean over j), x viewed as [outer, size, inner] ──
// A workgroup of 256 = REDUCE_TX outputs × (256 / REDUCE_TX) lanes. Output e = o·inner + i;
// lane ty sums j ≡ ty (mod lanes) in four interleaved partial sums (j ≡ ty + r·lanes mod 4·lanes),
// then a fixed-order tree adds the lanes.
// REDUCE_TX = 1 is one workgroup per row (row sums, inner = 1); large REDUCE_TX walks
// columns with adjacent threads on adjacent addresses (column sums).
override REDUCE_TX: u32;
override REDUCE_MEAN: bool;
struct ReduceParams { outputs: u32, size: u32, inner: u32 }
@group(0) @binding(0) var<uniform> reduce_p: ReduceParams;
@group(0) @binding(1) var<storage, read> reduce_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> reduce_out: array<f32>;
var<workgroup> reduce_part: array<f32, 256>;

@compute @workgroup_size(256)
fn reduce(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let lanes = 256u / REDUCE_TX;
  let ty = lid / REDUCE_TX;
  let e = (wid.x + wid.y * nwg.x) * REDUCE_TX + lid % REDUCE_TX;
  let live = e < reduce_p.outputs;
  // Four independent accumulators keep four loads in flight per lane (a column sum is
  // latency-bound otherwise); they are added in a fixed order.
  var acc = vec4f(0.0);
  if (live) {
    let inner = reduce_p.inner;
    let stride = lanes * inner;
    var at = ((e / inner) * reduce_p.size + ty) * inner + e % inner;
    var j = ty;
    for (; j + 3u * lanes < reduce_p.size; j += 4u * lanes) {
      acc += vec4f(reduce_x[at], reduce_x[at + stride], reduce_x[at + 2u * stride], reduce_x[at + 3u * stride]);
      at += 4u * stride;
    }
    for (; j < reduce_p.size; j += lanes) {
      acc.x += reduce_x[at];
      at += stride;
    }
  }
  reduce_part[lid] = (acc.x + acc.y) + (acc.z + acc.w);
  workgroupBarrier();
  for (var s = lanes / 2u; s > 0u; s /= 2u) {
    if (ty < s) { reduce_part[lid] += reduce_part[lid + s * REDUCE_TX]; }
    workgroupBarrier();
  }
  if (live && ty == 0u) {
    let sum = reduce_part[lid];
    reduce_out[e] = select(sum, sum / f32(reduce_p.size), REDUCE_MEAN);
  }
}
