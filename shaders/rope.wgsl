// Rotary position embedding, rotate-half form (src/backend/kernels.ts, RopeArgs):
//   out = x·cos + rotate_half(x)·sin,  rotate_half(x) = [−x₂, x₁] for the halves of the head dim,
// on x [T, H, D] with per-token tables cos/sin [T, D]; `inverse` negates sin (the backward).
// One thread per (token, head, i < D/2) rotates the pair (i, i + D/2).

struct RopeParams { t: u32, h: u32, d: u32, sign: f32 }
@group(0) @binding(0) var<uniform> rp: RopeParams;
@group(0) @binding(1) var<storage, read> rp_x: array<f32>;
@group(0) @binding(2) var<storage, read> rp_cos: array<f32>;
@group(0) @binding(3) var<storage, read> rp_sin: array<f32>;
@group(0) @binding(4) var<storage, read_write> rp_out: array<f32>;

@compute @workgroup_size(256)
fn rope(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * 256u;
  let half = rp.d / 2u;
  if (idx >= rp.t * rp.h * half) { return; }
  let i = idx % half;
  let row = idx / half;            // token · H + head
  let tok = row / rp.h;
  let x1 = rp_x[row * rp.d + i];
  let x2 = rp_x[row * rp.d + half + i];
  let c1 = rp_cos[tok * rp.d + i];
  let c2 = rp_cos[tok * rp.d + half + i];
  let s1 = rp.sign * rp_sin[tok * rp.d + i];
  let s2 = rp.sign * rp_sin[tok * rp.d + half + i];
  rp_out[row * rp.d + i] = x1 * c1 - x2 * s1;
  rp_out[row * rp.d + half + i] = x2 * c2 + x1 * s2;
}
