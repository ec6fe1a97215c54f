// Row-wise kernels over x [rows, cols]: softmax / log-softmax (+ grads), RMSNorm and
// LayerNorm (+ grads), cross-entropy over a vocabulary (+ grad).
//
// One workgroup of 256 threads per row (row = wid.x + wid.y · num_workgroups.x, folded
// into 2-D past the workgroup-count limit). Thread t visits columns t, t+256, …; the 256
// partials are combined by a fixed binary tree in workgroup memory. No atomics: every
// result is bit-identical run to run.
//
// Log-sum-exp is computed online in one read of the row: each thread keeps (m, s) with
// s = Σ exp(x − m) over the columns it has seen, rescaling s when a larger x arrives;
// pairs merge as m = max(m1, m2), s = s1·exp(m1 − m) + s2·exp(m2 − m). m starts at the
// lowest finite f32 (not −∞), so −∞ entries (masks) contribute exp(−∞) = 0, never NaN.

const WG: u32 = 256u;
const F32_LOWEST: f32 = -0x1.fffffep+127f; // −FLT_MAX

var<workgroup> tree: array<f32, WG>;
var<workgroup> tree2: array<vec2f, WG>;

fn row_of(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + wid.y * nwg.x;
}

/// Σ_t v_t over the workgroup in a fixed tree order; every thread gets the total.
fn tree_sum(t: u32, v: f32) -> f32 {
  tree[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (t < s) { tree[t] = tree[t] + tree[t + s]; }
    workgroupBarrier();
  }
  let total = tree[0];
  workgroupBarrier(); // the next reduction overwrites tree
  return total;
}

/// Two sums at once (componentwise), same tree order.
fn tree_sum2(t: u32, v: vec2f) -> vec2f {
  tree2[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (t < s) { tree2[t] = tree2[t] + tree2[t + s]; }
    workgroupBarrier();
  }
  let total = tree2[0];
  workgroupBarrier();
  return total;
}

/// Adds x to a running (m, s) log-sum-exp state.
fn lse_push(acc: vec2f, x: f32) -> vec2f {
  if (x > acc.x) { return vec2f(x, acc.y * exp(acc.x - x) + 1.0); }
  return vec2f(acc.x, acc.y + exp(x - acc.x));
}

fn lse_merge(a: vec2f, b: vec2f) -> vec2f {
  let m = max(a.x, b.x);
  return vec2f(m, a.y * exp(a.x - m) + b.y * exp(b.x - m));
}

/// Merges every thread's (m, s) in a fixed tree order; every thread gets the row's (m, s).
fn tree_lse(t: u32, v: vec2f) -> vec2f {
  tree2[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (t < s) { tree2[t] = lse_merge(tree2[t], tree2[t + s]); }
    workgroupBarrier();
  }
  let total = tree2[0];
  workgroupBarrier();
  return total;
}

// ── softmax: y = exp(x − m) / s;  log-softmax: y = (x − m) − log(s) ────────────────
struct SoftmaxParams { rows: u32, cols: u32, is_log: u32 }
@group(0) @binding(0) var<uniform> sm_p: SoftmaxParams;
@group(0) @binding(1) var<storage, read> sm_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> sm_y: array<f32>;

@compute @workgroup_size(256)
fn softmax(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let row = row_of(wid, nwg);
  if (row >= sm_p.rows) { return; }
  let base = row * sm_p.cols;
  var acc = vec2f(F32_LOWEST, 0.0);
  for (var c = t; c < sm_p.cols; c += WG) { acc = lse_push(acc, sm_x[base + c]); }
  let ms = tree_lse(t, acc);
  if (sm_p.is_log != 0u) {
    let log_s = log(ms.y);
    for (var c = t; c < sm_p.cols; c += WG) { sm_y[base + c] = (sm_x[base + c] - ms.x) - log_s; }
  } else {
    for (var c = t; c < sm_p.cols; c += WG) { sm_y[base + c] = exp(sm_x[base + c] - ms.x) / ms.y; }
  }
}

// ── softmax grad: gx = y ⊙ (gy − Σ gy⊙y);  log-softmax grad: gx = gy − exp(y)·Σ gy ──
struct SoftmaxGradParams { rows: u32, cols: u32, is_log: u32 }
@group(0) @binding(0) var<uniform> smg_p: SoftmaxGradParams;
@group(0) @binding(1) var<storage, read> smg_y: array<f32>;
@group(0) @binding(2) var<storage, read> smg_gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> smg_gx: array<f32>;

@compute @workgroup_size(256)
fn softmax_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let row = row_of(wid, nwg);
  if (row >= smg_p.rows) { return; }
  let base = row * smg_p.cols;
  let is_log = smg_p.is_log != 0u;
  var part = 0.0;
  for (var c = t; c < smg_p.cols; c += WG) {
    let gy = smg_gy[base + c];
    part += select(gy * smg_y[base + c], gy, is_log);
  }
  let d = tree_sum(t, part);
  for (var c = t; c < smg_p.cols; c += WG) {
    let y = smg_y[base + c];
    let gy = smg_gy[base + c];
    smg_gx[base + c] = select(y * (gy - d), gy - exp(y) * d, is_log);
  }
}

// ── RMSNorm: rstd = 1/√(Σx²/cols + eps);  y = (x·rstd)·w  (HF Qwen2RMSNorm order) ───
struct RmsNormParams { rows: u32, cols: u32, eps: f32 }
@group(0) @binding(0) var<uniform> rn_p: RmsNormParams;
@group(0) @binding(1) var<storage, read> rn_x: array<f32>;
@group(0) @binding(2) var<storage, read> rn_w: array<f32>;
@group(0) @binding(3) var<storage, read_write> rn_y: array<f32>;
@group(0) @binding(4) var<storage, read_write> rn_rstd: array<f32>;

@compute @workgroup_size(256)
fn rms_norm(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let row = row_of(wid, nwg);
  if (row >= rn_p.rows) { return; }
  let base = row * rn_p.cols;
  var part = 0.0;
  for (var c = t; c < rn_p.cols; c += WG) {
    let x = rn_x[base + c];
    part += x * x;
  }
  let rstd = 1.0 / sqrt(tree_sum(t, part) / f32(rn_p.cols) + rn_p.eps);
  for (var c = t; c < rn_p.cols; c += WG) { rn_y[base + c] = (rn_x[base + c] * rstd) * rn_w[c]; }
  if (t == 0u) { rn_rstd[row] = rstd; }
}

// ── RMSNorm grad: x̂ = x·rstd;  gx = rstd·(w⊙gy − x̂·mean(x̂⊙w⊙gy));  gwRows = gy⊙x̂ ──
struct RmsNormGradParams { rows: u32, cols: u32 }
@group(0) @binding(0) var<uniform> rng_p: RmsNormGradParams;
@group(0) @binding(1) var<storage, read> rng_x: array<f32>;
@group(0) @binding(2) var<storage, read> rng_w: array<f32>;
@group(0) @binding(3) var<storage, read> rng_rstd: array<f32>;
@group(0) @binding(4) var<storage, read> rng_gy: array<f32>;
@group(0) @binding(5) var<storage, read_write> rng_gx: array<f32>;
@group(0) @binding(6) var<storage, read_write> rng_gw: array<f32>;

@compute @workgroup_size(256)
fn rms_norm_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let row = row_of(wid, nwg);
  if (row >= rng_p.rows) { return; }
  let base = row * rng_p.cols;
  let rstd = rng_rstd[row];
  var part = 0.0;
  for (var c = t; c < rng_p.cols; c += WG) {
    part += (rng_x[base + c] * rstd) * rng_w[c] * rng_gy[base + c];
  }
  let mean_d = tree_sum(t, part) / f32(rng_p.cols);
  for (var c = t; c < rng_p.cols; c += WG) {
    let xh = rng_x[base + c] * rstd;
    let gy = rng_gy[base + c];
    rng_gx[base + c] = rstd * (rng_w[c] * gy - xh * mean_d);
    rng_gw[base + c] = gy * xh;
  }
}

// ── LayerNorm: μ = Σx/cols, σ² = Σ(x−μ)²/cols (two passes), rstd = 1/√(σ² + eps);
//    y = (x − μ)·rstd·w + b ──────────────────────────────────────────────────────────
struct LayerNormParams { rows: u32, cols: u32, eps: f32 }
@group(0) @binding(0) var<uniform> ln_p: LayerNormParams;
@group(0) @binding(1) var<storage, read> ln_x: array<f32>;
@group(0) @binding(2) var<storage, read> ln_w: array<f32>;
@group(0) @binding(3) var<storage, read> ln_b: array<f32>;
@group(0) @binding(4) var<storage, read_write> ln_y: array<f32>;
@group(0) @binding(5) var<storage, read_write> ln_mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> ln_rstd: array<f32>;

@compute @workgroup_size(256)
fn layer_norm(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let row = row_of(wid, nwg);
  if (row >= ln_p.rows) { return; }
  let base = row * ln_p.cols;
  let n = f32(ln_p.cols);
  var part = 0.0;
  for (var c = t; c < ln_p.cols; c += WG) { part += ln_x[base + c]; }
  let mean = tree_sum(t, part) / n;
  part = 0.0;
  for (var c = t; c < ln_p.cols; c += WG) {
    let d = ln_x[base + c] - mean;
    part += d * d;
  }
  let rstd = 1.0 / sqrt(tree_sum(t, part) / n + ln_p.eps);
  for (var c = t; c < ln_p.cols; c += WG) { ln_y[base + c] = (ln_x[base + c] - mean) * rstd * ln_w[c] + ln_b[c]; }
  if (t == 0u) {
    ln_mean[row] = mean;
    ln_rstd[row] = rstd;
  }
}

// ── LayerNorm grad: x̂ = (x − μ)·rstd, ĝ = w⊙gy;
//    gx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ⊙x̂));  gwRows = gy⊙x̂ ──────────────────────────
struct LayerNormGradParams { rows: u32, cols: u32 }
@group(0) @binding(0) var<uniform> lng_p: LayerNormGradParams;
@group(0) @binding(1) var<storage, read> lng_x: array<f32>;
@group(0) @binding(2) var<storage, read> lng_w: array<f32>;
@group(0) @binding(3) var<storage, read> lng_mean: array<f32>;
@group(0) @binding(4) var<storage, read> lng_rstd: array<f32>;
@group(0) @binding(5) var<storage, read> lng_gy: array<f32>;
@group(0) @binding(6) var<storage, read_write> lng_gx: array<f32>;
@group(0) @binding(7) var<storage, read_write> lng_gw: array<f32>;

@compute @workgroup_size(256)
fn layer_norm_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let row = row_of(wid, nwg);
  if (row >= lng_p.rows) { return; }
  let base = row * lng_p.cols;
  let mean = lng_mean[row];
  let rstd = lng_rstd[row];
  var part = vec2f(0.0);
  for (var c = t; c < lng_p.cols; c += WG) {
    let g = lng_w[c] * lng_gy[base + c];
    part += vec2f(g, g * ((lng_x[base + c] - mean) * rstd));
  }
  let means = tree_sum2(t, part) / f32(lng_p.cols);
  for (var c = t; c < lng_p.cols; c += WG) {
    let xh = (lng_x[base + c] - mean) * rstd;
    let gy = lng_gy[base + c];
    lng_gx[base + c] = rstd * (lng_w[c] * gy - means.x - xh * means.y);
    lng_gw[base + c] = gy * xh;
  }
}

// ── cross-entropy: lse = m + log(s) over the vocabulary (online, one read);
//    loss = lse − logits[label]; label = ignore_index → 0; any other label outside
//    [0, vocab) → NaN (the host passes NaN's bits: a NaN constant is not valid WGSL) ──
struct CrossEntropyParams { rows: u32, vocab: u32, ignore_index: i32, nan_bits: u32 }
@group(0) @binding(0) var<uniform> ce_p: CrossEntropyParams;
@group(0) @binding(1) var<storage, read> ce_logits: array<f32>;
@group(0) @binding(2) var<storage, read> ce_labels: array<i32>;
@group(0) @binding(3) var<storage, read_write> ce_loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> ce_lse: array<f32>;

@compute @workgroup_size(256)
fn cross_entropy(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let row = row_of(wid, nwg);
  if (row >= ce_p.rows) { return; }
  let base = row * ce_p.vocab;
  var acc = vec2f(F32_LOWEST, 0.0);
  for (var c = t; c < ce_p.vocab; c += WG) { acc = lse_push(acc, ce_logits[base + c]); }
  let ms = tree_lse(t, acc);
  if (t == 0u) {
    let lse = ms.x + log(ms.y);
    let label = ce_labels[row];
    var loss = 0.0;
    if (label != ce_p.ignore_index) {
      if (u32(label) < ce_p.vocab) {
        loss = lse - ce_logits[base + u32(label)];
      } else {
        loss = bitcast<f32>(ce_p.nan_bits);
      }
    }
    ce_loss[row] = loss;
    ce_lse[row] = lse;
  }
}

// ── cross-entropy grad: gx[r, c] = gLoss[r]·(exp(logits[r, c] − lse[r]) − [c = label]);
//    ignored rows get 0. Elementwise (no reduction): one thread per logit ─────────────
struct CrossEntropyGradParams { rows: u32, vocab: u32, ignore_index: i32 }
@group(0) @binding(0) var<uniform> ceg_p: CrossEntropyGradParams;
@group(0) @binding(1) var<storage, read> ceg_logits: array<f32>;
@group(0) @binding(2) var<storage, read> ceg_labels: array<i32>;
@group(0) @binding(3) var<storage, read> ceg_lse: array<f32>;
@group(0) @binding(4) var<storage, read> ceg_gloss: array<f32>;
@group(0) @binding(5) var<storage, read_write> ceg_gx: array<f32>;

@compute @workgroup_size(256)
fn cross_entropy_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= ceg_p.rows * ceg_p.vocab) { return; }
  let row = i / ceg_p.vocab;
  let c = i - row * ceg_p.vocab;
  let label = ceg_labels[row];
  var g = 0.0;
  if (label != ceg_p.ignore_index) {
    let onehot = select(0.0, 1.0, i32(c) == label);
    g = ceg_gloss[row] * (exp(ceg_logits[i] - ceg_lse[row]) - onehot);
  }
  ceg_gx[i] = g;
}
