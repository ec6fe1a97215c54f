// The LM head's loss, fused and chunked over rows (Liger's fused linear cross-entropy):
//
//   loss = (1/N) Σ_{i: label_i ≠ ignore} CE(h_i·Wᵀ, label_i),   N = labelled rows
//        = crossEntropy(linear(h, w), labels)
//
// A [tokens × vocab] logits matrix (1.2 GB at 2k tokens × 152k vocab) would be the largest
// buffer of a step and, in browsers, more than one storage binding may hold. Here the logits
// of one chunk of rows exist at a time, and their gradient is taken in the same pass:
//   dlogits_c = (softmax(logits_c) − onehot)/N,  dh_c = dlogits_c·W,  dW = Σ_c dlogits_cᵀ·h_c
// so backward only scales dh and dW by the upstream gradient. Chunks run in row order, so the
// result is deterministic.
import { record } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import { add, mul, scale, sum } from './arith.js';
import { f32Inputs } from './check.js';
import { slice, writeRows } from './layout.js';
import { checkLabels, countLabelled, IGNORE_INDEX } from './loss.js';
import { matmul } from './matmul.js';

/** a + b, releasing both (running sums under noGrad); a missing a is just b. */
function accumulate(a: Tensor | null, b: Tensor): Tensor {
  if (!a) return b;
  const s = add(a, b);
  a.release();
  b.release();
  return s;
}

/**
 * Most bytes one chunk's logits take (and their gradient as much again). Large on purpose: the
 * chunk's rows are the m of the dh = dlogits·W product (k = vocab), and a GPU needs enough row
 * tiles to fill its cores (1 GiB: 1766 rows of a 152k vocabulary, 2 chunks at 2k tokens).
 */
export const LOGITS_CHUNK_BYTES = 2 ** 30;

/** Rows per chunk for a vocabulary: the logits chunk within LOGITS_CHUNK_BYTES and one storage binding. */
export function logitsChunkRows(vocab: number, maxBindingBytes: number): number {
  return Math.max(1, Math.floor(Math.min(LOGITS_CHUNK_BYTES, maxBindingBytes) / (vocab * 4)));
}

export interface LinearCrossEntropyOptions {
  /** Most rows per chunk (default: logitsChunkRows for the backend's binding limit); the rows are split into the fewest chunks of near-equal size. */
  chunkRows?: number;
  ignoreIndex?: number;
}

/** h [T, H] (f32), w [V, H] (f32, or a packed bf16/f16 frozen weight), labels [T] i32 with a host copy → mean loss. */
export function linearCrossEntropy(h: Tensor, w: Tensor, labels: Tensor, opts: LinearCrossEntropyOptions = {}): Tensor {
  f32Inputs('linearCrossEntropy', h);
  if (w.released) throw new Error(`linearCrossEntropy: weight ${w.describe()} was released`);
  if (h.rank !== 2 || w.rank !== 2 || h.shape[1] !== w.shape[1])
    throw new Error(`linearCrossEntropy: need hidden [tokens, H] and weight [vocab, H], got ${h.describe()} and ${w.describe()}`);
  const [T] = h.shape;
  const [V] = w.shape;
  const ignoreIndex = opts.ignoreIndex ?? IGNORE_INDEX;
  const host = labels.host;
  if (labels.dtype !== 'i32' || labels.size !== T || !host)
    throw new Error(`linearCrossEntropy: labels must be ${T} i32 values with a host copy (rt.tensor(values, [${T}], 'i32')), got ${labels.describe()}`);
  checkLabels('linearCrossEntropy', host, V, ignoreIndex);
  const maxRows = opts.chunkRows ?? logitsChunkRows(V, h.rt.backend.info.limits.maxBindingBytes);
  if (!(Number.isInteger(maxRows) && maxRows >= 1)) throw new Error(`linearCrossEntropy: chunkRows must be a positive integer, got ${maxRows}`);
  // The fewest chunks, of near-equal size: a short last chunk is a dh product with too few row tiles to fill a GPU
  // (an H100 took 37 ms for the dh products of 2048 rows as 1766 + 282, 31 ms as 2 × 1024).
  const chunk = Math.ceil(T / Math.ceil(T / maxRows));

  const rt = h.rt;
  const b = rt.backend;
  const valid = countLabelled(host, ignoreIndex);
  const needH = rt.gradEnabled && h.requiresGrad;
  const needW = rt.gradEnabled && w.requiresGrad;
  const dh = needH ? rt.empty([T, h.shape[1]], 'f32', 'linearCrossEntropy dh') : null;
  let dw: Tensor | null = null;
  let total: Tensor | null = null;

  rt.noGrad(() => {
    for (let r0 = 0; r0 < T; r0 += chunk) {
      const r1 = Math.min(T, r0 + chunk);
      const rows = r1 - r0;
      const hc = r0 === 0 && r1 === T ? h : slice(h, 0, r0, r1);
      const logits = matmul(hc, w, { transB: true });
      const lab = rt.tensor(host.subarray(r0, r1), [rows], 'i32');
      const loss = rt.empty([rows], 'f32', 'linearCrossEntropy loss');
      const lse = rt.empty([rows], 'f32', 'linearCrossEntropy lse');
      b.crossEntropy({ logits: logits.storage, labels: lab.storage, loss: loss.storage, lse: lse.storage, rows, vocab: V, ignoreIndex });
      total = accumulate(total, sum(loss));
      if (needH || needW) {
        const gLoss = rt.full([rows], valid ? 1 / valid : NaN);
        const dlogits = rt.empty([rows, V], 'f32', 'linearCrossEntropy dlogits');
        b.crossEntropyGrad({ logits: logits.storage, labels: lab.storage, lse: lse.storage, gLoss: gLoss.storage, gx: dlogits.storage, rows, vocab: V, ignoreIndex });
        logits.release();
        if (dh) {
          const dhc = matmul(dlogits, w);
          writeRows(dh, dhc, r0);
          dhc.release();
        }
        if (needW) {
          // The running sum of the chunks' dW is the product's epilogue: no add pass over the
          // vocabulary-sized matrix, and two of them live at a time instead of three.
          const sumW = matmul(dlogits, hc, { transA: true, residual: dw });
          dw?.release();
          dw = sumW;
        }
        for (const t of [gLoss, dlogits]) t.release();
      }
      for (const t of [logits, lab, loss, lse]) if (!t.released) t.release();
      if (hc !== h) hc.release();
    }
  });

  const totalLoss = total ?? rt.zeros([]);
  const mean = scale(totalLoss, valid ? 1 / valid : NaN); // no labelled token: NaN, as torch
  totalLoss.release();
  // The gradients are already of the mean; backward scales them by dLoss/dmean.
  return record(mean, 'linearCrossEntropy', [h, w], (g) => [dh ? mul(dh, g) : null, dw ? mul(dw, g) : null]);
}
