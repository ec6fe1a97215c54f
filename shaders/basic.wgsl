// Elementwise kernels. Each entry point reads its own params struct at binding 0.
// Invocation index i = gid.x + gid.y · (num_workgroups.x · 256): dispatches are folded
// into 2-D when one dimension would exceed the workgroup-count limit.

// ── fill: out[i] = value (bit pattern, so f32 and i32 alike) ───────────────────────
struct FillParams { n: u32, value: u32 }
@group(0) @binding(0) var<uniform> fill_p: FillParams;
@group(0) @binding(1) var<storage, read_write> fill_out: array<u32>;

@compute @workgroup_size(256)
fn fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < fill_p.n) { fill_out[i] = fill_p.value; }
}
