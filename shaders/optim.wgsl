// Optimizer kernels: global-norm gradient clipping and AdamW.
//
// sum_squares runs one workgroup per chunk of its input (the cut is fixed by n, see
// src/backend/kernels.ts) and clip_scale one workgroup: thread t accumulates elements t,
// t+256, … in order, then the 256 partials meet in a fixed binary tree. No atomics and no
// scratch, so the result is bit-identical run to run.

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

// ── sum_squares: out[slot + w] = Σ x[i]² over chunk w = [w·chunk, min(n, (w+1)·chunk)) ──
// Four independent accumulators keep four loads in flight per thread; they are added in a
// fixed order, so the result stays deterministic.
struct SumSquaresParams { n: u32, slot: u32, chunk: u32 }
@group(0) @binding(0) var<uniform> ss_p: SumSquaresParams;
@group(0) @binding(1) var<storage, read> ss_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> ss_out: array<f32>;

@compute @workgroup_size(256)
fn sum_squares(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let start = wid.x * ss_p.chunk;
  let end = min(ss_p.n, start + ss_p.chunk);
  var a = vec4f(0.0);
  var i = start + t;
  for (; i + 3u * WG < end; i += 4u * WG) {
    let x = vec4f(ss_x[i], ss_x[i + WG], ss_x[i + 2u * WG], ss_x[i + 3u * WG]);
    a += x * x;
  }
  for (; i < end; i += WG) {
    let x = ss_x[i];
    a.x += x * x;
  }
  tree_sum(t, (a.x + a.y) + (a.z + a.w));
  if (t == 0u) { ss_out[ss_p.slot + wid.x] = tree[0]; }
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
struct AdamWParams {
  n: u32,
  decay: f32,     // 1 − lr·wd
  w1: f32,        // 1 − β1 (lerp weight)
  beta2: f32,
  w2: f32,        // 1 − β2
  step_size: f32, // lr / (1 − β1^t)
  bc2_sqrt: f32,  // √(1 − β2^t)
  eps: f32,
}
@group(0) @binding(0) var<uniform> aw_p: AdamWParams;
@group(0) @binding(1) var<storage, read_write> aw_param: array<f32>;
@group(0) @binding(2) var<storage, read> aw_grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> aw_m: array<f32>;
@group(0) @binding(4) var<storage, read_write> aw_v: array<f32>;
@group(0) @binding(5) var<storage, read> aw_scale: array<f32>;

fn torch_lerp(a: f32, b: f32, w: f32) -> f32 {
  if (abs(w) < 0.5) { return a + w * (b - a); }
  return b - (b - a) * (1.0 - w);
}

@compute @workgroup_size(256)
fn adamw(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= aw_p.n) { return; }
  let g = aw_grad[i] * aw_scale[0];
  let p = aw_param[i] * aw_p.decay;
  let m = torch_lerp(aw_m[i], g, aw_p.w1);
  let v = aw_v[i] * aw_p.beta2 + aw_p.w2 * g * g;
  let denom = sqrt(v) / aw_p.bc2_sqrt + aw_p.eps;
  aw_param[i] = p - aw_p.step_size * (m / denom);
  aw_m[i] = m;
  aw_v[i] = v;
}
