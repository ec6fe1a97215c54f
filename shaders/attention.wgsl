// Fused attention over packed variable-length sequences (FlashAttention-2), forward and backward.
// The math and the operand layout are in src/backend/kernels.ts (AttentionArgs, AttentionGradArgs):
// token-major q/out/dO [Tq, Hq, D], k/v [Tk, Hkv, D], lse [Hq, Tq]; sequence s owns query rows
// cu_q[s] ..< cu_q[s+1] and key rows cu_k[s] ..< cu_k[s+1]; query i sees key j iff j < Lk and
// (not causal or j ≤ i + Lk − Lq).
//
//   attn_fwd          S = scale·Q·Kᵀ; running row max m and l = Σ exp(S − m); O = Σ exp(S − m)·V / l;
//                     lse = m + log l                                  (one query block per workgroup)
//   attn_bwd_prep     lse₂ = lse·log₂e, δ = rowsum(dO ⊙ O), and a per-sequence table, into `work`
//   attn_bwd_dkdv     P = exp(S − lse), dS = P ⊙ (dO·Vᵀ − δ); dV = Pᵀ·dO, dK = scale·dSᵀ·Q
//                     (one key block of one query head per workgroup, loop over query blocks)
//   attn_bwd_dq       dQ = scale·dS·K                                  (one query block per workgroup)
//                     with S and dP recomputed, or
//   attn_bwd_dq_ds    dQ = scale·dS·K from the dS tiles attn_bwd_dkdv stored (STORE_DS), as a tiled
//                     product of its own (see dq_ds): the backward then runs 5 block products instead
//                     of 7, at the cost of a dS buffer per query head (the host bounds it by running
//                     the heads in groups).
//   attn_bwd_reduce_kv  gk, gv = Σ over the query heads of each kv head of the per-head dK, dV
// The forward keeps no [Tq × Tk] matrix in global memory; the backward holds dS there only in
// STORE_DS mode, bounded by the host's budget. Nothing is accumulated with atomics, so the backward
// is deterministic: every sum runs in a fixed order (the same order in both dQ forms).
//
// Tiling. A workgroup owns a block of BR rows (queries in fwd/dq, keys in dkdv) and walks the
// blocks of BC columns on the other side. Threads form a TR × TC grid; thread (tr, tc) holds rows
// tr·RM ..< tr·RM + RM and the column quads tc + TC·c of every tile (score columns for c < CS, head
// dims for c < CO). Products read their left operand as broadcast vec4s of RM/4 row quads and
// their right operand as conflict-free vec4s, from workgroup memory:
//   mm_scores:  acc[r][c] += Σ_d A[r][d]·B[c][d] — A, B staged as row quads × head dims, DK dims at
//               a time (the backward stages both of its score products, S and dP, between one barrier pair);
//   mm_values:  acc[r][c] += Σ_j pbuf[r][j]·stage[c][j] — pbuf holds the softmaxed tile (or dS),
//               stage holds DK rows of V / K / dO / Q as dim quads × rows.
// Workgroup memory is one 2-D array `sh` of ROWS × (DK + 1) vec4s (the +1 keeps strided reads
// conflict-free), indexed [which vec4 of whose rows][step of the unrolled product loop]: the
// thread-dependent part sits in the outer index, so the bounds clamp that WebGPU's robustness
// adds to every access is computed once per loop, not once per load.
// Blocks that lie wholly inside the visible region skip the per-element mask.
// Workgroup (x, y, z) is (query head, sequence, block rank): the block rank varies slowest, so the
// GPU, which starts workgroups in that order, starts the blocks with the most work of every head
// first (longest job first). With the rank fastest, the last heads' largest causal blocks started
// late and finished alone (at 4k tokens: a simulated 1.6× of the ideal span for 32 blocks a head
// on 264 slots, 1.1× for 64 blocks on 132).
// Scores are kept in log2 units (scale·log₂e folded in), so the exponentials are exp2.

override WG: u32 = 128u;   // threads per workgroup
override TC: u32 = 16u;    // thread columns
override BR: u32 = 64u;    // rows per block
override BC: u32 = 64u;    // columns per block
override DP: u32 = 128u;   // head dim padded to a multiple of 4·TC (dims ≥ D are zero)
override TR: u32 = WG / TC;
override RM: u32 = BR / TR;            // rows per thread (4 or 8)
override RQ: u32 = RM / 4u;            // row quads per thread
override CS: u32 = BC / (4u * TC);     // score column quads per thread
override CO: u32 = DP / (4u * TC);     // head-dim quads per thread
const DK: u32 = 16u;                   // head dims per transposed staging step, rows per natural one (= P.steps); the host defines 16 or 32
override PAIRS: u32 = 1u;              // operand pairs staged at once for scores (2 in the backward: S and dP)
override UNROLL: bool = true;          // product loops with a constant trip count (see score_step)
override STORE_DS: bool = false;       // attn_bwd_dkdv also writes dS for attn_bwd_dq_ds
// Register tiles are sized for the largest configuration the host picks (RM·CO ≤ 32, RM·CS ≤ 16,
// RQ ≤ 2); after specialisation the unused entries are dead. Accumulators are zeroed with explicit
// constructors: a loop-scoped `var` without one was not re-zeroed per iteration on lavapipe.
const MAX_O: u32 = 32u;
const MAX_S: u32 = 16u;
const MAX_RQ: u32 = 2u;
const MAX_RM: u32 = 8u;
const NEG: f32 = -1.0e30;              // masked score (log2 units); real scores are far above it
const LOG2E: f32 = 1.4426950408889634;
const LN2: f32 = 0.6931471805599453;

// Rows of sh: a staged score pair (the A operand's row quads, then B's at B_ROW), or DP/4 dim
// quads of natural rows for the value products; then pbuf at PB, row quad r's DK-column chunk k in
// row PB + r·NCH + k. The backward stages its second score pair over pbuf, idle while scores are computed.
override B_ROW: u32 = BR / 4u;
override PAIR_ROWS: u32 = BR / 4u + BC / 4u;
override NCH: u32 = BC / DK;
override PB: u32 = max(PAIR_ROWS, DP / 4u);
var<workgroup> sh: array<array<vec4f, DK + 1u>, PB + max(BR / 4u * NCH, (PAIRS - 1u) * PAIR_ROWS)>;
var<workgroup> red: array<vec4f, BR * TC / 4u>;   // [tc][row quad]: per-thread partial row max / sum
var<workgroup> seq_info: vec4u;                   // q0, lq, k0, lk of the workgroup's sequence

struct AttnParams {
  hq: u32, hkv: u32, d: u32, n_seq: u32,
  tq: u32, tk: u32, blocks: u32, causal: u32,   // blocks: row blocks per sequence slot
  scale_log2: f32,                               // scale·log₂e
  scale: f32,
  lse_empty: f32,                                // +∞ for rows that see no key (no literal in WGSL)
  partial_at: u32,                               // word offset of the per-head dK/dV partials in work
  steps: u32,                                    // DK, as a runtime value for rolled loops
  head0: u32,                                    // first query head of the dispatch (wid.x = head − head0)
  ds_slot: u32,                                  // stored dS: floats per (head − head0, sequence) slot,
  ds_cols: u32,                                  // keys per row (dense slots), or 0: causal triangle
}
@group(0) @binding(0) var<uniform> P: AttnParams;

// Tensors the products stage. attn_fwd binds q at binding 4 as well: load() names d_out.
@group(0) @binding(1) var<storage, read> q: array<vec4f>;
@group(0) @binding(2) var<storage, read> k: array<vec4f>;
@group(0) @binding(3) var<storage, read> v: array<vec4f>;
@group(0) @binding(4) var<storage, read> d_out: array<vec4f>;
const SRC_Q = 0u;
const SRC_K = 1u;
const SRC_V = 2u;
const SRC_DO = 3u;

/** Element i of tensor `src`. Every call site passes a constant, so once inlined this is one load. */
fn load(src: u32, i: u32) -> vec4f {
  return select(select(q[i], k[i], src == SRC_K), select(v[i], d_out[i], src == SRC_DO), src >= SRC_V);
}

/** vec4 index of (token, head, dim) in a token-major tensor of `heads` heads. */
fn at4(token: u32, heads: u32, head: u32, dim: u32) -> u32 {
  return ((token * heads + head) * P.d + dim) / 4u;
}

// Transposed staging of head dims d0 ..< d0 + DK of `rows` token rows (tok0 + r, head) of `src`:
// sh[row0 + r/4][d][r % 4] holds dim d0 + d of row r. A work item is one row's dim quad, loaded as a
// vec4 and stored as 4 scalars. Item p is dim quad p % 2 + 2·(p / 2rows) of row (p / 2) % rows: two
// lanes read 32 contiguous bytes of a row, and a warp's scalar stores hit 32 distinct banks (the
// +1 padding of sh's rows starts row quad q at bank 4q, so row r's word lands in bank r + 16·(p % 2)).
// Thread lid owns items lid + k·WG, k < MAX_IT: staging row quads rather than 4 × 4 blocks keeps no
// more registers live across the barrier than the thread's share of the tile (a 4 × 4 block per
// thread held 4× that where the tile has fewer blocks than the workgroup has threads). The loads of
// every operand of a step are issued (fetch_t) before any store (put_t), so their latencies overlap.
// Rows ≥ valid and dims ≥ D read 0.
const MAX_IT: u32 = 8u;  // row quads per thread and operand (the host checks the tile)
alias Quads = array<vec4f, MAX_IT>;

/** (row, dim quad) of transposed staging item p of a `rows`-row operand. */
fn t_item(p: u32, rows: u32) -> vec2u {
  return vec2u((p / 2u) % rows, p % 2u + 2u * (p / (2u * rows)));
}

fn fetch_t(src: u32, rows: u32, tok0: u32, valid: u32, heads: u32, head: u32, d0: u32, lid: u32) -> Quads {
  var x = Quads();
  let n = rows * (DK / 4u);
  for (var k = 0u; k < MAX_IT; k++) {
    if (k * WG >= n) { break; }
    let p = lid + k * WG;
    let it = t_item(p, rows);
    let d = d0 + it.y * 4u;
    if (p < n && it.x < valid && d < P.d) { x[k] = load(src, at4(tok0 + it.x, heads, head, d)); }
  }
  return x;
}

fn put_t(row0: u32, rows: u32, lid: u32, x: Quads) {
  let n = rows * (DK / 4u);
  for (var k = 0u; k < MAX_IT; k++) {
    if (k * WG >= n) { break; }
    let p = lid + k * WG;
    if (p < n) {
      let it = t_item(p, rows);
      for (var e = 0u; e < 4u; e++) { sh[row0 + it.x / 4u][it.y * 4u + e][it.x % 4u] = x[k][e]; }
    }
  }
}

// Natural staging of DK token rows (tok0 + r, head) of `src`: sh[c][r] holds dim quad c of row r.
// Thread lid owns items lid + k·WG, k < MAX_N; fetch_n issues all its loads before put_n stores.
// Rows ≥ valid and dims ≥ D read 0.
const MAX_N: u32 = 8u;  // items per thread (the host checks the tile)

fn fetch_n(src: u32, tok0: u32, valid: u32, heads: u32, head: u32, lid: u32) -> array<vec4f, MAX_N> {
  var x = array<vec4f, MAX_N>();
  for (var k = 0u; k < MAX_N; k++) {
    let p = lid + k * WG;
    if (p >= DK * (DP / 4u)) { break; }
    let r = p / (DP / 4u);
    let c = p % (DP / 4u);
    if (r < valid && c * 4u < P.d) { x[k] = load(src, at4(tok0 + r, heads, head, c * 4u)); }
  }
  return x;
}

fn put_n(lid: u32, x: array<vec4f, MAX_N>) {
  for (var k = 0u; k < MAX_N; k++) {
    let p = lid + k * WG;
    if (p >= DK * (DP / 4u)) { break; }
    sh[p % (DP / 4u)][p / (DP / 4u)] = x[k];
  }
}

// WebGPU's robustness makes Tint guard every loop it cannot prove finite with a 64-bit iteration
// counter, and its proof needs a constant bound. A guarded loop has no static trip count, so the
// driver neither unrolls it nor keeps the accumulators it indexes in registers (measured: 40% of
// the attention time on an H100). The product loops therefore run to the constant DK on hardware
// adapters; software adapters keep them rolled, bounded by the uniform P.steps (= DK), because
// LLVM's compile time grows with the unrolled body.

/** Step d of mm_scores. */
fn score_step(acc: ptr<function, array<vec4f, MAX_S>>, base: u32, tr: u32, tc: u32, d: u32) {
  var a: array<vec4f, MAX_RQ>;
  for (var i = 0u; i < RQ; i++) { a[i] = sh[base + tr * RQ + i][d]; }
  for (var c = 0u; c < CS; c++) {
    let b = sh[base + B_ROW + tc + TC * c][d];
    for (var r = 0u; r < RM; r++) { (*acc)[r * CS + c] = fma(vec4f(a[r / 4u][r % 4u]), b, (*acc)[r * CS + c]); }
  }
}

/** acc[r·CS + c] += Σ_{d < DK} A[row r][d]·B[col quad c][d] over the pair staged from row `base`. */
fn mm_scores(acc: ptr<function, array<vec4f, MAX_S>>, base: u32, tr: u32, tc: u32) {
  if (UNROLL) {
    for (var d = 0u; d < DK; d++) { score_step(acc, base, tr, tc, d); }
  } else {
    for (var d = 0u; d < P.steps; d++) { score_step(acc, base, tr, tc, d); }
  }
}

/** Step j of mm_values. */
fn value_step(acc: ptr<function, array<vec4f, MAX_O>>, j0: u32, tr: u32, tc: u32, j: u32) {
  var a: array<vec4f, MAX_RQ>;
  for (var i = 0u; i < RQ; i++) { a[i] = sh[PB + (tr * RQ + i) * NCH + j0 / DK][j]; }
  for (var c = 0u; c < CO; c++) {
    let b = sh[tc + TC * c][j];
    for (var r = 0u; r < RM; r++) { (*acc)[r * CO + c] = fma(vec4f(a[r / 4u][r % 4u]), b, (*acc)[r * CO + c]); }
  }
}

/** acc[r·CO + c] += Σ_{j < DK} pbuf[row r][j0 + j]·stage[quad c][j]; j0 is a multiple of DK. */
fn mm_values(acc: ptr<function, array<vec4f, MAX_O>>, j0: u32, tr: u32, tc: u32) {
  if (UNROLL) {
    for (var j = 0u; j < DK; j++) { value_step(acc, j0, tr, tc, j); }
  } else {
    for (var j = 0u; j < P.steps; j++) { value_step(acc, j0, tr, tc, j); }
  }
}

/** Writes column `col` of the thread's RM rows into pbuf as row quads. */
fn put_column(col: u32, tr: u32, vals: array<f32, MAX_RM>) {
  for (var i = 0u; i < RQ; i++) {
    sh[PB + (tr * RQ + i) * NCH + col / DK][col % DK] = vec4f(vals[4u * i], vals[4u * i + 1u], vals[4u * i + 2u], vals[4u * i + 3u]);
  }
}

/** Writes this thread's per-row values (a partial row max or sum) to red[tc][row quad]. */
fn put_partials(tr: u32, tc: u32, vals: array<f32, MAX_RM>) {
  for (var i = 0u; i < RQ; i++) {
    red[tc * (BR / 4u) + tr * RQ + i] = vec4f(vals[4u * i], vals[4u * i + 1u], vals[4u * i + 2u], vals[4u * i + 3u]);
  }
}

/** Thread column t's value for row r of thread row tr. */
fn partial(t: u32, tr: u32, r: u32) -> f32 {
  return red[t * (BR / 4u) + tr * RQ + r / 4u][r % 4u];
}

/** Query i sees key j (local indices) of a sequence with lq queries and lk keys. */
fn visible(i: u32, j: u32, lq: u32, lk: u32) -> bool {
  return i < lq && j < lk && (P.causal == 0u || j + lq <= i + lk);
}

/** Every query i0 ..< i0 + ni sees every key j0 ..< j0 + nj (the block needs no mask). */
fn all_visible(i0: u32, ni: u32, j0: u32, nj: u32, lq: u32, lk: u32) -> bool {
  return i0 + ni <= lq && j0 + nj <= lk && (P.causal == 0u || j0 + nj - 1u + lq <= i0 + lk);
}

/** Keys [0, end) that any of the queries [0, i_end) can see. */
fn keys_seen(i_end: u32, lq: u32, lk: u32) -> u32 {
  if (P.causal == 0u) { return lk; }
  return u32(clamp(i32(i_end) + i32(lk) - i32(lq), 0, i32(lk)));
}

/** First query that sees key j. */
fn first_query(j: u32, lq: u32, lk: u32) -> u32 {
  if (P.causal == 0u) { return 0u; }
  return u32(max(i32(j) + i32(lq) - i32(lk), 0));
}

// ── forward ─────────────────────────────────────────────────────────────────────────────────
@group(0) @binding(5) var<storage, read> f_cu_q: array<i32>;
@group(0) @binding(6) var<storage, read> f_cu_k: array<i32>;
@group(0) @binding(7) var<storage, read_write> f_out: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> f_lse: array<f32>;

@compute @workgroup_size(WG)
fn attn_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let s = wid.y;
  let blk = P.blocks - 1u - wid.z;  // causal blocks with the most keys start first (see the header)
  let hk = h / (P.hq / P.hkv);
  if (lid == 0u) {
    let q0 = u32(f_cu_q[s]);
    let k0 = u32(f_cu_k[s]);
    seq_info = vec4u(q0, u32(f_cu_q[s + 1u]) - q0, k0, u32(f_cu_k[s + 1u]) - k0);
  }
  let info = workgroupUniformLoad(&seq_info);
  let q0 = info.x; let lq = info.y; let k0 = info.z; let lk = info.w;
  let r0 = blk * BR;
  if (r0 >= lq) { return; }
  let nq = min(BR, lq - r0);
  let kend = keys_seen(r0 + nq, lq, lk);
  let tr = lid / TC;
  let tc = lid % TC;

  var m = array<f32, MAX_RM>();
  var l = array<f32, MAX_RM>();  // this thread's share of Σ exp2(s − m) (its columns only)
  var o = array<vec4f, MAX_O>();
  for (var r = 0u; r < RM; r++) { m[r] = NEG; }

  for (var j0 = 0u; j0 < kend; j0 += BC) {
    var sc = array<vec4f, MAX_S>();
    for (var d0 = 0u; d0 < P.d; d0 += DK) {
      let xq = fetch_t(SRC_Q, BR, q0 + r0, nq, P.hq, h, d0, lid);
      let xk = fetch_t(SRC_K, BC, k0 + j0, min(BC, lk - j0), P.hkv, hk, d0, lid);
      workgroupBarrier();  // loads above are in flight while the last product finishes
      put_t(0u, BR, lid, xq);
      put_t(B_ROW, BC, lid, xk);
      workgroupBarrier();
      mm_scores(&sc, 0u, tr, tc);
    }
    // Mask and convert to log2 units; the row max over the TC threads of each row goes through red.
    let full = all_visible(r0, BR, j0, BC, lq, lk);
    var rmax = array<f32, MAX_RM>();
    for (var r = 0u; r < RM; r++) {
      rmax[r] = NEG;
      let i = r0 + tr * RM + r;
      for (var c = 0u; c < CS; c++) {
        for (var e = 0u; e < 4u; e++) {
          let x = select(NEG, sc[r * CS + c][e] * P.scale_log2, full || visible(i, j0 + (tc + TC * c) * 4u + e, lq, lk));
          sc[r * CS + c][e] = x;
          rmax[r] = max(rmax[r], x);
        }
      }
    }
    put_partials(tr, tc, rmax);
    workgroupBarrier();
    var alpha = array<f32, MAX_RM>();
    for (var r = 0u; r < RM; r++) {
      var mx = m[r];
      for (var t = 0u; t < TC; t++) { mx = max(mx, partial(t, tr, r)); }
      alpha[r] = exp2(m[r] - mx);
      m[r] = mx;
    }
    // P = exp2(s − m), 0 where masked; l and O are rescaled to the new max.
    for (var r = 0u; r < RM; r++) {
      var rowsum = 0.0;
      for (var c = 0u; c < CS; c++) {
        for (var e = 0u; e < 4u; e++) {
          let x = sc[r * CS + c][e];
          let p = select(0.0, exp2(x - m[r]), x > NEG);
          sc[r * CS + c][e] = p;
          rowsum += p;
        }
      }
      l[r] = l[r] * alpha[r] + rowsum;
      for (var c = 0u; c < CO; c++) { o[r * CO + c] *= alpha[r]; }
    }
    for (var c = 0u; c < CS; c++) {
      for (var e = 0u; e < 4u; e++) {
        var col = array<f32, MAX_RM>();
        for (var r = 0u; r < RM; r++) { col[r] = sc[r * CS + c][e]; }
        put_column((tc + TC * c) * 4u + e, tr, col);
      }
    }
    // O += P·V over the keys this block can see.
    let jn = min(BC, kend - j0);
    for (var jc = 0u; jc < jn; jc += DK) {
      let xn = fetch_n(SRC_V, k0 + j0 + jc, min(DK, lk - (j0 + jc)), P.hkv, hk, lid);
      workgroupBarrier();  // loads above are in flight while the last product finishes
      put_n(lid, xn);
      workgroupBarrier();
      mm_values(&o, jc, tr, tc);
    }
  }

  // l = Σ over the TC threads of each row, in tc order; then normalise and write.
  workgroupBarrier();
  put_partials(tr, tc, l);
  workgroupBarrier();
  for (var r = 0u; r < RM; r++) {
    let i = r0 + tr * RM + r;
    if (i >= lq) { continue; }
    var lsum = 0.0;
    for (var t = 0u; t < TC; t++) { lsum += partial(t, tr, r); }
    let inv = select(0.0, 1.0 / lsum, lsum > 0.0);
    for (var c = 0u; c < CO; c++) {
      let dq = (tc + TC * c) * 4u;
      if (dq < P.d) { f_out[at4(q0 + i, P.hq, h, dq)] = o[r * CO + c] * inv; }
    }
    if (tc == 0u) { f_lse[h * P.tq + q0 + i] = select(P.lse_empty, (m[r] + log2(lsum)) * LN2, lsum > 0.0); }
  }
}

// ── backward ────────────────────────────────────────────────────────────────────────────────
// work (32-bit words; floats stored as their bits): lse₂ [Hq·Tq] | δ [Hq·Tq] | table: (q0, lq, k0, lk)
// per sequence | at P.partial_at: dK, dV per query head, [2][Tk][Hq][D].
@group(0) @binding(5) var<storage, read_write> work: array<u32>;

/** Loads the workgroup's sequence (q0, lq, k0, lk) from the table so every thread sees it as uniform. */
fn load_seq(s: u32, lid: u32) -> vec4u {
  if (lid == 0u) {
    let at = 2u * P.hq * P.tq + 4u * s;
    seq_info = vec4u(work[at], work[at + 1u], work[at + 2u], work[at + 3u]);
  }
  return workgroupUniformLoad(&seq_info);
}

// prep: one thread per (head, query row), and the table rows of the first n_seq threads.
@group(0) @binding(1) var<storage, read> pr_out: array<vec4f>;
@group(0) @binding(2) var<storage, read> pr_lse: array<f32>;
@group(0) @binding(3) var<storage, read> pr_cu_q: array<i32>;
@group(0) @binding(6) var<storage, read> pr_cu_k: array<i32>;

@compute @workgroup_size(256)
fn attn_bwd_prep(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * 256u;
  let rows = P.hq * P.tq;
  if (idx < rows) {
    let h = idx / P.tq;
    let t = idx % P.tq;
    var delta = 0.0;
    for (var dq = 0u; dq < P.d; dq += 4u) {
      let at = at4(t, P.hq, h, dq);
      delta += dot(d_out[at], pr_out[at]);
    }
    work[idx] = bitcast<u32>(pr_lse[idx] * LOG2E);
    work[rows + idx] = bitcast<u32>(delta);
  }
  if (idx < P.n_seq) {
    let q0 = pr_cu_q[idx];
    let k0 = pr_cu_k[idx];
    let at = 2u * rows + 4u * idx;
    work[at] = u32(q0);
    work[at + 1u] = u32(pr_cu_q[idx + 1u] - q0);
    work[at + 2u] = u32(k0);
    work[at + 3u] = u32(pr_cu_k[idx + 1u] - k0);
  }
}

// Stored dS, written by dkdv and read by dq_ds, per (dispatch head hl, sequence s) slot, in
// super-blocks of 64 query rows. A super-block holds its rows' keys 8 at a time: key tile jt is
// 64 rows × 8 keys, [row][key], 512 floats, so that each K-tile dq_ds reads is one contiguous
// 2 KiB run instead of 32-byte pieces of 64 rows far apart (on the H100 the two layouts timed
// within run-to-run noise: the reads are not what bounds dq_ds). Dense slots (ds_cols > 0) give
// every row ds_cols keys (padded to 64). Where every sequence is causal with as many queries as keys,
// super-block qb sees keys below (qb + 1)·64 only, so the slot holds just those: super-block qb
// starts at 64·64·qb(qb + 1)/2. dkdv's br and bc divide 64, so no block it writes crosses a
// super-block's end; dq_ds reads only the quads that hold a key their row sees.
@group(0) @binding(6) var<storage, read_write> ds_out: array<vec4f>;
@group(0) @binding(7) var<storage, read> ds_in: array<vec4f>;

/** vec4 index of keys j ..< j + 4 (j a multiple of 4) of local query row i of sequence s in head hl's stored dS. */
fn ds_at(hl: u32, s: u32, i: u32, j: u32) -> u32 {
  let qb = i / 64u;
  let slot = (hl * P.n_seq + s) * P.ds_slot;
  let block = select(2048u * qb * (qb + 1u), qb * 64u * P.ds_cols, P.ds_cols > 0u);
  return (slot + block + (j / 8u) * 512u + (i % 64u) * 8u + j % 8u) / 4u;
}

// dkdv: rows are the BR keys of the block, columns the queries. Writes this query head's dK, dV
// (and with STORE_DS its dS, as [query][key]).
@compute @workgroup_size(WG)
fn attn_bwd_dkdv(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let h = P.head0 + wid.x;
  let s = wid.y;
  let c0 = wid.z * BR;  // first key of the block; early keys (most queries) start first
  let hk = h / (P.hq / P.hkv);
  let info = load_seq(s, lid);
  let q0 = info.x; let lq = info.y; let k0 = info.z; let lk = info.w;
  if (c0 >= lk) { return; }
  let nk = min(BR, lk - c0);
  let tr = lid / TC;
  let tc = lid % TC;
  let lse_at = h * P.tq + q0;
  let delta_at = P.hq * P.tq + lse_at;

  var dk = array<vec4f, MAX_O>();
  var dv = array<vec4f, MAX_O>();
  for (var i0 = first_query(c0, lq, lk) / BC * BC; i0 < lq; i0 += BC) {
    var sc = array<vec4f, MAX_S>();  // Sᵀ, then P
    var dp = array<vec4f, MAX_S>();  // dPᵀ, then dS
    let qn = min(BC, lq - i0);
    for (var d0 = 0u; d0 < P.d; d0 += DK) {
      let xk = fetch_t(SRC_K, BR, k0 + c0, nk, P.hkv, hk, d0, lid);
      let xq = fetch_t(SRC_Q, BC, q0 + i0, qn, P.hq, h, d0, lid);
      let xv = fetch_t(SRC_V, BR, k0 + c0, nk, P.hkv, hk, d0, lid);
      let xo = fetch_t(SRC_DO, BC, q0 + i0, qn, P.hq, h, d0, lid);
      workgroupBarrier();  // loads above are in flight while the last product finishes
      put_t(0u, BR, lid, xk);
      put_t(B_ROW, BC, lid, xq);
      put_t(PB, BR, lid, xv);
      put_t(PB + B_ROW, BC, lid, xo);
      workgroupBarrier();
      mm_scores(&sc, 0u, tr, tc);
      mm_scores(&dp, PB, tr, tc);
    }
    // P = exp2(s − lse₂) and dS = P ⊙ (dP − δ) on visible pairs; P goes to pbuf as [query][key quad].
    let full = all_visible(i0, BC, c0, BR, lq, lk);
    workgroupBarrier();  // the dP operands staged over pbuf have been read
    for (var c = 0u; c < CS; c++) {
      for (var e = 0u; e < 4u; e++) {
        let i = i0 + (tc + TC * c) * 4u + e;
        let ic = min(i, lq - 1u);  // clamp reads for columns past the sequence (masked anyway)
        let lse2 = bitcast<f32>(work[lse_at + ic]);
        let delta = bitcast<f32>(work[delta_at + ic]);
        var col: array<f32, MAX_RM>;
        for (var r = 0u; r < RM; r++) {
          let p = select(0.0, exp2(sc[r * CS + c][e] * P.scale_log2 - lse2), full || visible(i, c0 + tr * RM + r, lq, lk));
          sc[r * CS + c][e] = p;
          dp[r * CS + c][e] = p * (dp[r * CS + c][e] - delta);
          col[r] = p;
        }
        if (STORE_DS && i < lq) {
          for (var x = 0u; x < RQ; x++) {
            ds_out[ds_at(wid.x, s, i, c0 + tr * RM + 4u * x)] = vec4f(dp[4u * x * CS + c][e], dp[(4u * x + 1u) * CS + c][e], dp[(4u * x + 2u) * CS + c][e], dp[(4u * x + 3u) * CS + c][e]);
          }
        }
        put_column((tc + TC * c) * 4u + e, tr, col);
      }
    }
    for (var ic = 0u; ic < qn; ic += DK) {
      let xn = fetch_n(SRC_DO, q0 + i0 + ic, min(DK, lq - (i0 + ic)), P.hq, h, lid);
      workgroupBarrier();  // loads above are in flight while the last product finishes
      put_n(lid, xn);
      workgroupBarrier();
      mm_values(&dv, ic, tr, tc);
    }
    workgroupBarrier();
    for (var c = 0u; c < CS; c++) {
      for (var e = 0u; e < 4u; e++) {
        var col: array<f32, MAX_RM>;
        for (var r = 0u; r < RM; r++) { col[r] = dp[r * CS + c][e]; }
        put_column((tc + TC * c) * 4u + e, tr, col);
      }
    }
    for (var ic = 0u; ic < qn; ic += DK) {
      let xn = fetch_n(SRC_Q, q0 + i0 + ic, min(DK, lq - (i0 + ic)), P.hq, h, lid);
      workgroupBarrier();  // loads above are in flight while the last product finishes
      put_n(lid, xn);
      workgroupBarrier();
      mm_values(&dk, ic, tr, tc);
    }
  }

  let half = P.tk * P.hq * P.d;
  for (var r = 0u; r < RM; r++) {
    let j = tr * RM + r;
    if (j >= nk) { continue; }
    for (var c = 0u; c < CO; c++) {
      let dq = (tc + TC * c) * 4u;
      if (dq >= P.d) { continue; }
      let at = P.partial_at + ((k0 + c0 + j) * P.hq + h) * P.d + dq;
      let gk = dk[r * CO + c] * P.scale;
      let gv = dv[r * CO + c];
      for (var e = 0u; e < 4u; e++) {
        work[at + e] = bitcast<u32>(gk[e]);
        work[half + at + e] = bitcast<u32>(gv[e]);
      }
    }
  }
}

// dq: rows are the BR queries of the block, columns the keys.
@group(0) @binding(6) var<storage, read_write> gq: array<vec4f>;

/** The query block a dq workgroup owns: its sequence s, query head h (of kv head hk), the sequence's
 *  rows (q0, lq, k0, lk), the block's first row r0 and the keys it sees, kend. */
struct QueryBlock { s: u32, h: u32, hk: u32, q0: u32, lq: u32, k0: u32, lk: u32, r0: u32, kend: u32 }

fn query_block(wid: vec3u, lid: u32) -> QueryBlock {
  let h = P.head0 + wid.x;
  let s = wid.y;
  let info = load_seq(s, lid);
  let r0 = (P.blocks - 1u - wid.z) * BR;  // causal blocks with the most keys start first
  let kend = keys_seen(min(r0 + BR, info.y), info.y, info.w);
  return QueryBlock(s, h, h / (P.hq / P.hkv), info.x, info.y, info.z, info.w, r0, kend);
}

/** acc += pbuf · K over the block's keys j0 ..< j0 + BC that it sees, DK rows of K staged at a time. */
fn add_pbuf_k(acc: ptr<function, array<vec4f, MAX_O>>, b: QueryBlock, j0: u32, lid: u32, tr: u32, tc: u32) {
  let jn = min(BC, b.kend - j0);
  for (var jc = 0u; jc < jn; jc += DK) {
    let xn = fetch_n(SRC_K, b.k0 + j0 + jc, min(DK, b.lk - (j0 + jc)), P.hkv, b.hk, lid);
    workgroupBarrier();  // loads above are in flight while the last product finishes
    put_n(lid, xn);
    workgroupBarrier();
    mm_values(acc, jc, tr, tc);
  }
}

@compute @workgroup_size(WG)
fn attn_bwd_dq(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let b = query_block(wid, lid);
  if (b.r0 >= b.lq) { return; }
  let h = b.h; let hk = b.hk; let q0 = b.q0; let lq = b.lq; let k0 = b.k0; let lk = b.lk; let r0 = b.r0; let kend = b.kend;
  let nq = min(BR, lq - r0);
  let tr = lid / TC;
  let tc = lid % TC;

  var lse2 = array<f32, MAX_RM>();
  var delta = array<f32, MAX_RM>();
  for (var r = 0u; r < RM; r++) {
    let i = min(r0 + tr * RM + r, lq - 1u);  // rows past the sequence are masked
    lse2[r] = bitcast<f32>(work[h * P.tq + q0 + i]);
    delta[r] = bitcast<f32>(work[(P.hq + h) * P.tq + q0 + i]);
  }
  var acc = array<vec4f, MAX_O>();
  for (var j0 = 0u; j0 < kend; j0 += BC) {
    var sc = array<vec4f, MAX_S>();
    var dp = array<vec4f, MAX_S>();
    let kn = min(BC, lk - j0);
    for (var d0 = 0u; d0 < P.d; d0 += DK) {
      let xq = fetch_t(SRC_Q, BR, q0 + r0, nq, P.hq, h, d0, lid);
      let xk = fetch_t(SRC_K, BC, k0 + j0, kn, P.hkv, hk, d0, lid);
      let xo = fetch_t(SRC_DO, BR, q0 + r0, nq, P.hq, h, d0, lid);
      let xv = fetch_t(SRC_V, BC, k0 + j0, kn, P.hkv, hk, d0, lid);
      workgroupBarrier();  // loads above are in flight while the last product finishes
      put_t(0u, BR, lid, xq);
      put_t(B_ROW, BC, lid, xk);
      put_t(PB, BR, lid, xo);
      put_t(PB + B_ROW, BC, lid, xv);
      workgroupBarrier();
      mm_scores(&sc, 0u, tr, tc);
      mm_scores(&dp, PB, tr, tc);
    }
    let full = all_visible(r0, BR, j0, BC, lq, lk);
    workgroupBarrier();  // the dP operands staged over pbuf have been read
    for (var c = 0u; c < CS; c++) {
      for (var e = 0u; e < 4u; e++) {
        let j = j0 + (tc + TC * c) * 4u + e;
        var col: array<f32, MAX_RM>;
        for (var r = 0u; r < RM; r++) {
          let p = select(0.0, exp2(sc[r * CS + c][e] * P.scale_log2 - lse2[r]), full || visible(r0 + tr * RM + r, j, lq, lk));
          col[r] = p * (dp[r * CS + c][e] - delta[r]);
        }
        put_column((tc + TC * c) * 4u + e, tr, col);
      }
    }
    add_pbuf_k(&acc, b, j0, lid, tr, tc);
  }
  put_dq(&acc, q0, r0, lq, h, tr, tc);
}

/** gq rows r0 + tr·RM + r (those below lq) of head h = scale·acc. */
fn put_dq(acc: ptr<function, array<vec4f, MAX_O>>, q0: u32, r0: u32, lq: u32, h: u32, tr: u32, tc: u32) {
  for (var r = 0u; r < RM; r++) {
    let i = r0 + tr * RM + r;
    if (i >= lq) { continue; }
    for (var c = 0u; c < CO; c++) {
      let dq = (tc + TC * c) * 4u;
      if (dq < P.d) { gq[at4(q0 + i, P.hq, h, dq)] = (*acc)[r * CO + c] * P.scale; }
    }
  }
}

// dq_ds: dQ = scale·dS·K, a tiled product of the dS rows dkdv stored and the kv head's K rows, in
// the matmul's form (shaders/matmul.wgsl): a workgroup owns 64 query rows × the head dim padded to
// 8·DQ_WX, with DQ_WX × 16 threads; thread (tx, ty) holds rows 4ty + r and dims 4tx + c and
// 4·DQ_WX + 4tx + c (r, c < 4), so per key it reads one vec4 of dS and 2 of K for 8 vec4 fmas.
// Measured on an H100 (4k tokens d 128; the 0.5B step's 24 layers, d 64), with two staging
// buffers at the time: 8 rows a thread 1.38 against 1.34 ms and 10.5 against 6.2 ms (d 64 left too
// few workgroups); K-tiles of 16 keys 1.46 against 1.27 ms and 9.2 against 6.8 ms. The ring below
// then took 1.20 and 6.2 ms.
// Keys advance in K-tiles of DQ_BK through a ring of three staging buffers, as the matmul's ring
// (shaders/matmul.wgsl): each K-tile stores the next one (loaded during the last product) into
// the next buffer, which last held the K-tile before the last, loads the one after it, then
// multiplies, and one barrier ends it; a load has a whole product to arrive and its stores are
// long done when the barrier comes. (With two buffers, each K-tile storing into the one the last
// product read, the matmul's 4096³ product ran at 32.6 TFLOP/s against 46 on an H100.) Every output
// is the fma chain over j of dS[i][j]·K[j] in increasing j, as in attn_bwd_dq, so the bits agree;
// pairs a query does not see read 0 (dkdv writes only the blocks each key block visits).
// A K-tile holds 128 dS quads (64 rows × 2) and 2·DP K quads; with DP ≥ 64 (the host pads it)
// there are at least 128 threads, so each thread loads at most one dS quad and exactly one K quad.
override DQ_WX: u32 = DP / 8u;                 // threads along the head dim (DP: d rounded up to 8, at least 64)
const DQ_BK: u32 = 8u;                         // keys per K-tile
// [key kk][16·buffer + row quad]: row quad q of buffer b holds rows 4q..4q+3 of the block at key
// kk; the +1 puts kk and kk + 4 half a bank row apart, so the transposed stores of a warp (rows
// p / 2, keys 4·(p % 2) + e) hit 32 distinct banks.
var<workgroup> dq_a: array<array<vec4f, 49>, DQ_BK>;
var<workgroup> dq_b: array<array<vec4f, 96>, DQ_BK>;  // [key kk][32·buffer + dim quad]

/** One thread's share of a K-tile: dS quad lid (row lid / 2, 4 keys) and K quad lid (a key's 4 dims). */
struct DqShare { a: vec4f, b: vec4f }

/** Loads this thread's share of the K-tile of keys j0 ..< j0 + DQ_BK for block b (dispatch head hl). */
fn dq_fetch(b: QueryBlock, hl: u32, j0: u32, lid: u32) -> DqShare {
  var x = DqShare(vec4f(0.0), vec4f(0.0));
  let i = b.r0 + lid / 2u;
  let j = j0 + 4u * (lid % 2u);
  // Only quads with a visible key are read: the triangle slot holds no keys past a row's.
  if (lid < 128u && visible(i, j, b.lq, b.lk)) {
    let y = ds_in[ds_at(hl, b.s, i, j)];
    for (var c = 0u; c < 4u; c++) { x.a[c] = select(0.0, y[c], visible(i, j + c, b.lq, b.lk)); }
  }
  let r = lid / (DP / 4u);
  let c = lid % (DP / 4u);
  if (j0 + r < b.lk && 4u * c < P.d) { x.b = k[at4(b.k0 + j0 + r, P.hkv, b.hk, 4u * c)]; }
  return x;
}

/** Stores this thread's share into buffer `buf`, dS transposed: dq_a[key][row quad][row % 4]. */
fn dq_stash(buf: u32, x: DqShare, lid: u32) {
  if (lid < 128u) {
    let row = lid / 2u;
    let kk = 4u * (lid % 2u);
    let q = 16u * buf + row / 4u;
    dq_a[kk][q][row % 4u] = x.a.x;
    dq_a[kk + 1u][q][row % 4u] = x.a.y;
    dq_a[kk + 2u][q][row % 4u] = x.a.z;
    dq_a[kk + 3u][q][row % 4u] = x.a.w;
  }
  dq_b[lid / (DP / 4u)][32u * buf + lid % (DP / 4u)] = x.b;
}

// The thread's outputs, dq{r}{h}: row 4ty + r, dims 4tx.. (h = 0) or 4·DQ_WX + 4tx.. (h = 1).
// Module-scope, as the matmul's accumulators, so that dq_step can update them.
var<private> dq00: vec4f; var<private> dq01: vec4f;
var<private> dq10: vec4f; var<private> dq11: vec4f;
var<private> dq20: vec4f; var<private> dq21: vec4f;
var<private> dq30: vec4f; var<private> dq31: vec4f;

/** Key kk of the K-tile in buffer `buf`: every output takes one fma. */
fn dq_step(buf: u32, kk: u32, tx: u32, ty: u32) {
  let a = dq_a[kk][16u * buf + ty];
  let b0 = dq_b[kk][32u * buf + tx];
  let b1 = dq_b[kk][32u * buf + DQ_WX + tx];
  dq00 = fma(vec4f(a.x), b0, dq00); dq01 = fma(vec4f(a.x), b1, dq01);
  dq10 = fma(vec4f(a.y), b0, dq10); dq11 = fma(vec4f(a.y), b1, dq11);
  dq20 = fma(vec4f(a.z), b0, dq20); dq21 = fma(vec4f(a.z), b1, dq21);
  dq30 = fma(vec4f(a.w), b0, dq30); dq31 = fma(vec4f(a.w), b1, dq31);
}

/** The K-tile in buffer `buf`, its keys written out (NVIDIA's compiler leaves a loop over them rolled: see shaders/matmul.wgsl). */
fn dq_ktile(buf: u32, tx: u32, ty: u32) {
  dq_step(buf, 0u, tx, ty); dq_step(buf, 1u, tx, ty); dq_step(buf, 2u, tx, ty); dq_step(buf, 3u, tx, ty);
  dq_step(buf, 4u, tx, ty); dq_step(buf, 5u, tx, ty); dq_step(buf, 6u, tx, ty); dq_step(buf, 7u, tx, ty);
}

/** gq row i (local; below lq) of block b, dims 4tx.. and 4·DQ_WX + 4tx.. = scale·(lo, hi). */
fn dq_put(b: QueryBlock, i: u32, tx: u32, lo: vec4f, hi: vec4f) {
  if (i >= b.lq) { return; }
  if (4u * tx < P.d) { gq[at4(b.q0 + i, P.hq, b.h, 4u * tx)] = lo * P.scale; }
  if (4u * (DQ_WX + tx) < P.d) { gq[at4(b.q0 + i, P.hq, b.h, 4u * (DQ_WX + tx))] = hi * P.scale; }
}

@compute @workgroup_size(WG)
fn attn_bwd_dq_ds(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let b = query_block(wid, lid);
  if (b.r0 >= b.lq) { return; }
  let tx = lid % DQ_WX;
  let ty = lid / DQ_WX;
  let tiles = (b.kend + DQ_BK - 1u) / DQ_BK;
  var x = dq_fetch(b, wid.x, 0u, lid);
  dq_stash(0u, x, lid);
  if (tiles > 1u) { x = dq_fetch(b, wid.x, DQ_BK, lid); }
  workgroupBarrier();
  // Three K-tiles an iteration, so that each product's buffer is a constant (see the matmul's ring).
  var t = 0u;
  for (; t + 3u <= tiles; t += 3u) {
    dq_stash(1u, x, lid);
    x = dq_fetch(b, wid.x, (t + 2u) * DQ_BK, lid);
    dq_ktile(0u, tx, ty);
    workgroupBarrier();
    dq_stash(2u, x, lid);
    if (t + 3u < tiles) { x = dq_fetch(b, wid.x, (t + 3u) * DQ_BK, lid); }
    dq_ktile(1u, tx, ty);
    workgroupBarrier();
    if (t + 3u < tiles) { dq_stash(0u, x, lid); }
    if (t + 4u < tiles) { x = dq_fetch(b, wid.x, (t + 4u) * DQ_BK, lid); }
    dq_ktile(2u, tx, ty);
    workgroupBarrier();
  }
  for (; t < tiles; t++) {
    let cur = t % 3u;
    if (t + 1u < tiles) { dq_stash((cur + 1u) % 3u, x, lid); }
    if (t + 2u < tiles) { x = dq_fetch(b, wid.x, (t + 2u) * DQ_BK, lid); }
    dq_ktile(cur, tx, ty);
    workgroupBarrier();
  }
  let r = b.r0 + 4u * ty;
  dq_put(b, r, tx, dq00, dq01);
  dq_put(b, r + 1u, tx, dq10, dq11);
  dq_put(b, r + 2u, tx, dq20, dq21);
  dq_put(b, r + 3u, tx, dq30, dq31);
}

// reduce_kv: one thread per (key row, kv head, dim quad) of the key rows the sequences cover.
@group(0) @binding(1) var<storage, read_write> r_gk: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> r_gv: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> r_work: array<vec4u>;

fn work_word(i: u32) -> u32 {
  return r_work[i / 4u][i % 4u];
}

@compute @workgroup_size(256)
fn attn_bwd_reduce_kv(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * 256u;
  let quads = P.d / 4u;
  let t = idx / (P.hkv * quads);
  let hk = (idx / quads) % P.hkv;
  let dq = idx % quads;
  if (t >= P.tk) { return; }
  let table = 2u * P.hq * P.tq;
  let last = table + 4u * (P.n_seq - 1u);
  if (t < work_word(table + 2u) || t >= work_word(last + 2u) + work_word(last + 3u)) { return; }
  let group = P.hq / P.hkv;
  let base = P.partial_at / 4u;
  let half = P.tk * P.hq * quads;
  var gk = vec4f(0.0);
  var gv = vec4f(0.0);
  for (var g = 0u; g < group; g++) {
    let at = base + (t * P.hq + hk * group + g) * quads + dq;
    gk += bitcast<vec4f>(r_work[at]);
    gv += bitcast<vec4f>(r_work[half + at]);
  }
  r_gk[(t * P.hkv + hk) * quads + dq] = gk;
  r_gv[(t * P.hkv + hk) * quads + dq] = gv;
}
