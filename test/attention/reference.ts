// Float64 attention and RoPE written plainly from their definitions: the full score matrix per
// (sequence, head), softmax, and the textbook backward (dS = P ⊙ (dP − rowsum(P ⊙ dP))).

export interface AttentionShape {
  tq: number;
  tk: number;
  hq: number;
  hkv: number;
  d: number;
  cuQ: number[];
  cuK: number[];
  causal: boolean;
  scale: number;
}

type Rows = ArrayLike<number>;

/** Query i of a sequence with lq queries and lk keys sees key j. */
export function sees(i: number, j: number, lq: number, lk: number, causal: boolean): boolean {
  return j < lk && (!causal || j <= i + lk - lq);
}

interface Block {
  q0: number;
  lq: number;
  k0: number;
  lk: number;
  h: number;
  hk: number;
}

function* blocks(c: AttentionShape): Generator<Block> {
  for (let s = 0; s + 1 < c.cuQ.length; s++)
    for (let h = 0; h < c.hq; h++)
      yield { q0: c.cuQ[s], lq: c.cuQ[s + 1] - c.cuQ[s], k0: c.cuK[s], lk: c.cuK[s + 1] - c.cuK[s], h, hk: Math.floor(h / (c.hq / c.hkv)) };
}

const at = (t: number, heads: number, h: number, d: number) => (t * heads + h) * d;

/** P [lq × lk] of one block (0 on invisible pairs), and the row log-sum-exps. */
function probs(c: AttentionShape, b: Block, q: Rows, k: Rows): { p: Float64Array[]; lse: number[] } {
  const p: Float64Array[] = [];
  const lse: number[] = [];
  for (let i = 0; i < b.lq; i++) {
    const s = new Float64Array(b.lk).fill(-Infinity);
    for (let j = 0; j < b.lk; j++) {
      if (!sees(i, j, b.lq, b.lk, c.causal)) continue;
      let dot = 0;
      for (let e = 0; e < c.d; e++) dot += q[at(b.q0 + i, c.hq, b.h, c.d) + e] * k[at(b.k0 + j, c.hkv, b.hk, c.d) + e];
      s[j] = dot * c.scale;
    }
    const m = Math.max(...s);
    if (m === -Infinity) {
      p.push(new Float64Array(b.lk));
      lse.push(Infinity);
      continue;
    }
    let sum = 0;
    for (let j = 0; j < b.lk; j++) sum += Math.exp(s[j] - m);
    p.push(s.map((x) => Math.exp(x - m) / sum));
    lse.push(m + Math.log(sum));
  }
  return { p, lse };
}

/** out [tq, hq, d] and lse [hq, tq]; rows outside every sequence stay 0. */
export function attentionRef(c: AttentionShape, q: Rows, k: Rows, v: Rows): { out: Float64Array; lse: Float64Array } {
  const out = new Float64Array(c.tq * c.hq * c.d);
  const lse = new Float64Array(c.hq * c.tq);
  for (const b of blocks(c)) {
    const { p, lse: l } = probs(c, b, q, k);
    for (let i = 0; i < b.lq; i++) {
      lse[b.h * c.tq + b.q0 + i] = l[i];
      for (let j = 0; j < b.lk; j++)
        for (let e = 0; e < c.d; e++) out[at(b.q0 + i, c.hq, b.h, c.d) + e] += p[i][j] * v[at(b.k0 + j, c.hkv, b.hk, c.d) + e];
    }
  }
  return { out, lse };
}

export function attentionGradRef(c: AttentionShape, q: Rows, k: Rows, v: Rows, gOut: Rows): { gq: Float64Array; gk: Float64Array; gv: Float64Array } {
  const gq = new Float64Array(c.tq * c.hq * c.d);
  const gk = new Float64Array(c.tk * c.hkv * c.d);
  const gv = new Float64Array(c.tk * c.hkv * c.d);
  for (const b of blocks(c)) {
    const { p } = probs(c, b, q, k);
    for (let i = 0; i < b.lq; i++) {
      const go = at(b.q0 + i, c.hq, b.h, c.d);
      const dp = new Float64Array(b.lk);
      let rowDot = 0;
      for (let j = 0; j < b.lk; j++) {
        for (let e = 0; e < c.d; e++) dp[j] += gOut[go + e] * v[at(b.k0 + j, c.hkv, b.hk, c.d) + e];
        rowDot += p[i][j] * dp[j];
      }
      for (let j = 0; j < b.lk; j++) {
        const ds = p[i][j] * (dp[j] - rowDot) * c.scale;
        const kr = at(b.k0 + j, c.hkv, b.hk, c.d);
        for (let e = 0; e < c.d; e++) {
          gq[go + e] += ds * k[kr + e];
          gk[kr + e] += ds * q[go + e];
          gv[kr + e] += p[i][j] * gOut[go + e];
        }
      }
    }
  }
  return { gq, gk, gv };
}

/** out = x·cos + rotate_half(x)·sin on x [t, h, d] with tables [t, d]. */
export function ropeRef(x: Rows, cos: Rows, sin: Rows, t: number, h: number, d: number): Float64Array {
  const out = new Float64Array(t * h * d);
  const half = d / 2;
  for (let tok = 0; tok < t; tok++)
    for (let head = 0; head < h; head++)
      for (let i = 0; i < d; i++) {
        const r = (tok * h + head) * d;
        const rot = i < half ? -x[r + i + half] : x[r + i - half];
        out[r + i] = x[r + i] * cos[tok * d + i] + rot * sin[tok * d + i];
      }
  return out;
}
