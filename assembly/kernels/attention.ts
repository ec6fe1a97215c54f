// Attention and rotary embeddings (reference for shaders/attention.wgsl and shaders/rope.wgsl;
// the math is in src/backend/kernels.ts). The plain algorithm, one query row at a time: the
// forward runs an online softmax over the row's visible keys, accumulating into the output row;
// the backward recomputes P_ij = exp(S_ij − lse_i) and dS_ij = P_ij·(dO_i·v_j − δ_i), adding into
// gq_i, gk_j and gv_j in (sequence, head, query, key) order. O(T²·D) time, no scratch memory.
// Rows are d floats with d a multiple of 4, so dot products and row updates use f32x4.

/** Address of row (token, head) of a token-major tensor with `heads` heads of d floats. */
@inline function row(base: usize, token: i32, heads: i32, head: i32, d: i32): usize {
  return base + ((<usize>(token * heads + head) * <usize>d) << 2);
}

function dot(a: usize, b: usize, d: i32): f32 {
  let acc = f32x4.splat(0);
  for (let i = 0; i < d; i += 4) {
    const o = <usize>i << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  return f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
}

/** y = y·a + x·b over d floats. */
function scaleAdd(y: usize, a: f32, x: usize, b: f32, d: i32): void {
  const va = f32x4.splat(a);
  const vb = f32x4.splat(b);
  for (let i = 0; i < d; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(f32x4.mul(v128.load(y + o), va), f32x4.mul(v128.load(x + o), vb)));
  }
}

/** Query i of a sequence (lq queries, lk keys) sees keys [0, keyEnd). */
@inline function keyEnd(i: i32, lq: i32, lk: i32, causal: bool): i32 {
  return causal ? min(lk, max(0, i + lk - lq + 1)) : lk;
}

@inline function cu(base: usize, s: i32): i32 {
  return load<i32>(base + (<usize>s << 2));
}

export function attentionFwd(
  q: usize, k: usize, v: usize, cuQ: usize, cuK: usize, out: usize, lse: usize,
  nSeq: i32, tq: i32, hq: i32, hkv: i32, d: i32, causal: bool, scale: f32,
): void {
  const group = hq / hkv;
  for (let s = 0; s < nSeq; s++) {
    const q0 = cu(cuQ, s), lq = cu(cuQ, s + 1) - q0;
    const k0 = cu(cuK, s), lk = cu(cuK, s + 1) - k0;
    for (let h = 0; h < hq; h++) {
      const hk = h / group;
      for (let i = 0; i < lq; i++) {
        const qRow = row(q, q0 + i, hq, h, d);
        const oRow = row(out, q0 + i, hq, h, d);
        memory.fill(oRow, 0, <usize>d << 2);
        let m: f32 = -Infinity;
        let l: f32 = 0;
        const end = keyEnd(i, lq, lk, causal);
        for (let j = 0; j < end; j++) {
          const sc = dot(qRow, row(k, k0 + j, hkv, hk, d), d) * scale;
          let alpha: f32 = 1;
          if (sc > m) {
            alpha = Mathf.exp(m - sc);
            m = sc;
          }
          const p = Mathf.exp(sc - m);
          l = l * alpha + p;
          scaleAdd(oRow, alpha, row(v, k0 + j, hkv, hk, d), p, d);
        }
        if (l > 0) scaleAdd(oRow, 1 / l, oRow, 0, d);
        store<f32>(lse + (<usize>(h * tq + q0 + i) << 2), l > 0 ? m + Mathf.log(l) : <f32>Infinity);
      }
    }
  }
}

export function attentionBwd(
  q: usize, k: usize, v: usize, out: usize, lse: usize, gOut: usize, cuQ: usize, cuK: usize,
  gq: usize, gk: usize, gv: usize,
  nSeq: i32, tq: i32, hq: i32, hkv: i32, d: i32, causal: bool, scale: f32,
): void {
  const group = hq / hkv;
  const kvRowBytes = <usize>(hkv * d) << 2;
  for (let s = 0; s < nSeq; s++) {
    const k0 = cu(cuK, s), lk = cu(cuK, s + 1) - k0;
    memory.fill(row(gk, k0, hkv, 0, d), 0, kvRowBytes * <usize>lk);
    memory.fill(row(gv, k0, hkv, 0, d), 0, kvRowBytes * <usize>lk);
  }
  for (let s = 0; s < nSeq; s++) {
    const q0 = cu(cuQ, s), lq = cu(cuQ, s + 1) - q0;
    const k0 = cu(cuK, s), lk = cu(cuK, s + 1) - k0;
    for (let h = 0; h < hq; h++) {
      const hk = h / group;
      for (let i = 0; i < lq; i++) {
        const qRow = row(q, q0 + i, hq, h, d);
        const gRow = row(gOut, q0 + i, hq, h, d);
        const gqRow = row(gq, q0 + i, hq, h, d);
        memory.fill(gqRow, 0, <usize>d << 2);
        const delta = dot(gRow, row(out, q0 + i, hq, h, d), d);
        const lseI = load<f32>(lse + (<usize>(h * tq + q0 + i) << 2));
        const end = keyEnd(i, lq, lk, causal);
        for (let j = 0; j < end; j++) {
          const kRow = row(k, k0 + j, hkv, hk, d);
          const vRow = row(v, k0 + j, hkv, hk, d);
          const p = Mathf.exp(dot(qRow, kRow, d) * scale - lseI);
          const ds = p * (dot(gRow, vRow, d) - delta) * scale;
          scaleAdd(gqRow, 1, kRow, ds, d);
          scaleAdd(row(gk, k0 + j, hkv, hk, d), 1, qRow, ds, d);
          scaleAdd(row(gv, k0 + j, hkv, hk, d), 1, gRow, p, d);
        }
      }
    }
  }
}

/** out = x·cos + rotate_half(x)·sign·sin on x [t, h, d], tables [t, d]. */
export function rope(x: usize, cos: usize, sin: usize, out: usize, t: i32, h: i32, d: i32, sign: f32): void {
  const half = d >> 1;
  for (let tok = 0; tok < t; tok++) {
    const c = cos + (<usize>(tok * d) << 2);
    const sn = sin + (<usize>(tok * d) << 2);
    for (let head = 0; head < h; head++) {
      const xr = row(x, tok, h, head, d);
      const or = row(out, tok, h, head, d);
      for (let i = 0; i < half; i++) {
        const a = <usize>i << 2;
        const b = <usize>(i + half) << 2;
        const x1 = load<f32>(xr + a);
        const x2 = load<f32>(xr + b);
        store<f32>(or + a, x1 * load<f32>(c + a) - x2 * sign * load<f32>(sn + a));
        store<f32>(or + b, x2 * load<f32>(c + b) + x1 * sign * load<f32>(sn + b));
      }
    }
  }
}
