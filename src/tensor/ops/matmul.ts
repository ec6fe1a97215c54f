// Batched matrix product with optional transposed operands, and linear layers.
// a: [..., m, k] (or [..., k, m] with transA); b: [k, n] broadcast over a's batch, or
// [..., k, n] with the same batch dims (transposed with transB). b may be a packed
// bf16/f16 frozen weight.
import { record } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import { fmt, sizeOf } from '../shape.js';
import { f32Inputs } from './check.js';
import { add, sumTo } from './arith.js';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
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
  const rt = a.rt;
  const out = rt.empty([...batchShape, m, n], 'f32', 'matmul');
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
    });
  return record(out, 'matmul', [a, b], (g) => {
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
    return [ga, gb];
  });
}

/** Sums a batched gradient over the batch when its input was a shared 2-D matrix. */
function reduceShared(full: Tensor, input: Tensor): Tensor {
  if (full.rank === input.rank) return full;
  const r = sumTo(full, input.shape);
  if (r !== full) full.release();
  return r;
}

/** y = x·Wᵀ + b with W [out, in] as Hugging Face stores it; W may be packed bf16/f16 (frozen). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.rank !== 2) throw new Error(`linear: weight must be 2-D [out, in], got ${weight.describe()}`);
  if (x.shape[x.rank - 1] !== weight.shape[1]) throw new Error(`linear: input ${x.describe()} does not match weight ${weight.describe()} (in_features ${weight.shape[1]})`);
  const y = matmul(x, weight, { transB: true });
  if (!bias) return y;
  const out = add(y, bias);
  y.release();
  return out;
}
