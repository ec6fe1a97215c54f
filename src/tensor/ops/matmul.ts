// Batched matrix product with optional transposed operands, and linear layers.
// a: [..., m, k] (or [..., k, m] with transA); b: [k, n] broadcast over a's batch, or
// [..., k, n] with the same batch dims (transposed with transB). b may be a packed
// bf16/f16 frozen weight.
import { record } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import { fmt, sizeOf } from '../shape.js';
import { isPacked, storageBytes } from '../dtype.js';
import { f32Inputs } from './check.js';
import { sumTo } from './arith.js';
import { concat, slice } from './layout.js';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  /** Shaped as the output: added to it as each output is written (a running sum of products, without an add pass). */
  residual?: Tensor | null;
}

export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  return product('matmul', a, b, opts, null, opts.residual ?? null);
}

/**
 * op(A)·op(B), plus `bias` [n] on every output row, then `residual` (shaped as the output) when
 * given: added by the product's kernel as it writes each output (a linear layer, a residual connection).
 */
function product(op: 'matmul' | 'linear', a: Tensor, b: Tensor, opts: MatmulOptions, bias: Tensor | null, residual: Tensor | null): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  f32Inputs('matmul', a);
  if (b.released) throw new Error(`matmul: input ${b.describe()} was released`);
  if (b.dtype === 'i32') throw new Error(`matmul: right operand must be a float tensor, got ${b.describe()}`);
  if (a.rank < 2 || b.rank < 2) throw new Error(`matmul: operands must be at least 2-D, got ${a.describe()} × ${b.describe()}`);
  const [m, k] = transA ? [a.shape[a.rank - 1], a.shape[a.rank - 2]] : [a.shape[a.rank - 2], a.shape[a.rank - 1]];
  const [kb, n] = transB ? [b.shape[b.rank - 1], b.shape[b.rank - 2]] : [b.shape[b.rank - 2], b.shape[b.rank - 1]];
  const what = `${a.describe()}${transA ? 'ᵀ' : ''} × ${b.describe()}${transB ? 'ᵀ' : ''}`;
  if (k !== kb) throw new Error(`matmul: inner dimensions differ (${k} vs ${kb}) in ${what}`);
  // Either operand may be one matrix shared by every batch of the other.
  const aBatched = a.rank > 2;
  const bBatched = b.rank > 2;
  const batchShape = (aBatched ? a : b).shape.slice(0, -2);
  if (aBatched && bBatched && fmt(b.shape.slice(0, -2)) !== fmt(batchShape)) throw new Error(`matmul: batch dimensions differ in ${what}`);
  const batch = sizeOf(batchShape);
  if (bias) {
    f32Inputs('linear', bias);
    if (bias.rank !== 1 || bias.shape[0] !== n) throw new Error(`linear: bias ${bias.describe()} does not match ${n} output features`);
  }
  const outShape = [...batchShape, m, n];
  if (residual) {
    f32Inputs(op, residual);
    if (fmt(residual.shape) !== fmt(outShape)) throw new Error(`${op}: residual ${residual.describe()} does not match the output ${fmt(outShape)}`);
  }
  const rt = a.rt;
  const out = rt.empty(outShape, 'f32', 'matmul');
  if (out.size)
    rt.backend.matmul({
      a: a.storage,
      b: b.storage,
      out: out.storage,
      batch,
      m,
      n,
      k,
      transA,
      transB,
      strideA: aBatched ? m * k : 0,
      strideB: bBatched ? k * n : 0,
      strideOut: m * n,
      bDtype: b.dtype,
      ...(bias ? { bias: bias.storage } : {}),
      ...(residual ? { residual: residual.storage } : {}),
    });
  const inputs = [a, b, ...(bias ? [bias] : []), ...(residual ? [residual] : [])];
  return record(out, op, inputs, (g) => {
    // C = op(A)·op(B):  d op(A) = dC·op(B)ᵀ,  d op(B) = op(A)ᵀ·dC, then undo the transposes;
    // a shared (unbatched) operand gets the sum over batches.
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      const full = transA
        ? matmul(b, g, { transA: transB, transB: true }) // dA (k×m) = op(B)·dCᵀ
        : matmul(g, b, { transB: !transB }); // dA (m×k) = dC·op(B)ᵀ
      ga = reduceShared(full, a);
    }
    if (b.requiresGrad) {
      if (!bBatched && aBatched && !transA) {
        // Shared weight: fold the batch into rows so one product sums over it.
        const a2 = rt.view(a, [batch * m, k]);
        const g2 = rt.view(g, [batch * m, n]);
        gb = transB ? matmul(g2, a2, { transA: true }) : matmul(a2, g2, { transA: true });
        a2.release();
        g2.release();
      } else {
        const full = transB
          ? matmul(g, a, { transA: true, transB: transA }) // dB (n×k) = dCᵀ·op(A)
          : matmul(a, g, { transA: !transA }); // dB (k×n) = op(A)ᵀ·dC
        gb = reduceShared(full, b);
      }
    }
    const gBias = bias ? [bias.requiresGrad ? sumTo(g, bias.shape) : null] : []; // d bias = Σ over rows of dC
    return [ga, gb, ...gBias, ...(residual ? [g] : [])]; // d residual = dC
  });
}

/** Sums a batched gradient over the batch when its input was a shared 2-D matrix. */
function reduceShared(full: Tensor, input: Tensor): Tensor {
  if (full.rank === input.rank) return full;
  const r = sumTo(full, input.shape);
  if (r !== full) full.release();
  return r;
}

/**
 * y = x·Wᵀ + b with W [out, in] as Hugging Face stores it; W may be packed bf16/f16 (frozen). With
 * `residual` (shaped as y), residual + y: a residual connection. Bias and residual are the product's
 * epilogue, in the rounding of separate adds, without their passes over y.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null, residual?: Tensor | null): Tensor {
  if (weight.rank !== 2) throw new Error(`linear: weight must be 2-D [out, in], got ${weight.describe()}`);
  if (x.shape[x.rank - 1] !== weight.shape[1]) throw new Error(`linear: input ${x.describe()} does not match weight ${weight.describe()} (in_features ${weight.shape[1]})`);
  return product('linear', x, weight, { transB: true }, bias ?? null, residual ?? null);
}

/**
 * y = x·[W₀; W₁; …]ᵀ + [b₀; b₁; …], output [..., Σ outᵢ]: linear layers reading the same input
 * (q/k/v, gate/up) as one product, which fills the GPU where the separate ones leave it idle and
 * gives x one gradient product instead of a sum of several. The stacked weight lives only while a
 * product reads it (it is stacked again for the backward), so the weights' memory never doubles;
 * the copy costs more than it saves where x has a few rows (decoding). Layers without a bias
 * add zeros where others have one.
 */
export function linearStack(x: Tensor, weights: Tensor[], biases: (Tensor | null)[] = []): Tensor {
  if (!weights.length) throw new Error('linearStack: no weights');
  if (biases.length && biases.length !== weights.length) throw new Error(`linearStack: ${biases.length} biases for ${weights.length} weights (give one per weight, null where a layer has none)`);
  const kIn = x.shape[x.rank - 1];
  for (const [i, w] of weights.entries()) {
    if (w.rank !== 2 || w.shape[1] !== kIn) throw new Error(`linearStack: weight ${i} ${w.describe()} is not [out, ${kIn}] for input ${x.describe()}`);
    if (w.dtype !== weights[0].dtype) throw new Error(`linearStack: weights differ in dtype (${weights[0].describe()}, ${w.describe()})`);
    const b = biases[i];
    if (b && (b.rank !== 1 || b.shape[0] !== w.shape[0])) throw new Error(`linearStack: bias ${i} ${b.describe()} does not match weight ${w.describe()}`);
  }
  const rows = x.size / kIn;
  const stackable = weights.every((w) => !isPacked(w.dtype) || w.size % 2 === 0); // whole 32-bit words
  if (weights.length === 1 || !stackable)
    return concatOwned(weights.map((w, i) => linear(x, w, biases[i] ?? null)));
  const rt = x.rt;
  const outs = weights.map((w) => w.shape[0]);
  const n = outs.reduce((a, b) => a + b, 0);
  const hasBias = biases.some((b) => b);
  const y = rt.noGrad(() => {
    const w = stackRows(weights, 'linearStack');
    const bias = hasBias ? stackBiases(biases, outs) : null;
    const out = linear(x, w, bias);
    w.release();
    bias?.release();
    return out;
  });
  const params = [...weights, ...biases.filter((b): b is Tensor => b !== null)];
  return record(y, 'linearStack', [x, ...params], (g) => {
    const w = stackRows(weights, 'linearStack backward');
    const gx = x.requiresGrad ? matmul(g, w) : null; // dX = dY·W
    w.release();
    let gws: (Tensor | null)[] = weights.map(() => null);
    if (weights.some((t) => t.requiresGrad)) {
      const [g2, x2] = [rt.view(g, [rows, n]), rt.view(x, [rows, kIn])];
      gws = splitRows(matmul(g2, x2, { transA: true }), outs, weights); // dW = dYᵀ·X, [n, in]
      g2.release();
      x2.release();
    }
    const withBias = biases.filter((b) => b);
    let gbs: (Tensor | null)[] = withBias.map(() => null);
    if (withBias.some((b) => b!.requiresGrad)) {
      const sums = sumTo(g, [n]);
      const flat = sums === g ? rt.view(g, [n]) : sums; // g itself where x has one row: a view of it
      gbs = splitRows(flat, outs, biases).filter((_, i) => biases[i]);
    }
    return [gx, ...gws, ...gbs];
  });
}

/** The parts of `full` (rows `sizes` in turn) whose tensor in `wanted` requires grad; `full` is released. */
function splitRows(full: Tensor, sizes: number[], wanted: (Tensor | null)[]): (Tensor | null)[] {
  let at = 0;
  const parts = sizes.map((rows, i) => {
    const part = wanted[i]?.requiresGrad ? slice(full, 0, at, at + rows) : null;
    at += rows;
    return part;
  });
  full.release();
  return parts;
}

/** [W₀; W₁; …] as one tensor, copied word for word (packed 16-bit weights too). */
function stackRows(ws: Tensor[], label: string): Tensor {
  const rt = ws[0].rt;
  const out = rt.empty([ws.reduce((r, w) => r + w.shape[0], 0), ws[0].shape[1]], ws[0].dtype, label);
  let at = 0;
  for (const w of ws) {
    const bytes = storageBytes(w.dtype, w.size);
    rt.backend.copy(w.storage, 0, out.storage, at, bytes);
    at += bytes;
  }
  return out;
}

/** [b₀; b₁; …] with zeros for the layers that have no bias. */
function stackBiases(biases: (Tensor | null)[], outs: number[]): Tensor {
  const rt = biases.find((b) => b)!.rt;
  const parts = outs.map((n, i) => biases[i] ?? rt.zeros([n]));
  const out = concat(parts, 0);
  parts.forEach((p, i) => biases[i] || p.release());
  return out;
}

/** The outputs side by side along the last axis; the parts are released. */
function concatOwned(ts: Tensor[]): Tensor {
  if (ts.length === 1) return ts[0];
  const out = concat(ts, -1);
  for (const t of ts) t.release();
  return out;
}
