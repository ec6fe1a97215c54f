// Optimizer kernels: global-norm gradient clipping and AdamW.
//
// sum_squares and adamw serve several tensors per dispatch, each bound on its own (7 gradients,
// or 2 parameters with their gradients), so a model of many small tensors costs a few dispatches
// instead of two per tensor; the slot counts keep a dispatch within WebGPU's default limit of 8
// storage buffers. A table in the uniforms gives each tensor's first workgroup, and a workgroup
// finds its tensor there. Unused slots are bound to stand-ins that are never touched.
//
// sum_squares runs one workgroup per chunk of a tensor (the cut is fixed by n, see
// src/backend/kernels.ts) and clip_scale one workgroup: thread t accumulates elements t,
// t+256, … in order, then the 256 partials meet in a fixed binary tree. No atomics and no
// scratch, so the result is bit-identical run to run, however the tensors are grouped.
requires unrestricted_pointer_parameters;

const WG: u32 = 256u;

var<workgroup> tree: array<f32, WG>;

/// Σ_t v_t in a fixed tree order; the total lands in tree[0].
fn tree_sum(t: u32, v: f32) {
  tree[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (t < s) { tree[t] = tree[t] + tree[t + s]; }
    workgroupBarrier();
  }
}

// ── sum_squares: out[slot_j + w] = Σ x_j[i]² over chunk w = [w·chunk_j, min(n_j, (w+1)·chunk_j)) ──
const SS_SLOTS: u32 = 7u;
struct SumSquaresParams {
  count: u32,
  parts: array<vec4u, SS_SLOTS>, // per tensor: n, slot, chunk, first workgroup
}
@group(0) @binding(0) var<uniform> ss_p: SumSquaresParams;
@group(0) @binding(1) var<storage, read_write> ss_out: array<f32>;
@group(0) @binding(2) var<storage, read> ss_x0: array<f32>;
@group(0) @binding(3) var<storage, read> ss_x1: array<f32>;
@group(0) @binding(4) var<storage, read> ss_x2: array<f32>;
@group(0) @binding(5) var<storage, read> ss_x3: array<f32>;
@group(0) @binding(6) var<storage, read> ss_x4: array<f32>;
@group(0) @binding(7) var<storage, read> ss_x5: array<f32>;
@group(0) @binding(8) var<storage, read> ss_x6: array<f32>;

/// Thread t's share of Σ x[i]² over [start, end). Four independent accumulators keep four loads
/// in flight; they are added in a fixed order, so the result stays deterministic.
fn chunk_sum_squares(x: ptr<storage, array<f32>, read>, start: u32, end: u32, t: u32) -> f32 {
  var a = vec4f(0.0);
  var i = start + t;
  for (; i + 3u * WG < end; i += 4u * WG) {
    let v = vec4f(x[i], x[i + WG], x[i + 2u * WG], x[i + 3u * WG]);
    a += v * v;
  }
  for (; i < end; i += WG) {
    let v = x[i];
    a.x += v * v;
  }
  return (a.x + a.y) + (a.z + a.w);
}

@compute @workgroup_size(256)
fn sum_squares(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  var j = 0u;
  for (var k = 1u; k < SS_SLOTS; k++) {
    if (k < ss_p.count && ss_p.parts[k].w <= wid.x) { j = k; }
  }
  let e = ss_p.parts[j];
  let w = wid.x - e.w;
  let start = w * e.z;
  let end = min(e.x, start + e.z);
  var part: f32;
  switch j {
    case 0u: { part = chunk_sum_squares(&ss_x0, start, end, t); }
    case 1u: { part = chunk_sum_squares(&ss_x1, start, end, t); }
    case 2u: { part = chunk_sum_squares(&ss_x2, start, end, t); }
    case 3u: { part = chunk_sum_squares(&ss_x3, start, end, t); }
    case 4u: { part = chunk_sum_squares(&ss_x4, start, end, t); }
    case 5u: { part = chunk_sum_squares(&ss_x5, start, end, t); }
    default: { part = chunk_sum_squares(&ss_x6, start, end, t); }
  }
  tree_sum(t, part);
  if (t == 0u) { ss_out[e.y + w] = tree[0]; }
}

// ── clip_scale (torch.nn.utils.clip_grad_norm_): norm = √(Σ sumsq);
//    out[0] = min(1, max_norm / (norm + 1e-6)), or 1 when max_norm ≤ 0; out[1] = norm ──
struct ClipScaleParams { count: u32, max_norm: f32 }
@group(0) @binding(0) var<uniform> cs_p: ClipScaleParams;
@group(0) @binding(1) var<storage, read> cs_sumsq: array<f32>;
@group(0) @binding(2) var<storage, read_write> cs_out: array<f32>;

@compute @workgroup_size(256)
fn clip_scale(@builtin(local_invocation_index) t: u32) {
  var part = 0.0;
  for (var i = t; i < cs_p.count; i += WG) { part += cs_sumsq[i]; }
  tree_sum(t, part);
  if (t == 0u) {
    let norm = sqrt(tree[0]);
    var scale = 1.0;
    if (cs_p.max_norm > 0.0) { scale = min(1.0, cs_p.max_norm / (norm + 1e-6)); }
    cs_out[0] = scale;
    cs_out[1] = norm;
  }
}

// ── adamw (torch.optim.AdamW, _single_tensor_adam with decoupled weight decay):
//    g = grad·scale[0]
//    p ← p·(1 − lr·wd)
//    m ← lerp(m, g, 1 − β1)          (torch's lerp: two forms, picked by |weight| < 0.5)
//    v ← v·β2 + (1 − β2)·g·g
//    p ← p − (lr / (1 − β1^t))·(m / (√v / √(1 − β2^t) + eps))
//    Scalars derived from lr, β, t are computed on the host in f64, as torch does. ────────
const AW_SLOTS: u32 = 2u;
struct AdamWParams {
  decay: f32,     // 1 − lr·wd
  w1: f32,        // 1 − β1 (lerp weight)
  beta2: f32,
  w2: f32,        // 1 − β2
  step_size: f32, // lr / (1 − β1^t)
  bc2_sqrt: f32,  // √(1 − β2^t)
  eps: f32,
  count: u32,
  tensors: array<vec4u, AW_SLOTS>, // per tensor: n, first moment element, first workgroup, unused
}
@group(0) @binding(0) var<uniform> aw_p: AdamWParams;
@group(0) @binding(1) var<storage, read> aw_scale: array<f32>;
@group(0) @binding(2) var<storage, read_write> aw_m: array<f32>;
@group(0) @binding(3) var<storage, read_write> aw_v: array<f32>;
@group(0) @binding(4) var<storage, read_write> aw_param0: array<f32>;
@group(0) @binding(5) var<storage, read> aw_grad0: array<f32>;
@group(0) @binding(6) var<storage, read_write> aw_param1: array<f32>;
@group(0) @binding(7) var<storage, read> aw_grad1: array<f32>;

fn torch_lerp(a: f32, b: f32, w: f32) -> f32 {
  if (abs(w) < 0.5) { return a + w * (b - a); }
  return b - (b - a) * (1.0 - w);
}

/// One element's update: param[i], with its moments at m[at], v[at].
fn adamw_update(param: ptr<storage, array<f32>, read_write>, grad: ptr<storage, array<f32>, read>, i: u32, at: u32) {
  let g = grad[i] * aw_scale[0];
  let p = param[i] * aw_p.decay;
  let m = torch_lerp(aw_m[at], g, aw_p.w1);
  let v = aw_v[at] * aw_p.beta2 + aw_p.w2 * g * g;
  let denom = sqrt(v) / aw_p.bc2_sqrt + aw_p.eps;
  param[i] = p - aw_p.step_size * (m / denom);
  aw_m[at] = m;
  aw_v[at] = v;
}

@compute @workgroup_size(256)
fn adamw(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let w = wid.x + wid.y * nwg.x;
  var j = 0u;
  if (aw_p.count > 1u && aw_p.tensors[1].z <= w) { j = 1u; }
  let e = aw_p.tensors[j];
  let i = (w - e.z) * WG + t;
  if (i >= e.x) { return; }
  if (j == 0u) { adamw_update(&aw_param0, &aw_grad0, i, e.y + i); } else { adamw_update(&aw_param1, &aw_grad1, i, e.y + i); }
}
