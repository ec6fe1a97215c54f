// Batched matrix product  out[b] = op(A[b]) · op(B[b]):
//
//   out[b, i, j] = Σ_{kk = 0}^{k−1} opA[b, i, kk] · opB[b, kk, j]
//
// op(A) is A (m×k, row-major) or, with TRANS_A, Aᵀ of an A stored k×m; likewise op(B)
// is B (k×n) or Bᵀ of a B stored n×k (TRANS_B). Batch b is workgroup z; matrix b starts
// at element b·stride (stride 0 broadcasts one matrix). B is read as u32 words: f32 bits
// (B_DTYPE 0), or two bf16 (1) / f16 (2) values per word, element 2e in the low half.
//
// The epilogue, as each output is written (`finish`): with HAS_BIAS, bias[j] is added to
// out[b, i, j] after its sum, then with HAS_RESIDUAL the residual at the same place as the output
// (a residual connection, out = residual + (sum + bias)): the rounding of separate adds.
//
// Every output is one fma chain over kk in increasing order (the `tiled` kernel: the same
// chain in every variant of it, so variants agree bit for bit), or a fixed-order sum of
// fixed k-slices (`skinny`, and `tiled` split over k: see Params.splits): results never
// depend on scheduling.

struct Params {
  m: u32,
  n: u32,
  k: u32,
  stride_a: u32,
  stride_b: u32,
  stride_out: u32,
  splits: u32,   // tiled: k-slices of each split output tile (1: no split)
  k_slice: u32,  // tiled: depth of a k-slice, a multiple of every BK
  whole: u32,    // tiled, split: output tiles computed whole, before the split ones
  tiles_x: u32,  // tiled, split: output tiles per tile row
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
// `tiled` also binds A and B a second time, read as vectors (see VEC_A, VEC_B).
@group(0) @binding(4) var<storage, read> a4: array<vec4f>;
@group(0) @binding(5) var<storage, read> b2: array<vec2u>;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override B_DTYPE: u32 = 0u;
override HAS_BIAS: bool = false;
override HAS_RESIDUAL: bool = false;
// The epilogue's operands, after every kernel's own bindings (placeholders where absent).
@group(0) @binding(7) var<storage, read> bias: array<f32>;
@group(0) @binding(8) var<storage, read> residual: array<f32>;

/// Output element `at` of out (column `col`) from its sum: + bias[col], then + residual[at].
fn finish(at: u32, col: u32, sum: f32) -> f32 {
  var v = sum;
  if (HAS_BIAS) { v += bias[col]; }
  if (HAS_RESIDUAL) { v = residual[at] + v; }
  return v;
}

/// Element e of B as f32.
fn b_elem(e: u32) -> f32 {
  if (B_DTYPE == 0u) { return bitcast<f32>(b[e]); }
  let w = b[e >> 1u];
  let high = (e & 1u) == 1u;
  if (B_DTYPE == 1u) { return bitcast<f32>(select(w << 16u, w & 0xffff0000u, high)); }
  let pair = unpack2x16float(w);
  return select(pair.x, pair.y, high);
}

/// The two values a packed word of B holds, element 2e first. (b_elem and b_vec keep their own
/// forms: b_vec written with this ran the tiled bf16 product at half speed on an H100.)
fn unpack_word(w: u32) -> vec2f {
  if (B_DTYPE == 1u) { return vec2f(bitcast<f32>(w << 16u), bitcast<f32>(w & 0xffff0000u)); }
  return unpack2x16float(w);
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

// ── tiled: one workgroup of WX×WY threads computes a (TM·WY)×(8·WX) output tile ─────
// Thread (tx, ty) owns TM rows × 8 columns: rows 4ty+r (and 4WY+4ty+r when TM = 8) ×
// columns 4tx+c and 4WX+4tx+c, r, c < 4. K advances in tiles of BK, staged k-major in
// workgroup memory, in two or three buffers (see below): tile_a[kk][32·buf + q] holds opA at
// rows 4q..4q+3 of the tile and depth k0+kk (tile_b likewise for columns), so one barrier per K-tile
// suffices, and per kk a thread reads TM/4 quads of A and 2 of B for 2·TM vec4 fma. The kk
// steps are written out, so their kk indices are constant and the quad indices invariant
// over the K-tile: WebGPU's index clamps cost nothing inside it.
//
// Loading: each operand's K-tile is cut into quads of 4 elements along the operand's
// contiguous axis (k for A, m with TRANS_A; n for B, k with TRANS_B), numbered so that
// consecutive threads read consecutive quads; each thread owns at most two per operand.
// Tiles inside the matrices skip the bounds checks, and with VEC_A / VEC_B read each quad
// as one vector through a4 / b2 (the wrapper sets these only when every quad is aligned).
// How the next K-tile is loaded:
//   early:  stored right away (fewer live registers, more waiting);
//   staged: (STAGED) held in registers during the multiply and stored after it, so its load
//           latency hides behind the multiply;
//   ring:   (BUFS = 3) three buffers, for the output tiles inside the matrices (the others load
//           early: see multiply). Each K-tile first stores the tile loaded during the last
//           multiply, then loads the one after it: a load has a whole multiply to arrive, and the
//           stores are long done when the barrier comes. 1.5× the workgroup memory. On an H100,
//           4096³ with n a pipeline constant: 37.7 → 41.1 TFLOP/s (tools/wgsl-probe, gen/2x2 →
//           gen/2x3). Our reading, unseen (Vulkan shows no machine code): WGSL's barrier also
//           orders workgroup memory, the CUDA twin's equivalent is a MEMBAR.CTA before BAR.SYNC,
//           which waits for the stores just issued; in the ring they were issued a multiply earlier.

override TM: u32 = 8u; // rows per thread: 4 or 8
override WX: u32 = 16u; // threads along n: 8 or 16
override WY: u32 = 16u; // threads along m, TM·WY ≤ 128
override BK: u32 = 8u; // K-tile depth: 8 or 16
override STAGED: bool = true;
override VEC_A: bool = false;
override VEC_B: bool = false;
override UNROLL: bool = true; // K-steps written out (hardware adapters: see src/backend/webgpu/product-loops.ts)

/// Quads of one buffer of a tile row: 128 elements, the widest tile side.
const BUF_QUADS: u32 = 32u;

/// Staging buffers: two, or three for the ring (the host defines 2 or 3: a workgroup array's
/// inner size cannot be an override).
const BUFS: u32 = 2u;

var<workgroup> tile_a: array<array<vec4f, BUFS * BUF_QUADS>, BK>;
var<workgroup> tile_b: array<array<vec4f, BUFS * BUF_QUADS>, BK>;

/// Quads in one K-tile of each operand.
fn quads_a() -> u32 { return TM * WY * BK / 4u; }
fn quads_b() -> u32 { return 2u * WX * BK; }

/// Whether thread `lid` loads quad lid + h·threads (h ∈ {0, 1}); constant unless the quads
/// do not fill that round of threads.
fn owns(lid: u32, h: u32, quads: u32) -> bool {
  let threads = WX * WY;
  if (quads >= (h + 1u) * threads) { return true; }
  if (quads <= h * threads) { return false; }
  return lid + h * threads < quads;
}

/// Tile-relative (row, kk) of the first element of A's quad c.
fn a_chunk(c: u32) -> vec2u {
  if (TRANS_A) {
    let per_kk = TM * WY / 4u;
    return vec2u(4u * (c % per_kk), c / per_kk);
  }
  let per_row = BK / 4u;
  return vec2u(c / per_row, 4u * (c % per_row));
}

/// Tile-relative (kk, col) of the first element of B's quad c.
fn b_chunk(c: u32) -> vec2u {
  if (TRANS_B) {
    let per_col = BK / 4u;
    return vec2u(4u * (c % per_col), c / per_col);
  }
  let per_kk = 2u * WX;
  return vec2u(c / per_kk, 4u * (c % per_kk));
}

/// opA at (row, kk) and the next 3 elements along A's contiguous axis; `fast`: all inside m×k,
/// except that without TRANS_A a row past m reads row m − 1 (the ring's partial tile rows: see multiply).
fn a_quad(base: u32, row: u32, kk: u32, fast: bool) -> vec4f {
  if (!fast) {
    let d = select(vec2u(0u, 1u), vec2u(1u, 0u), TRANS_A); // (Δrow, Δkk)
    return vec4f(load_a(base, row, kk), load_a(base, row + d.x, kk + d.y), load_a(base, row + 2u * d.x, kk + 2u * d.y), load_a(base, row + 3u * d.x, kk + 3u * d.y));
  }
  let e = select(base + min(row, p.m - 1u) * p.k + kk, base + kk * p.m + row, TRANS_A);
  if (VEC_A) { return a4[e / 4u]; }
  return vec4f(a[e], a[e + 1u], a[e + 2u], a[e + 3u]);
}

/// opB at (kk, col) and the next 3 elements along B's contiguous axis; `fast`: all inside k×n,
/// except that with TRANS_B a column past n reads column n − 1 (the ring's partial tile columns).
fn b_quad(base: u32, kk: u32, col: u32, fast: bool) -> vec4f {
  if (!fast) {
    let d = select(vec2u(0u, 1u), vec2u(1u, 0u), TRANS_B); // (Δkk, Δcol)
    return vec4f(load_b(base, kk, col), load_b(base, kk + d.x, col + d.y), load_b(base, kk + 2u * d.x, col + 2u * d.y), load_b(base, kk + 3u * d.x, col + 3u * d.y));
  }
  let e = select(base + kk * p.n + col, base + min(col, p.n - 1u) * p.k + kk, TRANS_B);
  if (VEC_B) { return b_vec(e); }
  return vec4f(b_elem(e), b_elem(e + 1u), b_elem(e + 2u), b_elem(e + 3u));
}

/// Elements e..e+3 of B (e a multiple of 4) from whole words: two f32 pairs, or one pair of packed halves.
fn b_vec(e: u32) -> vec4f {
  if (B_DTYPE == 0u) { return bitcast<vec4f>(vec4u(b2[e / 2u], b2[e / 2u + 1u])); }
  let w = b2[e / 4u];
  if (B_DTYPE == 1u) { return bitcast<vec4f>(vec4u(w.x << 16u, w.x & 0xffff0000u, w.y << 16u, w.y & 0xffff0000u)); }
  return vec4f(unpack2x16float(w.x), unpack2x16float(w.y));
}

/// Stores A's quad at tile-relative `at` = (row, kk) into buffer `buf`.
fn put_a(buf: u32, at: vec2u, v: vec4f) {
  let q = BUF_QUADS * buf + at.x / 4u;
  if (TRANS_A) {
    tile_a[at.y][q] = v;
    return;
  }
  let r = at.x % 4u;
  tile_a[at.y][q][r] = v.x;
  tile_a[at.y + 1u][q][r] = v.y;
  tile_a[at.y + 2u][q][r] = v.z;
  tile_a[at.y + 3u][q][r] = v.w;
}

/// Stores B's quad at tile-relative `at` = (kk, col) into buffer `buf`.
fn put_b(buf: u32, at: vec2u, v: vec4f) {
  let q = BUF_QUADS * buf + at.y / 4u;
  if (!TRANS_B) {
    tile_b[at.x][q] = v;
    return;
  }
  let c = at.y % 4u;
  tile_b[at.x][q][c] = v.x;
  tile_b[at.x + 1u][q][c] = v.y;
  tile_b[at.x + 2u][q][c] = v.z;
  tile_b[at.x + 3u][q][c] = v.w;
}

/// One thread's share of a K-tile: quads lid and lid + threads of each operand (0 where not owned).
struct Share {
  a0: vec4f,
  a1: vec4f,
  b0: vec4f,
  b1: vec4f,
}

/// Loads this thread's share of the K-tile at depth k0 of matrix `batch` for the output tile at
/// (row0, col0); `inner`: the caller knows the K-tile lies inside both matrices (no checks).
fn fetch(lid: u32, row0: u32, col0: u32, batch: u32, k0: u32, inner: bool) -> Share {
  let threads = WX * WY;
  let base_a = batch * p.stride_a;
  let base_b = batch * p.stride_b;
  let full_k = inner || k0 + BK <= p.k;
  let fast_a = inner || (full_k && row0 + TM * WY <= p.m);
  let fast_b = inner || (full_k && col0 + 8u * WX <= p.n);
  var s = Share(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  if (owns(lid, 0u, quads_a())) {
    let at = a_chunk(lid);
    s.a0 = a_quad(base_a, row0 + at.x, k0 + at.y, fast_a);
  }
  if (owns(lid, 1u, quads_a())) {
    let at = a_chunk(lid + threads);
    s.a1 = a_quad(base_a, row0 + at.x, k0 + at.y, fast_a);
  }
  if (owns(lid, 0u, quads_b())) {
    let at = b_chunk(lid);
    s.b0 = b_quad(base_b, k0 + at.x, col0 + at.y, fast_b);
  }
  if (owns(lid, 1u, quads_b())) {
    let at = b_chunk(lid + threads);
    s.b1 = b_quad(base_b, k0 + at.x, col0 + at.y, fast_b);
  }
  return s;
}

/// Stores this thread's share into buffer `buf` of the staging tiles.
fn stash(lid: u32, buf: u32, s: Share) {
  let threads = WX * WY;
  if (owns(lid, 0u, quads_a())) { put_a(buf, a_chunk(lid), s.a0); }
  if (owns(lid, 1u, quads_a())) { put_a(buf, a_chunk(lid + threads), s.a1); }
  if (owns(lid, 0u, quads_b())) { put_b(buf, b_chunk(lid), s.b0); }
  if (owns(lid, 1u, quads_b())) { put_b(buf, b_chunk(lid + threads), s.b1); }
}

/// Writes the in-bounds part of out[row, col..col+3], through the epilogue.
fn store_quad(base: u32, row: u32, col: u32, v: vec4f) {
  if (row >= p.m) { return; }
  let at = base + row * p.n + col;
  if (col < p.n) { out[at] = finish(at, col, v.x); }
  if (col + 1u < p.n) { out[at + 1u] = finish(at + 1u, col + 1u, v.y); }
  if (col + 2u < p.n) { out[at + 2u] = finish(at + 2u, col + 2u, v.z); }
  if (col + 3u < p.n) { out[at + 3u] = finish(at + 3u, col + 3u, v.w); }
}

// The thread's outputs, acc{r}{h}: row 4ty+r (r < 4) or 4WY+4ty+r−4 (r ≥ 4, TM = 8 only),
// columns 4tx.. (h = 0) or 4WX+4tx.. (h = 1). Module-scope so that k_step can update them.
var<private> acc00: vec4f; var<private> acc01: vec4f;
var<private> acc10: vec4f; var<private> acc11: vec4f;
var<private> acc20: vec4f; var<private> acc21: vec4f;
var<private> acc30: vec4f; var<private> acc31: vec4f;
var<private> acc40: vec4f; var<private> acc41: vec4f;
var<private> acc50: vec4f; var<private> acc51: vec4f;
var<private> acc60: vec4f; var<private> acc61: vec4f;
var<private> acc70: vec4f; var<private> acc71: vec4f;

/// Depth kk of the staged K-tile whose A and B quads for this thread are at qa and qb: every
/// output takes one fma (TM/4 quads of A, 2 of B, 2·TM vec4 fma).
fn k_step(kk: u32, qa: u32, qb: u32) {
  let a0 = tile_a[kk][qa];
  let b0 = tile_b[kk][qb];
  let b1 = tile_b[kk][qb + WX];
  acc00 = fma(vec4f(a0.x), b0, acc00); acc01 = fma(vec4f(a0.x), b1, acc01);
  acc10 = fma(vec4f(a0.y), b0, acc10); acc11 = fma(vec4f(a0.y), b1, acc11);
  acc20 = fma(vec4f(a0.z), b0, acc20); acc21 = fma(vec4f(a0.z), b1, acc21);
  acc30 = fma(vec4f(a0.w), b0, acc30); acc31 = fma(vec4f(a0.w), b1, acc31);
  if (TM == 8u) {
    let a1 = tile_a[kk][qa + WY];
    acc40 = fma(vec4f(a1.x), b0, acc40); acc41 = fma(vec4f(a1.x), b1, acc41);
    acc50 = fma(vec4f(a1.y), b0, acc50); acc51 = fma(vec4f(a1.y), b1, acc51);
    acc60 = fma(vec4f(a1.z), b0, acc60); acc61 = fma(vec4f(a1.z), b1, acc61);
    acc70 = fma(vec4f(a1.w), b0, acc70); acc71 = fma(vec4f(a1.w), b1, acc71);
  }
}

/// Accumulates the output tile at (row0, col0) of matrix `batch` over depths k_begin ..< k_end
/// into the thread's acc{r}{h}.
fn multiply(lid: u32, row0: u32, col0: u32, batch: u32, k_begin: u32, k_end: u32) {
  let tx = lid % WX;
  let ty = lid / WX;
  var k0 = k_begin;
  // A tile row past m can take the ring where A's quads run along k (one row each): its rows past
  // m read row m − 1 (a_quad), whose products land only in outputs that are never stored. Tile
  // columns past n likewise where B's run along k. In the 0.5B step the LM head's dh product of
  // 1023 rows took 8.9 ms against 6.5 for 1024 rows, its last tile row outside the ring.
  let ring_rows = row0 + TM * WY <= p.m || !TRANS_A;
  let ring_cols = col0 + 8u * WX <= p.n || TRANS_B;
  if (BUFS == 3u && ring_rows && ring_cols && k_end - k_begin >= BK) {
    // The ring, over the whole K-tiles of an output tile (unchecked loads): K-tile t is in buffer
    // t % 3. Each K-tile stores tile t + 1 (loaded during the last multiply) into the next buffer,
    // which last held tile t − 2, read before the barrier that ended tile t − 1, then loads tile
    // t + 2. The rest (the other edge tiles, a K tail) runs the loop below.
    // On an H100 at 4096³ (tools/wgsl-probe): 46.4 TFLOP/s, against 37.2 staged; with the loads'
    // bounds checks in the loop 29.5 (130 registers a thread: one workgroup an SM, not two).
    // Three K-tiles an iteration, so that their buffers are constants (with t % 3 computed: 38.8
    // against 42.6, gen/2x3+uniform, gen/2x3u3+uniform), each with its K-steps written out in
    // place, as measured (the whole K-tile as a function called per K-tile ran at 23.8: the
    // driver did not inline it).
    let tiles = (k_end - k_begin) / BK;
    var share = fetch(lid, row0, col0, batch, k_begin, true);
    stash(lid, 0u, share);
    if (tiles > 1u) { share = fetch(lid, row0, col0, batch, k_begin + BK, true); }
    workgroupBarrier();
    var t = 0u;
    for (; t + 3u <= tiles; t += 3u) {
      stash(lid, 1u, share);
      share = fetch(lid, row0, col0, batch, k_begin + (t + 2u) * BK, true);
      {
        let qa = ty;
        let qb = tx;
        if (UNROLL && B_DTYPE == 0u) {
          k_step(0u, qa, qb); k_step(1u, qa, qb); k_step(2u, qa, qb); k_step(3u, qa, qb);
          k_step(4u, qa, qb); k_step(5u, qa, qb); k_step(6u, qa, qb); k_step(7u, qa, qb);
          if (BK == 16u) {
            k_step(8u, qa, qb); k_step(9u, qa, qb); k_step(10u, qa, qb); k_step(11u, qa, qb);
            k_step(12u, qa, qb); k_step(13u, qa, qb); k_step(14u, qa, qb); k_step(15u, qa, qb);
          }
        } else {
          for (var kk = 0u; kk < BK; kk++) { k_step(kk, qa, qb); }
        }
      }
      workgroupBarrier();
      stash(lid, 2u, share);
      if (t + 3u < tiles) { share = fetch(lid, row0, col0, batch, k_begin + (t + 3u) * BK, true); }
      {
        let qa = BUF_QUADS + ty;
        let qb = BUF_QUADS + tx;
        if (UNROLL && B_DTYPE == 0u) {
          k_step(0u, qa, qb); k_step(1u, qa, qb); k_step(2u, qa, qb); k_step(3u, qa, qb);
          k_step(4u, qa, qb); k_step(5u, qa, qb); k_step(6u, qa, qb); k_step(7u, qa, qb);
          if (BK == 16u) {
            k_step(8u, qa, qb); k_step(9u, qa, qb); k_step(10u, qa, qb); k_step(11u, qa, qb);
            k_step(12u, qa, qb); k_step(13u, qa, qb); k_step(14u, qa, qb); k_step(15u, qa, qb);
          }
        } else {
          for (var kk = 0u; kk < BK; kk++) { k_step(kk, qa, qb); }
        }
      }
      workgroupBarrier();
      if (t + 3u < tiles) { stash(lid, 0u, share); }
      if (t + 4u < tiles) { share = fetch(lid, row0, col0, batch, k_begin + (t + 4u) * BK, true); }
      {
        let qa = 2u * BUF_QUADS + ty;
        let qb = 2u * BUF_QUADS + tx;
        if (UNROLL && B_DTYPE == 0u) {
          k_step(0u, qa, qb); k_step(1u, qa, qb); k_step(2u, qa, qb); k_step(3u, qa, qb);
          k_step(4u, qa, qb); k_step(5u, qa, qb); k_step(6u, qa, qb); k_step(7u, qa, qb);
          if (BK == 16u) {
            k_step(8u, qa, qb); k_step(9u, qa, qb); k_step(10u, qa, qb); k_step(11u, qa, qb);
            k_step(12u, qa, qb); k_step(13u, qa, qb); k_step(14u, qa, qb); k_step(15u, qa, qb);
          }
        } else {
          for (var kk = 0u; kk < BK; kk++) { k_step(kk, qa, qb); }
        }
      }
      workgroupBarrier();
    }
    for (; t < tiles; t++) {
      let cur = t % 3u;
      if (t + 1u < tiles) { stash(lid, (cur + 1u) % 3u, share); }
      if (t + 2u < tiles) { share = fetch(lid, row0, col0, batch, k_begin + (t + 2u) * BK, true); }
      {
        let qa = BUF_QUADS * cur + ty;
        let qb = BUF_QUADS * cur + tx;
        if (UNROLL && B_DTYPE == 0u) {
          k_step(0u, qa, qb); k_step(1u, qa, qb); k_step(2u, qa, qb); k_step(3u, qa, qb);
          k_step(4u, qa, qb); k_step(5u, qa, qb); k_step(6u, qa, qb); k_step(7u, qa, qb);
          if (BK == 16u) {
            k_step(8u, qa, qb); k_step(9u, qa, qb); k_step(10u, qa, qb); k_step(11u, qa, qb);
            k_step(12u, qa, qb); k_step(13u, qa, qb); k_step(14u, qa, qb); k_step(15u, qa, qb);
          }
        } else {
          for (var kk = 0u; kk < BK; kk++) { k_step(kk, qa, qb); }
        }
      }
      workgroupBarrier();
    }
    k0 = k_begin + tiles * BK;
    if (k0 == k_end) { return; }
  }

  // Two buffers: the staged and early loads, and the ring's edge tiles and K tails, loaded early:
  // staged there, the kernel took 146 registers a thread instead of 127, one workgroup an SM
  // instead of two, and the ring's 4096³ product ran at 41.0 TFLOP/s instead of 46.4 (H100).
  let tiles = (k_end - k0 + BK - 1u) / BK;
  var share = fetch(lid, row0, col0, batch, k0, false);
  stash(lid, 0u, share);
  workgroupBarrier();
  for (var t = 0u; t < tiles; t++) {
    let cur = t & 1u;
    let has_next = t + 1u < tiles;
    if (has_next) {
      share = fetch(lid, row0, col0, batch, k0 + (t + 1u) * BK, false);
      if (!STAGED) { stash(lid, cur ^ 1u, share); }
    }
    let qa = BUF_QUADS * cur + ty;
    let qb = BUF_QUADS * cur + tx;
    // Written out rather than looped: NVIDIA's Vulkan compiler leaves a kk loop rolled, which
    // cost 13% at 4096³ on an H100 (tools/wgsl-probe: 32.1 vs 36.8 TFLOP/s). With packed B
    // the rolled loop was faster (29.6 vs 22.3 TFLOP/s on the 0.5B up projection).
    if (UNROLL && B_DTYPE == 0u) {
      k_step(0u, qa, qb); k_step(1u, qa, qb); k_step(2u, qa, qb); k_step(3u, qa, qb);
      k_step(4u, qa, qb); k_step(5u, qa, qb); k_step(6u, qa, qb); k_step(7u, qa, qb);
      if (BK == 16u) {
        k_step(8u, qa, qb); k_step(9u, qa, qb); k_step(10u, qa, qb); k_step(11u, qa, qb);
        k_step(12u, qa, qb); k_step(13u, qa, qb); k_step(14u, qa, qb); k_step(15u, qa, qb);
      }
    } else {
      for (var kk = 0u; kk < BK; kk++) { k_step(kk, qa, qb); }
    }
    if (has_next && STAGED) { stash(lid, cur ^ 1u, share); }
    workgroupBarrier();
  }
}

/// Writes the thread's outputs of the tile at (row0, col0) into matrix `batch` of out.
fn store_tile(lid: u32, row0: u32, col0: u32, batch: u32) {
  let base_o = batch * p.stride_out;
  let r_lo = row0 + 4u * (lid / WX);
  let c_lo = col0 + 4u * (lid % WX);
  let c_hi = c_lo + 4u * WX;
  store_quad(base_o, r_lo, c_lo, acc00); store_quad(base_o, r_lo, c_hi, acc01);
  store_quad(base_o, r_lo + 1u, c_lo, acc10); store_quad(base_o, r_lo + 1u, c_hi, acc11);
  store_quad(base_o, r_lo + 2u, c_lo, acc20); store_quad(base_o, r_lo + 2u, c_hi, acc21);
  store_quad(base_o, r_lo + 3u, c_lo, acc30); store_quad(base_o, r_lo + 3u, c_hi, acc31);
  if (TM == 8u) {
    let r_hi = r_lo + 4u * WY;
    store_quad(base_o, r_hi, c_lo, acc40); store_quad(base_o, r_hi, c_hi, acc41);
    store_quad(base_o, r_hi + 1u, c_lo, acc50); store_quad(base_o, r_hi + 1u, c_hi, acc51);
    store_quad(base_o, r_hi + 2u, c_lo, acc60); store_quad(base_o, r_hi + 2u, c_hi, acc61);
    store_quad(base_o, r_hi + 3u, c_lo, acc70); store_quad(base_o, r_hi + 3u, c_hi, acc71);
  }
}

/// Workgroup (x, y, z) computes output tile (x, y) of matrix z over all of k.
@compute @workgroup_size(WX * WY)
fn tiled(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let row0 = wid.y * TM * WY;
  let col0 = wid.x * 8u * WX;
  multiply(lid, row0, col0, wid.z, 0u, p.k);
  store_tile(lid, row0, col0, wid.z);
}

// ── tiled_split: `tiled` for one matrix with its last output tiles split over k ─────────
// The workgroups, numbered along x then y, first compute output tiles 0 ..< whole whole (tiles
// numbered row-major), then each later tile t (whole + t) as `splits` k-slices: slice s sums
// depths s·k_slice ..< (s+1)·k_slice into partial slot t·splits + s of slice_parts, and
// sum_slices adds the slots in slice order. Whole tiles first and cut tiles last lets the GPU's
// last wave of workgroups end together, instead of a few SMs finishing whole tiles while the
// rest idle; `whole` = 0 splits every tile (few tiles and a long k).
@group(0) @binding(6) var<storage, read_write> slice_parts: array<f32>;

/// The thread's output quad i < 2·TM (acc{i/2}{i%2}).
fn acc_quad(i: u32) -> vec4f {
  switch (i) {
    case 0u: { return acc00; } case 1u: { return acc01; } case 2u: { return acc10; } case 3u: { return acc11; }
    case 4u: { return acc20; } case 5u: { return acc21; } case 6u: { return acc30; } case 7u: { return acc31; }
    case 8u: { return acc40; } case 9u: { return acc41; } case 10u: { return acc50; } case 11u: { return acc51; }
    case 12u: { return acc60; } case 13u: { return acc61; } case 14u: { return acc70; } default: { return acc71; }
  }
}

/// Output tiles in the matrix.
fn tile_count() -> u32 { return p.tiles_x * ((p.m + TM * WY - 1u) / (TM * WY)); }

@compute @workgroup_size(WX * WY)
fn tiled_split(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let w = wid.x + wid.y * nwg.x;
  let split = w >= p.whole;
  let u = w - p.whole; // when split: the slot
  let tile = select(w, p.whole + u / p.splits, split);
  if (tile >= tile_count()) { return; } // the 2-D grid's spare workgroups
  let row0 = (tile / p.tiles_x) * TM * WY;
  let col0 = (tile % p.tiles_x) * 8u * WX;
  let k_begin = select(0u, (u % p.splits) * p.k_slice, split);
  let k_end = select(p.k, min(p.k, k_begin + p.k_slice), split);
  multiply(lid, row0, col0, 0u, k_begin, k_end);
  if (!split) {
    store_tile(lid, row0, col0, 0u);
    return;
  }
  // Quad i of the thread: tile row 4ty + i/2 (+ 4WY − 4 from i = 8), columns 4tx + 4WX·(i % 2).
  let cols = 8u * WX;
  let first = (u * TM * WY + 4u * (lid / WX)) * cols + 4u * (lid % WX);
  for (var i = 0u; i < 2u * TM; i++) {
    let r = i / 2u;
    let at = first + (r + select(0u, 4u * WY - 4u, r >= 4u)) * cols + 4u * WX * (i % 2u);
    let v = acc_quad(i);
    slice_parts[at] = v.x; slice_parts[at + 1u] = v.y; slice_parts[at + 2u] = v.z; slice_parts[at + 3u] = v.w;
  }
}

// ── sum_slices: the split over k's epilogue ────────────────────────────────────────────
// out[row, col] = Σ_{s < splits} partial slot t·splits + s at the tile-relative (row, col), for
// every element of the split tiles t (tiles whole + t), added in slice order, then the epilogue
// (`finish`). Thread e takes
// elements 4e … 4e+3 of the split tiles' partials in slot order (4 columns of one tile row: tile
// rows are 64 or 128 wide), so each load is one 16-byte vector and neighbours' loads and stores
// are contiguous. Binds the partials as `slice_parts4` and out as `slice_sum`, with tiled_split's
// tile constants.
@group(0) @binding(1) var<storage, read> slice_parts4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> slice_sum: array<f32>;

@compute @workgroup_size(256)
fn sum_slices(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let cols = 8u * WX;
  let tile_quads = TM * WY * cols / 4u;
  let q = gid.x + gid.y * nwg.x * 256u;
  if (q >= (tile_count() - p.whole) * tile_quads) { return; }
  let t = q / tile_quads;
  let at = 4u * (q % tile_quads);
  let tile = p.whole + t;
  let row = (tile / p.tiles_x) * TM * WY + at / cols;
  let col = (tile % p.tiles_x) * cols + at % cols;
  if (row >= p.m || col >= p.n) { return; }
  let first = t * p.splits * tile_quads + q % tile_quads;
  var acc = slice_parts4[first];
  for (var s = 1u; s < p.splits; s++) { acc += slice_parts4[first + s * tile_quads]; }
  let o = row * p.n + col;
  slice_sum[o] = finish(o, col, acc.x);
  if (col + 1u < p.n) { slice_sum[o + 1u] = finish(o + 1u, col + 1u, acc.y); }
  if (col + 2u < p.n) { slice_sum[o + 2u] = finish(o + 2u, col + 2u, acc.z); }
  if (col + 3u < p.n) { slice_sum[o + 3u] = finish(o + 3u, col + 3u, acc.w); }
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
  skinny_sum(lid, wid, acc);
}

/// Adds the slices' partial sums of workgroup `wid` in slice order and writes its 4 × NC outputs.
fn skinny_sum(lid: u32, wid: vec3u, acc: vec4f) {
  let slices = SKINNY_WG / NC;
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
    let row = wid.y * 4u + r;
    let j = wid.x * NC + cc;
    if (row < p.m && j < p.n) {
      let at = wid.z * p.stride_out + row * p.n + j;
      out[at] = finish(at, j, sum);
    }
  }
}

// ── skinny_vec: skinny for B stored n×k and A m×k, read 16 bytes at a time ────────────
// The same split as skinny with TRANS_B, but thread s of column c takes chunks of 8 elements along
// k, v = s, s+S, … (two vec4 words of f32 B, one of packed B), so a warp moves 512 bytes of B per
// load instead of 128. Both forms add a chunk as dot(first 4) + dot(last 4), so f32 and packed
// weights holding the same values give the same bits. The wrapper picks it only where k and every
// matrix's start in B are multiples of 8 and A's of 4.
@group(0) @binding(6) var<storage, read> b4: array<vec4u>;

/// A[row, kk ..< kk + 4] (row-major, kk a multiple of 4); 0 for rows past m.
fn a_vec(base: u32, row: u32, kk: u32) -> vec4f {
  if (row >= p.m) { return vec4f(0.0); }
  return a4[(base + row * p.k + kk) / 4u];
}

/// acc[r] += Σ_{e < 8} A[row0 + r, kk + e]·B[kk + e of the column whose element kk is at `at`].
fn skinny_vec_step(acc: ptr<function, vec4f>, base_a: u32, row0: u32, at: u32, kk: u32) {
  var lo: vec4f;
  var hi: vec4f;
  if (B_DTYPE == 0u) {
    lo = bitcast<vec4f>(b4[at / 4u]);
    hi = bitcast<vec4f>(b4[at / 4u + 1u]);
  } else {
    let w = b4[at / 8u];
    lo = vec4f(unpack_word(w.x), unpack_word(w.y));
    hi = vec4f(unpack_word(w.z), unpack_word(w.w));
  }
  var d: vec4f;
  for (var r = 0u; r < 4u; r++) { d[r] = dot(a_vec(base_a, row0 + r, kk), lo) + dot(a_vec(base_a, row0 + r, kk + 4u), hi); }
  *acc += d;
}

@compute @workgroup_size(SKINNY_WG)
fn skinny_vec(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let slices = SKINNY_WG / NC;
  let col = wid.x * NC + lid / slices;
  let s = lid % slices;
  let row0 = wid.y * 4u;
  let base_a = wid.z * p.stride_a;
  let chunks = p.k / 8u;

  var acc = vec4f(0.0);
  if (col < p.n) {
    let first = wid.z * p.stride_b + col * p.k;  // element index of the column's kk = 0
    var v = s;
    for (; v + 3u * slices < chunks; v += 4u * slices) {
      skinny_vec_step(&acc, base_a, row0, first + 8u * v, 8u * v);
      skinny_vec_step(&acc, base_a, row0, first + 8u * (v + slices), 8u * (v + slices));
      skinny_vec_step(&acc, base_a, row0, first + 8u * (v + 2u * slices), 8u * (v + 2u * slices));
      skinny_vec_step(&acc, base_a, row0, first + 8u * (v + 3u * slices), 8u * (v + 3u * slices));
    }
    for (; v < chunks; v += slices) { skinny_vec_step(&acc, base_a, row0, first + 8u * v, 8u * v); }
  }
  skinny_sum(lid, wid, acc);
}
