// Batched matrix product  out[b] = op(A[b]) · op(B[b]):
//
//   out[b, i, j] = Σ_{kk = 0}^{k−1} opA[b, i, kk] · opB[b, kk, j]
//
// op(A) is A (m×k, row-major) or, with TRANS_A, Aᵀ of an A stored k×m; likewise op(B)
// is B (k×n) or Bᵀ of a B stored n×k (TRANS_B). Batch b is workgroup z; matrix b starts
// at element b·stride (stride 0 broadcasts one matrix). B is read as u32 words: f32 bits
// (B_DTYPE 0), or two bf16 (1) / f16 (2) values per word, element 2e in the low half.
//
// Every output is one fma chain over kk in increasing order (the `tiled` kernel), or a
// fixed-order sum of fixed k-slices (`skinny`): results never depend on scheduling.

struct Params {
  m: u32,
  n: u32,
  k: u32,
  stride_a: u32,
  stride_b: u32,
  stride_out: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override B_DTYPE: u32 = 0u;

/// Element e of B as f32.
fn b_elem(e: u32) -> f32 {
  if (B_DTYPE == 0u) { return bitcast<f32>(b[e]); }
  let w = b[e >> 1u];
  let high = (e & 1u) == 1u;
  if (B_DTYPE == 1u) { return bitcast<f32>(select(w << 16u, w & 0xffff0000u, high)); }
  let pair = unpack2x16float(w);
  return select(pair.x, pair.y, high);
}

/// opA[row, kk] of the matrix starting at element `base`; 0 outside m×k.
fn load_a(base: u32, row: u32, kk: u32) -> f32 {
  if (row >= p.m || kk >= p.k) { return 0.0; }
  if (TRANS_A) { return a[base + kk * p.m + row]; }
  return a[base + row * p.k + kk];
}

/// opB[kk, col] of the matrix starting at element `base`; 0 outside k×n.
fn load_b(base: u32, kk: u32, col: u32) -> f32 {
  if (kk >= p.k || col >= p.n) { return 0.0; }
  if (TRANS_B) { return b_elem(base + col * p.k + kk); }
  return b_elem(base + kk * p.n + col);
}

// ── tiled: one workgroup of T×T threads computes an 8T×8T output tile ─────────────────
// K advances in tiles of T, staged k-major in workgroup memory (tile_a[buf][kk][row quad],
// tile_b[buf][kk][col quad]) and double-buffered: the next K-tile is fetched into
// registers while the current one is multiplied, so there is one barrier per K-tile.
// Thread (tx, ty) owns rows {4ty+r, 4T+4ty+r} × cols {4tx+c, 4T+4tx+c}, r, c < 4: its
// shared-memory reads are whole quads (two of A, two of B per kk, for 64 fma).
// Global loads: each thread fetches 2 quads of A and 2 of B per K-tile, a quad being 4
// elements along m (or n) at one kk; tiles inside the matrices skip the bounds checks.
// The staging arrays are sized for T = 16 and indexed [buf][kk][quad], so that once the
// kk loop is unrolled every index clamp (WebGPU's robustness) is constant or loop-invariant.

override T: u32 = 16u; // 8 or 16
const T_MAX: u32 = 16u;

var<workgroup> tile_a: array<array<array<vec4f, 2u * T_MAX>, T_MAX>, 2>;
var<workgroup> tile_b: array<array<array<vec4f, 2u * T_MAX>, T_MAX>, 2>;

/// Position (kq, q) within the K-tile of this thread's chunk h ∈ {0, 1}: kk = kq and
/// quad q along m (or n). For an operand contiguous along m (n), consecutive threads
/// take consecutive quads. For one contiguous along k, each warp takes 8 kk × 4 quads:
/// global reads stay within 32-byte runs of a row, and each quarter-warp's stores hit
/// 2 k-rows × 4 quads (a 2-way bank conflict instead of 8-way).
fn chunk(lid: u32, h: u32, k_contiguous: bool) -> vec2u {
  if (!k_contiguous) {
    let c = lid + h * T * T;
    return vec2u(c / (2u * T), c % (2u * T));
  }
  let lane = lid % 32u;
  let g = lid / 32u + h * (T * T / 32u);
  let kq = (lane & 1u) + 2u * ((lane >> 3u) & 3u) + 8u * (g % (T / 8u));
  let q = ((lane >> 1u) & 3u) + 4u * (g / (T / 8u));
  return vec2u(kq, q);
}

/// opA[row..row+3, kk]; `checked` zero-fills outside m×k (edge tiles).
fn a_quad(base: u32, row: u32, kk: u32, checked: bool) -> vec4f {
  if (checked) {
    return vec4f(load_a(base, row, kk), load_a(base, row + 1u, kk), load_a(base, row + 2u, kk), load_a(base, row + 3u, kk));
  }
  if (TRANS_A) {
    let e = base + kk * p.m + row;
    return vec4f(a[e], a[e + 1u], a[e + 2u], a[e + 3u]);
  }
  let e = base + row * p.k + kk;
  return vec4f(a[e], a[e + p.k], a[e + 2u * p.k], a[e + 3u * p.k]);
}

/// opB[kk, col..col+3]; `checked` zero-fills outside k×n (edge tiles).
fn b_quad(base: u32, kk: u32, col: u32, checked: bool) -> vec4f {
  if (checked) {
    return vec4f(load_b(base, kk, col), load_b(base, kk, col + 1u), load_b(base, kk, col + 2u), load_b(base, kk, col + 3u));
  }
  if (TRANS_B) {
    let e = base + col * p.k + kk;
    return vec4f(b_elem(e), b_elem(e + p.k), b_elem(e + 2u * p.k), b_elem(e + 3u * p.k));
  }
  let e = base + kk * p.n + col;
  return vec4f(b_elem(e), b_elem(e + 1u), b_elem(e + 2u), b_elem(e + 3u));
}

/// Writes the in-bounds part of out[row, col..col+3].
fn store_quad(base: u32, row: u32, col: u32, v: vec4f) {
  if (row >= p.m) { return; }
  let at = base + row * p.n + col;
  if (col < p.n) { out[at] = v.x; }
  if (col + 1u < p.n) { out[at + 1u] = v.y; }
  if (col + 2u < p.n) { out[at + 2u] = v.z; }
  if (col + 3u < p.n) { out[at + 3u] = v.w; }
}

@compute @workgroup_size(T * T)
fn tiled(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let tx = lid % T;
  let ty = lid / T;
  let row0 = wid.y * 8u * T;
  let col0 = wid.x * 8u * T;
  let base_a = wid.z * p.stride_a;
  let base_b = wid.z * p.stride_b;
  let tiles = (p.k + T - 1u) / T;
  // Edge tiles (in m or n, or the last K-tile when T ∤ k) need bounds checks.
  let a_inside = row0 + 8u * T <= p.m;
  let b_inside = col0 + 8u * T <= p.n;

  // This thread's two chunks of each operand: (kq, q) within the K-tile.
  let ca0 = chunk(lid, 0u, !TRANS_A);
  let ca1 = chunk(lid, 1u, !TRANS_A);
  let cb0 = chunk(lid, 0u, TRANS_B);
  let cb1 = chunk(lid, 1u, TRANS_B);

  let full_k0 = T <= p.k;
  var ra0 = a_quad(base_a, row0 + 4u * ca0.y, ca0.x, !(a_inside && full_k0));
  var ra1 = a_quad(base_a, row0 + 4u * ca1.y, ca1.x, !(a_inside && full_k0));
  var rb0 = b_quad(base_b, cb0.x, col0 + 4u * cb0.y, !(b_inside && full_k0));
  var rb1 = b_quad(base_b, cb1.x, col0 + 4u * cb1.y, !(b_inside && full_k0));
  tile_a[0][ca0.x][ca0.y] = ra0;
  tile_a[0][ca1.x][ca1.y] = ra1;
  tile_b[0][cb0.x][cb0.y] = rb0;
  tile_b[0][cb1.x][cb1.y] = rb1;
  workgroupBarrier();

  // acc{r}{h}: row 4ty+r (r < 4) or 4T+4ty+r−4 (r ≥ 4), cols 4tx.. (h = 0) or 4T+4tx.. (h = 1).
  var acc00 = vec4f(0.0); var acc01 = vec4f(0.0);
  var acc10 = vec4f(0.0); var acc11 = vec4f(0.0);
  var acc20 = vec4f(0.0); var acc21 = vec4f(0.0);
  var acc30 = vec4f(0.0); var acc31 = vec4f(0.0);
  var acc40 = vec4f(0.0); var acc41 = vec4f(0.0);
  var acc50 = vec4f(0.0); var acc51 = vec4f(0.0);
  var acc60 = vec4f(0.0); var acc61 = vec4f(0.0);
  var acc70 = vec4f(0.0); var acc71 = vec4f(0.0);

  for (var t = 0u; t < tiles; t++) {
    let cur = t & 1u;
    let has_next = t + 1u < tiles;
    if (has_next) {
      let k0 = (t + 1u) * T;
      let full_k = k0 + T <= p.k;
      ra0 = a_quad(base_a, row0 + 4u * ca0.y, k0 + ca0.x, !(a_inside && full_k));
      ra1 = a_quad(base_a, row0 + 4u * ca1.y, k0 + ca1.x, !(a_inside && full_k));
      rb0 = b_quad(base_b, k0 + cb0.x, col0 + 4u * cb0.y, !(b_inside && full_k));
      rb1 = b_quad(base_b, k0 + cb1.x, col0 + 4u * cb1.y, !(b_inside && full_k));
    }
    for (var kk = 0u; kk < T; kk++) {
      let a0 = tile_a[cur][kk][ty];
      let a1 = tile_a[cur][kk][T + ty];
      let b0 = tile_b[cur][kk][tx];
      let b1 = tile_b[cur][kk][T + tx];
      acc00 = fma(vec4f(a0.x), b0, acc00); acc01 = fma(vec4f(a0.x), b1, acc01);
      acc10 = fma(vec4f(a0.y), b0, acc10); acc11 = fma(vec4f(a0.y), b1, acc11);
      acc20 = fma(vec4f(a0.z), b0, acc20); acc21 = fma(vec4f(a0.z), b1, acc21);
      acc30 = fma(vec4f(a0.w), b0, acc30); acc31 = fma(vec4f(a0.w), b1, acc31);
      acc40 = fma(vec4f(a1.x), b0, acc40); acc41 = fma(vec4f(a1.x), b1, acc41);
      acc50 = fma(vec4f(a1.y), b0, acc50); acc51 = fma(vec4f(a1.y), b1, acc51);
      acc60 = fma(vec4f(a1.z), b0, acc60); acc61 = fma(vec4f(a1.z), b1, acc61);
      acc70 = fma(vec4f(a1.w), b0, acc70); acc71 = fma(vec4f(a1.w), b1, acc71);
    }
    if (has_next) {
      let nxt = cur ^ 1u;
      tile_a[nxt][ca0.x][ca0.y] = ra0;
      tile_a[nxt][ca1.x][ca1.y] = ra1;
      tile_b[nxt][cb0.x][cb0.y] = rb0;
      tile_b[nxt][cb1.x][cb1.y] = rb1;
    }
    workgroupBarrier();
  }

  let base_o = wid.z * p.stride_out;
  let r_lo = row0 + 4u * ty;
  let r_hi = row0 + 4u * T + 4u * ty;
  let c_lo = col0 + 4u * tx;
  let c_hi = col0 + 4u * T + 4u * tx;
  store_quad(base_o, r_lo, c_lo, acc00); store_quad(base_o, r_lo, c_hi, acc01);
  store_quad(base_o, r_lo + 1u, c_lo, acc10); store_quad(base_o, r_lo + 1u, c_hi, acc11);
  store_quad(base_o, r_lo + 2u, c_lo, acc20); store_quad(base_o, r_lo + 2u, c_hi, acc21);
  store_quad(base_o, r_lo + 3u, c_lo, acc30); store_quad(base_o, r_lo + 3u, c_hi, acc31);
  store_quad(base_o, r_hi, c_lo, acc40); store_quad(base_o, r_hi, c_hi, acc41);
  store_quad(base_o, r_hi + 1u, c_lo, acc50); store_quad(base_o, r_hi + 1u, c_hi, acc51);
  store_quad(base_o, r_hi + 2u, c_lo, acc60); store_quad(base_o, r_hi + 2u, c_hi, acc61);
  store_quad(base_o, r_hi + 3u, c_lo, acc70); store_quad(base_o, r_hi + 3u, c_hi, acc71);
}

// ── skinny: few rows (decode, m ≤ 16), memory-bound on B ─────────────────────────────
// A workgroup of 256 threads computes 4 rows (workgroup y) × NC columns (workgroup x).
// Column c is split over S = 256/NC threads; thread s sums kk = s, s+S, s+2S, … in order
// for all 4 rows at once (each B element is read once per workgroup), four terms per
// iteration so four loads are in flight, and the S partials are then added in s order.
// Threads along the contiguous axis of B are neighbours: s is fastest when B is stored
// n×k (TRANS_B), c otherwise.

override NC: u32 = 8u; // a power of two, 4 … 64
const SKINNY_WG: u32 = 256u;

var<workgroup> partial: array<vec4f, SKINNY_WG>;

/// opA[row..row+3, kk] (kk < k), rows past m read as 0.
fn a_rows4(base: u32, row: u32, kk: u32) -> vec4f {
  return vec4f(load_a(base, row, kk), load_a(base, row + 1u, kk), load_a(base, row + 2u, kk), load_a(base, row + 3u, kk));
}

/// opB[kk, col] for kk < k, col < n.
fn b_at(base: u32, kk: u32, col: u32) -> f32 {
  return b_elem(select(base + kk * p.n + col, base + col * p.k + kk, TRANS_B));
}

@compute @workgroup_size(SKINNY_WG)
fn skinny(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let slices = SKINNY_WG / NC;
  let c = select(lid % NC, lid / slices, TRANS_B);
  let s = select(lid / NC, lid % slices, TRANS_B);
  let col = wid.x * NC + c;
  let row0 = wid.y * 4u;
  let base_a = wid.z * p.stride_a;
  let base_b = wid.z * p.stride_b;

  var acc = vec4f(0.0);
  if (col < p.n) {
    var kk = s;
    for (; kk + 3u * slices < p.k; kk += 4u * slices) {
      let b0 = b_at(base_b, kk, col);
      let b1 = b_at(base_b, kk + slices, col);
      let b2 = b_at(base_b, kk + 2u * slices, col);
      let b3 = b_at(base_b, kk + 3u * slices, col);
      let a0 = a_rows4(base_a, row0, kk);
      let a1 = a_rows4(base_a, row0, kk + slices);
      let a2 = a_rows4(base_a, row0, kk + 2u * slices);
      let a3 = a_rows4(base_a, row0, kk + 3u * slices);
      acc = fma(a0, vec4f(b0), acc);
      acc = fma(a1, vec4f(b1), acc);
      acc = fma(a2, vec4f(b2), acc);
      acc = fma(a3, vec4f(b3), acc);
    }
    for (; kk < p.k; kk += slices) {
      acc = fma(a_rows4(base_a, row0, kk), vec4f(b_at(base_b, kk, col)), acc);
    }
  }
  partial[lid] = acc;
  workgroupBarrier();

  // Thread (cc, r) for the first 4·NC threads: out[row0 + r, col of cc] = Σ_s partial.
  if (lid < 4u * NC) {
    let cc = lid % NC;
    let r = lid / NC;
    var sum = 0.0;
    for (var t = 0u; t < slices; t++) {
      sum += partial[select(cc + t * NC, cc * slices + t, TRANS_B)][r];
    }
    let row = row0 + r;
    let j = wid.x * NC + cc;
    if (row < p.m && j < p.n) { out[wid.z * p.stride_out + row * p.n + j] = sum; }
  }
}
