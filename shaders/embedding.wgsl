// Embedding lookup and its deterministic backward.
//
// gather_rows:      out[i, c] = table[idx[i], c]; the table is f32 or packed 16-bit
//                   floats (element e in half e & 1 of u32 e >> 1, low half first):
//                   bf16 → f32 is bits << 16, f16 via unpack2x16float. One thread per
//                   output element; i = gid.x + gid.y · num_workgroups.x · 256.
// scatter_add_rows: out[rows[u], c] += Σ_{j=offsets[u]}^{offsets[u+1]−1} g[order[j], c],
//                   summed in j order. One workgroup owns each unique row u, so no two
//                   threads ever write the same element: no atomics, fixed order.

const WG: u32 = 256u;

// ── gather_rows ──────────────────────────────────────────────────────────────────
override TABLE_DTYPE: u32 = 0u; // 0 = f32, 1 = bf16, 2 = f16

struct GatherParams { n_idx: u32, cols: u32 }
@group(0) @binding(0) var<uniform> ga_p: GatherParams;
@group(0) @binding(1) var<storage, read> ga_table: array<u32>;
@group(0) @binding(2) var<storage, read> ga_idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> ga_out: array<f32>;

fn table_at(e: u32) -> f32 {
  if (TABLE_DTYPE == 0u) { return bitcast<f32>(ga_table[e]); }
  let word = ga_table[e >> 1u];
  let half = (e & 1u) * 16u;
  if (TABLE_DTYPE == 1u) { return bitcast<f32>(((word >> half) & 0xffffu) << 16u); }
  return unpack2x16float(word)[e & 1u];
}

@compute @workgroup_size(256)
fn gather_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= ga_p.n_idx * ga_p.cols) { return; }
  let r = i / ga_p.cols;
  let c = i - r * ga_p.cols;
  ga_out[i] = table_at(u32(ga_idx[r]) * ga_p.cols + c);
}

// ── scatter_add_rows ─────────────────────────────────────────────────────────────
struct ScatterParams { n_unique: u32, cols: u32 }
@group(0) @binding(0) var<uniform> sc_p: ScatterParams;
@group(0) @binding(1) var<storage, read> sc_g: array<f32>;
@group(0) @binding(2) var<storage, read> sc_rows: array<i32>;
@group(0) @binding(3) var<storage, read> sc_offsets: array<i32>;
@group(0) @binding(4) var<storage, read> sc_order: array<i32>;
@group(0) @binding(5) var<storage, read_write> sc_out: array<f32>;

@compute @workgroup_size(256)
fn scatter_add_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let u = wid.x + wid.y * nwg.x;
  if (u >= sc_p.n_unique) { return; }
  let dst = u32(sc_rows[u]) * sc_p.cols;
  let first = sc_offsets[u];
  let last = sc_offsets[u + 1u];
  for (var c = t; c < sc_p.cols; c += WG) {
    var s = 0.0;
    for (var j = first; j < last; j++) { s += sc_g[u32(sc_order[j]) * sc_p.cols + c]; }
    sc_out[dst + c] += s;
  }
}
