// The kernel contract every backend implements. Each kernel is described by the math
// it computes; shapes are in elements, tensors are contiguous row-major unless strides
// are given. The caller passes every output and the scratch a kernel's args name; a backend may
// take transient memory of its own from its pool for a kernel's internals (WebGPU: split-k partial
// sums, attention's stored dS), released as the kernel's work is recorded.
// All reductions run in a fixed order (no float atomics), so results are bit-identical
// run to run on one adapter.
import type { Storage } from './storage.js';

/** Packed 16-bit float formats (two per u32, element 2i in the low half) for frozen weights. */
export type PackedDType = 'bf16' | 'f16';
export type WeightDType = 'f32' | PackedDType;

export interface FillArgs {
  /** out[i] = value for i < n; i32 writes the integer bit pattern. */
  out: Storage;
  n: number;
  value: number;
  dtype: 'f32' | 'i32';
}

export interface UnpackArgs {
  /** out[i] = f32(src[i]) for i < n, src packed bf16/f16. */
  src: Storage;
  srcDtype: PackedDType;
  out: Storage;
  n: number;
}

/**
 * out[b] = op(A[b]) · op(B[b]), where A[b] is m×k (stored k×m when transA) and B[b] is
 * k×n (stored n×k when transB). Batch strides are in elements; 0 broadcasts one matrix
 * to every batch. B may be packed bf16/f16 (frozen weights); A and out are f32.
 */
export interface MatmulArgs {
  a: Storage;
  b: Storage;
  out: Storage;
  batch: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  strideA: number;
  strideB: number;
  strideOut: number;
  bDtype: WeightDType;
  /** f32 [n] added to every output row after the product (a linear layer's bias), in the same rounding as a separate add. */
  bias?: Storage;
  /**
   * f32, laid out as out (strideOut apart): added to each output after the product and bias, out =
   * residual + (op(A)·op(B) + bias), in the same rounding as a separate add (a residual connection).
   */
  residual?: Storage;
}

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div';
/** Broadcasting binary op: out[idx] = a[idx·aStrides] op b[idx·bStrides] over `shape` (rank ≤ 6, stride 0 = broadcast). */
export interface BinaryArgs {
  op: BinaryOp;
  a: Storage;
  b: Storage;
  out: Storage;
  shape: number[];
  aStrides: number[];
  bStrides: number[];
}

export type UnaryOp =
  | 'scale' // alpha·x
  | 'neg'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'rsqrt'
  | 'square'
  | 'relu'
  | 'sigmoid'
  | 'tanh'
  | 'silu' // x·σ(x)
  | 'gelu_tanh' // 0.5x(1+tanh(√(2/π)(x+0.044715x³)))
  | 'gelu_erf' // 0.5x(1+erf(x/√2))
  | 'quick_gelu'; // x·σ(1.702x)

/** out[i] = f(x[i]) for i < n. */
export interface UnaryArgs {
  op: UnaryOp;
  x: Storage;
  out: Storage;
  n: number;
  alpha: number;
}
/** gx[i] = gy[i] · f'(x[i]) for i < n. */
export interface UnaryGradArgs {
  op: UnaryOp;
  x: Storage;
  gy: Storage;
  gx: Storage;
  n: number;
  alpha: number;
}

/** out[o, i] = Σ_j x[o, j, i] (or the mean over j) for x viewed as [outer, size, inner]. */
export interface ReduceArgs {
  op: 'sum' | 'mean';
  x: Storage;
  out: Storage;
  outer: number;
  size: number;
  inner: number;
}

/** Strided copy of 32-bit elements: dst[dstOffset + idx·dstStrides] = src[srcOffset + idx·srcStrides] over `shape` (rank ≤ 6). */
export interface CopyStridedArgs {
  src: Storage;
  dst: Storage;
  shape: number[];
  srcStrides: number[];
  dstStrides: number[];
  srcOffset: number;
  dstOffset: number;
}

/** out = silu(gate)·up, elementwise over n. */
export interface SwigluArgs {
  gate: Storage;
  up: Storage;
  out: Storage;
  n: number;
}
/** out[r, j] = silu(x[r, j])·x[r, cols + j]: gate and up side by side in each row of x [rows, 2·cols] (one product made both). */
export interface SwigluStackedArgs {
  x: Storage;
  out: Storage;
  rows: number;
  cols: number;
}
/** The gradient of SwigluStackedArgs' out into gx [rows, 2·cols], laid out as x: gate's half, then up's. */
export interface SwigluStackedGradArgs {
  x: Storage;
  gy: Storage;
  gx: Storage;
  rows: number;
  cols: number;
}
/** gGate = gy·up·silu'(gate), gUp = gy·silu(gate). */
export interface SwigluGradArgs {
  gate: Storage;
  up: Storage;
  gy: Storage;
  gGate: Storage;
  gUp: Storage;
  n: number;
}

/** Row-wise softmax (or log-softmax) over the last axis of x [rows, cols]. */
export interface SoftmaxArgs {
  x: Storage;
  out: Storage;
  rows: number;
  cols: number;
  log: boolean;
}
/** softmax: gx = y⊙(gy − Σ gy⊙y);  log-softmax: gx = gy − exp(y)·Σ gy  (y is the forward output). */
export interface SoftmaxGradArgs {
  y: Storage;
  gy: Storage;
  gx: Storage;
  rows: number;
  cols: number;
  log: boolean;
}

/** out = x · rstd · w with rstd = 1/√(mean(x²) + eps) per row; rstd [rows] is saved for backward. */
export interface RmsNormArgs {
  x: Storage;
  weight: Storage;
  out: Storage;
  rstd: Storage;
  rows: number;
  cols: number;
  eps: number;
}
/** gx = rstd·(w⊙gy − x̂·mean(x̂⊙w⊙gy)), x̂ = x·rstd;  gwRows[r, c] = gy·x̂ (summed over rows by the caller). */
export interface RmsNormGradArgs {
  x: Storage;
  weight: Storage;
  rstd: Storage;
  gy: Storage;
  gx: Storage;
  gwRows: Storage;
  rows: number;
  cols: number;
}

/** out = (x − mean)·rstd·w + b per row, rstd = 1/√(var + eps) (biased variance); mean, rstd [rows] saved. */
export interface LayerNormArgs {
  x: Storage;
  weight: Storage;
  bias: Storage;
  out: Storage;
  mean: Storage;
  rstd: Storage;
  rows: number;
  cols: number;
  eps: number;
}
/** gx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ⊙x̂)), ĝ = w⊙gy;  gwRows[r, c] = gy·x̂ (bias grad = Σ_rows gy, by the caller). */
export interface LayerNormGradArgs {
  x: Storage;
  weight: Storage;
  mean: Storage;
  rstd: Storage;
  gy: Storage;
  gx: Storage;
  gwRows: Storage;
  rows: number;
  cols: number;
}

/** out[i, :] = table[idx[i], :] for i < nIdx; table [nRows, cols] may be packed bf16/f16 (out is f32). Indices are validated by the caller. */
export interface GatherRowsArgs {
  table: Storage;
  tableDtype: WeightDType;
  idx: Storage;
  out: Storage;
  nIdx: number;
  cols: number;
}
/**
 * Deterministic scatter-add (embedding backward): for each u < nUnique,
 * out[rows[u], :] += Σ_{j = offsets[u]}^{offsets[u+1]−1} g[order[j], :], summed in j order.
 * Rows not listed are untouched. rows/offsets/order are i32, built on the host.
 */
export interface ScatterAddRowsArgs {
  g: Storage;
  out: Storage;
  rows: Storage;
  offsets: Storage;
  order: Storage;
  nUnique: number;
  cols: number;
}

/** loss[r] = logsumexp(logits[r, :]) − logits[r, labels[r]], lse[r] saved; rows whose label = ignoreIndex get loss 0. */
export interface CrossEntropyArgs {
  logits: Storage;
  labels: Storage;
  loss: Storage;
  lse: Storage;
  rows: number;
  vocab: number;
  ignoreIndex: number;
}
/** gx[r, c] = gLoss[r]·(exp(logits[r, c] − lse[r]) − [c = labels[r]]); ignored rows get 0. */
export interface CrossEntropyGradArgs {
  logits: Storage;
  labels: Storage;
  lse: Storage;
  gLoss: Storage;
  gx: Storage;
  rows: number;
  vocab: number;
  ignoreIndex: number;
}

/**
 * Partial sums of squares for global-norm clipping, for up to SUM_SQUARES_GROUP tensors at once:
 * each x is cut into sumSquaresParts(n) chunks of sumSquaresChunk(n) elements (the last one
 * shorter) and out[slot + p] = Σ x[i]² over chunk p. The cut depends on n alone, so every backend
 * fills the same slots and the sum order is fixed; on a GPU each chunk is one workgroup, so a large
 * gradient is spread over the whole device, and one dispatch serves several small ones.
 */
export interface SumSquaresArgs {
  xs: { x: Storage; n: number; slot: number }[];
  out: Storage;
}
/** Most tensors per sumSquares call: with out, one WebGPU dispatch binds 8 storage buffers (the default limit). */
export const SUM_SQUARES_GROUP = 7;
/** Fewest elements per sumSquares chunk (a workgroup's share), and most chunks per call. */
const SUM_SQUARES_MIN_CHUNK = 16_384;
const SUM_SQUARES_MAX_PARTS = 1024;

/** How many partial sums sumSquares writes for n elements (1 for n ≤ 16384). */
export function sumSquaresParts(n: number): number {
  return Math.max(1, Math.min(SUM_SQUARES_MAX_PARTS, Math.ceil(n / SUM_SQUARES_MIN_CHUNK)));
}

/** Elements per sumSquares chunk; with at most 1024 parts of ≥ 16384 elements, none is empty. */
export function sumSquaresChunk(n: number): number {
  return Math.max(1, Math.ceil(n / sumSquaresParts(n)));
}

/** norm = √(Σ_{i<count} sumsq[i]); out[0] = min(1, maxNorm / (norm + 1e-6)) (torch's clip_grad_norm_), out[1] = norm. maxNorm ≤ 0 disables clipping (out[0] = 1). */
export interface ClipScaleArgs {
  sumsq: Storage;
  count: number;
  maxNorm: number;
  out: Storage;
}
/**
 * AdamW (torch.optim.AdamW semantics) on up to ADAMW_GROUP tensors, with g = grad·scale[0]:
 * p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
 * p ← p − lr·(m / (1−β1^step)) / (√(v / (1−β2^step)) + eps).
 * Tensor j's moments are m and v at elements at_j … at_j + n_j − 1: a group's moments share one
 * buffer each, so one WebGPU dispatch serves the group.
 */
export interface AdamWArgs {
  tensors: { param: Storage; grad: Storage; n: number; at: number }[];
  m: Storage;
  v: Storage;
  scale: Storage;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
}
/** Most tensors per adamw call: with scale, m and v, one WebGPU dispatch binds 7 storage buffers (the default limit is 8). */
export const ADAMW_GROUP = 2;

/**
 * Fused scaled-dot-product attention over packed variable-length sequences (FlashAttention-2
 * style: online softmax, no [Tq × Tk] score matrix in memory). Token-major layout, as the
 * projections produce it: q [tq, hq, d], k/v [tk, hkv, d], out [tq, hq, d], lse [hq, tq].
 * Sequence s owns the Lq query rows cuSeqlensQ[s] ≤ t < cuSeqlensQ[s+1] and the Lk key rows
 * cuSeqlensK[s] ≤ t < cuSeqlensK[s+1] (i32, nSeq + 1 each, non-decreasing). Right padding is a
 * shorter length: give each padded tail its own sequence (it then attends only to itself, and
 * with a zero output gradient adds nothing to the real rows' gradients).
 * For local query i and key j of a sequence, query head h reads kv head h / (hq / hkv) and
 *   S_ij = scale · q_i·k_j,  visible iff j < Lk and (!causal or j ≤ i + Lk − Lq)
 * (the causal diagonal is aligned to the end, so Lq < Lk is decode against a KV cache);
 *   out_i = Σ_j softmax_j(S_i)·v_j over visible j,  lse_i = log Σ_j exp(S_ij) (natural log).
 * Rows that see no key (causal rows before the first key, when Lq > Lk) get out = 0 and lse = +∞.
 * Rows outside every sequence are not written. maxSeqlenQ/K bound Lq/Lk (they size the
 * dispatch). d is a multiple of 4, at most 128; hq is a multiple of hkv.
 */
export interface AttentionArgs {
  q: Storage;
  k: Storage;
  v: Storage;
  out: Storage;
  lse: Storage;
  cuSeqlensQ: Storage;
  cuSeqlensK: Storage;
  nSeq: number;
  maxSeqlenQ: number;
  maxSeqlenK: number;
  tq: number;
  tk: number;
  hq: number;
  hkv: number;
  d: number;
  causal: boolean;
  scale: number;
}

/**
 * Attention backward (FlashAttention-2: P is recomputed from the saved lse). With the forward's
 * args (out and lse now read), gOut = ∂L/∂out, P_ij = exp(S_ij − lse_i) on visible pairs (0 elsewhere),
 * δ_i = Σ_d gOut_i·out_i and dS = P ⊙ (gOut·vᵀ − δ):
 *   gq = scale · dS·k,   gk = scale · dSᵀ·q,   gv = Pᵀ·gOut,
 * gk/gv summed over the query heads that share a kv head, in head order. Rows outside every
 * sequence are not written. Deterministic: no atomics, every sum in a fixed order. Backends may
 * hold dS in memory of their own to spare recomputing it (WebGPU: up to a fixed budget, see
 * setStoredScoresBudget in webgpu/kernels/attention.ts); results do not depend on whether they do.
 * `scratch` holds at least attentionGradScratchBytes(args) bytes (row statistics and per-query-head
 * partial gk/gv); its contents are undefined before and after.
 */
export interface AttentionGradArgs extends AttentionArgs {
  gOut: Storage;
  gq: Storage;
  gk: Storage;
  gv: Storage;
  scratch: Storage;
}

/** Bytes of `scratch` attentionGrad needs: lse and δ per (head, query), 4 words per sequence, then gk/gv per query head. */
export function attentionGradScratchBytes(a: Pick<AttentionArgs, 'tq' | 'tk' | 'hq' | 'd' | 'nSeq'>): number {
  const statsAndTable = Math.ceil((2 * a.hq * a.tq + 4 * a.nSeq) / 4) * 4;
  return (statsAndTable + 2 * a.tk * a.hq * a.d) * 4;
}

/**
 * Rotary position embedding (rotate-half form, as transformers' apply_rotary_pos_emb) on x [t, h, d]
 * with per-token tables cos/sin [t, d]:  out = x·cos + rotate_half(x)·sin, rotate_half(x) = [−x₂, x₁]
 * for the halves x₁ = x[:d/2], x₂ = x[d/2:]. `inverse` uses −sin: that is the backward (gx from gy)
 * whenever the tables repeat across halves (cos[i] = cos[i + d/2]), as every RoPE here builds them.
 * out must not alias x; d is even.
 */
export interface RopeArgs {
  x: Storage;
  cos: Storage;
  sin: Storage;
  out: Storage;
  t: number;
  h: number;
  d: number;
  inverse: boolean;
}

/** Every kernel a backend provides. */
export interface Kernels {
  fill(a: FillArgs): void;
  unpack(a: UnpackArgs): void;
  matmul(a: MatmulArgs): void;
  binary(a: BinaryArgs): void;
  unary(a: UnaryArgs): void;
  unaryGrad(a: UnaryGradArgs): void;
  reduce(a: ReduceArgs): void;
  copyStrided(a: CopyStridedArgs): void;
  swiglu(a: SwigluArgs): void;
  swigluGrad(a: SwigluGradArgs): void;
  swigluStacked(a: SwigluStackedArgs): void;
  swigluStackedGrad(a: SwigluStackedGradArgs): void;
  softmax(a: SoftmaxArgs): void;
  softmaxGrad(a: SoftmaxGradArgs): void;
  rmsNorm(a: RmsNormArgs): void;
  rmsNormGrad(a: RmsNormGradArgs): void;
  layerNorm(a: LayerNormArgs): void;
  layerNormGrad(a: LayerNormGradArgs): void;
  gatherRows(a: GatherRowsArgs): void;
  scatterAddRows(a: ScatterAddRowsArgs): void;
  crossEntropy(a: CrossEntropyArgs): void;
  crossEntropyGrad(a: CrossEntropyGradArgs): void;
  sumSquares(a: SumSquaresArgs): void;
  clipScale(a: ClipScaleArgs): void;
  adamw(a: AdamWArgs): void;
  attention(a: AttentionArgs): void;
  attentionGrad(a: AttentionGradArgs): void;
  rope(a: RopeArgs): void;
}
