// Fused attention over packed variable-length sequences and rotary embeddings, as autograd
// ops over the attention/rope kernels (token-major q [Tq, Hq, D], k/v [Tk, Hkv, D]).
import { attentionGradScratchBytes } from '../../backend/kernels.js';
import { record } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import { expectShape, f32Inputs } from './check.js';

export interface AttentionOptions {
  /** Query-row boundaries of the packed sequences (0 … Tq). */
  cuSeqlensQ: ArrayLike<number>;
  /** Key-row boundaries (default: the query's); may end before Tk (a KV cache with spare capacity). */
  cuSeqlensK?: ArrayLike<number>;
  causal: boolean;
  /** Softmax scale (default 1/√D). */
  scale?: number;
}

function boundaries(name: string, cu: ArrayLike<number>, rows: number, exact: boolean): number[] {
  const c = Array.from(cu);
  if (c.length < 2 || c[0] !== 0 || c.some((v, i) => !Number.isInteger(v) || (i > 0 && v < c[i - 1])))
    throw new Error(`attention: ${name} ${JSON.stringify(c)} must be non-decreasing integers starting at 0`);
  const last = c[c.length - 1];
  if (exact ? last !== rows : last > rows) throw new Error(`attention: ${name} ends at ${last} but the tensor has ${rows} rows`);
  return c;
}

export function attention(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions): Tensor {
  f32Inputs('attention', q, k, v);
  if (q.rank !== 3 || k.rank !== 3) throw new Error(`attention: q and k must be [tokens, heads, headDim], got ${q.describe()} and ${k.describe()}`);
  const [tq, hq, d] = q.shape;
  const [tk, hkv] = k.shape;
  expectShape('attention', 'k', k.shape, [tk, hkv, d]);
  expectShape('attention', 'v', v.shape, [tk, hkv, d]);
  if (hq % hkv) throw new Error(`attention: ${hq} query heads are not a multiple of ${hkv} key/value heads`);
  if (d % 4 || d > 128) throw new Error(`attention: head dim ${d} must be a multiple of 4, at most 128`);
  const cuQ = boundaries('cuSeqlensQ', o.cuSeqlensQ, tq, true);
  const cuK = boundaries('cuSeqlensK', o.cuSeqlensK ?? o.cuSeqlensQ, tk, false);
  if (cuK.length !== cuQ.length) throw new Error(`attention: ${cuQ.length - 1} query sequences but ${cuK.length - 1} key sequences`);
  const rt = q.rt;
  const lens = (c: number[]) => Math.max(0, ...c.slice(1).map((e, i) => e - c[i]));
  const cuQt = rt.tensor(cuQ, [cuQ.length], 'i32');
  // One storage for equal boundaries tells the kernel that every sequence has Lq = Lk.
  const cuKt = cuK.every((c, i) => c === cuQ[i]) ? cuQt : rt.tensor(cuK, [cuK.length], 'i32');
  const out = rt.empty([tq, hq, d], 'f32', 'attention');
  const lse = rt.empty([hq, tq], 'f32', 'attention lse');
  const args = {
    q: q.storage,
    k: k.storage,
    v: v.storage,
    out: out.storage,
    lse: lse.storage,
    cuSeqlensQ: cuQt.storage,
    cuSeqlensK: cuKt.storage,
    nSeq: cuQ.length - 1,
    maxSeqlenQ: lens(cuQ),
    maxSeqlenK: lens(cuK),
    tq,
    tk,
    hq,
    hkv,
    d,
    causal: o.causal,
    scale: o.scale ?? 1 / Math.sqrt(d),
  };
  if (tq) rt.backend.attention(args);
  return record(out, 'attention', [q, k, v], (g) => {
    const gq = rt.empty(q.shape, 'f32', 'attention backward');
    // Key rows past the last sequence (unused cache capacity) are not written by the kernel.
    const gk = cuK[cuK.length - 1] < tk ? rt.zeros(k.shape) : rt.empty(k.shape, 'f32', 'attention backward');
    const gv = cuK[cuK.length - 1] < tk ? rt.zeros(v.shape) : rt.empty(v.shape, 'f32', 'attention backward');
    const scratch = rt.empty([attentionGradScratchBytes(args) / 4], 'f32', 'attention backward scratch');
    if (tq) rt.backend.attentionGrad({ ...args, q: q.storage, k: k.storage, v: v.storage, out: out.storage, lse: lse.storage, gOut: g.storage, gq: gq.storage, gk: gk.storage, gv: gv.storage, scratch: scratch.storage });
    scratch.release();
    return [gq, gk, gv];
  });
}

/** Rotate-half RoPE on x [T, H, D] with tables cos/sin [T, D] (constants: no gradient flows to them). */
export function rope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  f32Inputs('rope', x, cos, sin);
  if (x.rank !== 3) throw new Error(`rope: x must be [tokens, heads, headDim], got ${x.describe()}`);
  const [t, h, d] = x.shape;
  if (d % 2) throw new Error(`rope: head dim ${d} must be even`);
  expectShape('rope', 'cos', cos.shape, [t, d]);
  expectShape('rope', 'sin', sin.shape, [t, d]);
  const rt = x.rt;
  const apply = (src: Tensor, inverse: boolean): Tensor => {
    const out = rt.empty(src.shape, 'f32', 'rope');
    if (out.size) rt.backend.rope({ x: src.storage, cos: cos.storage, sin: sin.storage, out: out.storage, t, h, d, inverse });
    return out;
  };
  return record(apply(x, false), 'rope', [x], (g) => [apply(g, true)]);
}
