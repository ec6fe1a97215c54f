// Row-wise kernels (reference for shaders/rows.wgsl and shaders/embedding.wgsl).
// Rows are x [rows, cols] contiguous. Elementwise math is f32 like the shaders; row
// reductions accumulate in f64, in column order, so this CPU reference is at least as
// accurate as the GPU's 256-way tree. Log-sum-exp takes the row max first, then
// Σ exp(x − max).
import { bf16ToF32, f16ToF32 } from './half';

@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/** Σ x over the row, accumulated in f64. */
function rowSum(x: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s += <f64>load<f32>(at(x, i));
  return s;
}

function rowSumSquares(x: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = <f64>load<f32>(at(x, i));
    s += v * v;
  }
  return s;
}

function rowDot(a: usize, b: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s += <f64>load<f32>(at(a, i)) * <f64>load<f32>(at(b, i));
  return s;
}

/** max over the row; NaN propagates (Mathf.max returns NaN for a NaN input). */
function rowMax(x: usize, n: i32): f32 {
  let m: f32 = -Infinity;
  for (let i = 0; i < n; i++) m = Mathf.max(m, load<f32>(at(x, i)));
  return m;
}

/** Σ exp(x − m), each exp in f32, accumulated in f64. */
function rowSumExp(x: usize, n: i32, m: f32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s += <f64>Mathf.exp(load<f32>(at(x, i)) - m);
  return s;
}

/** softmax: y = exp(x − m) / Σ exp(x − m);  log-softmax: y = (x − m) − log Σ exp(x − m). */
export function softmax(x: usize, out: usize, rows: i32, cols: i32, isLog: bool): void {
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * cols);
    const yr = at(out, r * cols);
    const m = rowMax(xr, cols);
    if (isLog) {
      const logS = <f32>Math.log(rowSumExp(xr, cols, m));
      for (let c = 0; c < cols; c++) store<f32>(at(yr, c), (load<f32>(at(xr, c)) - m) - logS);
    } else {
      // exp is stored on the first pass and divided on the second.
      let s: f64 = 0;
      for (let c = 0; c < cols; c++) {
        const e = Mathf.exp(load<f32>(at(xr, c)) - m);
        store<f32>(at(yr, c), e);
        s += <f64>e;
      }
      const sf = <f32>s;
      for (let c = 0; c < cols; c++) store<f32>(at(yr, c), load<f32>(at(yr, c)) / sf);
    }
  }
}

/** softmax: gx = y⊙(gy − Σ gy⊙y);  log-softmax: gx = gy − exp(y)·Σ gy. */
export function softmaxGrad(y: usize, gy: usize, gx: usize, rows: i32, cols: i32, isLog: bool): void {
  for (let r = 0; r < rows; r++) {
    const yr = at(y, r * cols);
    const gr = at(gy, r * cols);
    const xr = at(gx, r * cols);
    if (isLog) {
      const d = <f32>rowSum(gr, cols);
      for (let c = 0; c < cols; c++) store<f32>(at(xr, c), load<f32>(at(gr, c)) - Mathf.exp(load<f32>(at(yr, c))) * d);
    } else {
      const d = <f32>rowDot(gr, yr, cols);
      for (let c = 0; c < cols; c++) store<f32>(at(xr, c), load<f32>(at(yr, c)) * (load<f32>(at(gr, c)) - d));
    }
  }
}

/** rstd = 1/√(Σx²/cols + eps);  y = (x·rstd)·w. */
export function rmsNorm(x: usize, w: usize, out: usize, rstd: usize, rows: i32, cols: i32, eps: f32): void {
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * cols);
    const yr = at(out, r * cols);
    const rs: f32 = 1 / Mathf.sqrt(<f32>(rowSumSquares(xr, cols) / <f64>cols) + eps);
    for (let c = 0; c < cols; c++) store<f32>(at(yr, c), (load<f32>(at(xr, c)) * rs) * load<f32>(at(w, c)));
    store<f32>(at(rstd, r), rs);
  }
}

/** x̂ = x·rstd;  gx = rstd·(w⊙gy − x̂·mean(x̂⊙w⊙gy));  gwRows = gy⊙x̂. */
export function rmsNormGrad(x: usize, w: usize, rstd: usize, gy: usize, gx: usize, gw: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const rs = load<f32>(at(rstd, r));
    let d: f64 = 0;
    for (let c = 0; c < cols; c++) d += <f64>((load<f32>(at(x, o + c)) * rs) * load<f32>(at(w, c)) * load<f32>(at(gy, o + c)));
    const meanD = <f32>(d / <f64>cols);
    for (let c = 0; c < cols; c++) {
      const xh = load<f32>(at(x, o + c)) * rs;
      const g = load<f32>(at(gy, o + c));
      store<f32>(at(gx, o + c), rs * (load<f32>(at(w, c)) * g - xh * meanD));
      store<f32>(at(gw, o + c), g * xh);
    }
  }
}

/** μ = Σx/cols, σ² = Σ(x − μ)²/cols (two passes), rstd = 1/√(σ² + eps);  y = (x − μ)·rstd·w + b. */
export function layerNorm(x: usize, w: usize, b: usize, out: usize, mean: usize, rstd: usize, rows: i32, cols: i32, eps: f32): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const mu = <f32>(rowSum(at(x, o), cols) / <f64>cols);
    let v: f64 = 0;
    for (let c = 0; c < cols; c++) {
      const d = <f64>(load<f32>(at(x, o + c)) - mu);
      v += d * d;
    }
    const rs: f32 = 1 / Mathf.sqrt(<f32>(v / <f64>cols) + eps);
    for (let c = 0; c < cols; c++) store<f32>(at(out, o + c), (load<f32>(at(x, o + c)) - mu) * rs * load<f32>(at(w, c)) + load<f32>(at(b, c)));
    store<f32>(at(mean, r), mu);
    store<f32>(at(rstd, r), rs);
  }
}

/** x̂ = (x − μ)·rstd, ĝ = w⊙gy;  gx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ⊙x̂));  gwRows = gy⊙x̂. */
export function layerNormGrad(x: usize, w: usize, mean: usize, rstd: usize, gy: usize, gx: usize, gw: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const mu = load<f32>(at(mean, r));
    const rs = load<f32>(at(rstd, r));
    let sg: f64 = 0;
    let sgx: f64 = 0;
    for (let c = 0; c < cols; c++) {
      const g = load<f32>(at(w, c)) * load<f32>(at(gy, o + c));
      sg += <f64>g;
      sgx += <f64>(g * ((load<f32>(at(x, o + c)) - mu) * rs));
    }
    const meanG = <f32>(sg / <f64>cols);
    const meanGx = <f32>(sgx / <f64>cols);
    for (let c = 0; c < cols; c++) {
      const xh = (load<f32>(at(x, o + c)) - mu) * rs;
      const g = load<f32>(at(gy, o + c));
      store<f32>(at(gx, o + c), rs * (load<f32>(at(w, c)) * g - meanG - xh * meanGx));
      store<f32>(at(gw, o + c), g * xh);
    }
  }
}

/**
 * lse[r] = logsumexp(logits[r, :]); loss[r] = lse[r] − logits[r, label], 0 where label =
 * ignoreIndex, NaN for any other label outside [0, vocab) (as the WGSL kernel does).
 */
export function crossEntropy(logits: usize, labels: usize, loss: usize, lse: usize, rows: i32, vocab: i32, ignoreIndex: i32): void {
  for (let r = 0; r < rows; r++) {
    const lr = at(logits, r * vocab);
    const m = rowMax(lr, vocab);
    const l = m + <f32>Math.log(rowSumExp(lr, vocab, m));
    const label = load<i32>(at(labels, r));
    let v: f32 = 0;
    if (label != ignoreIndex) v = <u32>label < <u32>vocab ? l - load<f32>(at(lr, label)) : NaN;
    store<f32>(at(loss, r), v);
    store<f32>(at(lse, r), l);
  }
}

/** gx[r, c] = gLoss[r]·(exp(logits[r, c] − lse[r]) − [c = label]); ignored rows get 0. */
export function crossEntropyGrad(logits: usize, labels: usize, lse: usize, gLoss: usize, gx: usize, rows: i32, vocab: i32, ignoreIndex: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = r * vocab;
    const label = load<i32>(at(labels, r));
    if (label == ignoreIndex) {
      memory.fill(at(gx, o), 0, <usize>vocab << 2);
      continue;
    }
    const g = load<f32>(at(gLoss, r));
    const l = load<f32>(at(lse, r));
    for (let c = 0; c < vocab; c++) {
      const onehot: f32 = c == label ? 1 : 0;
      store<f32>(at(gx, o + c), g * (Mathf.exp(load<f32>(at(logits, o + c)) - l) - onehot));
    }
  }
}

/** out[i, :] = table[idx[i], :]; dtype 0 = f32, 1 = bf16, 2 = f16 (packed: element e is the u16 at byte 2e). */
export function gatherRows(table: usize, dtype: i32, idx: usize, out: usize, nIdx: i32, cols: i32): void {
  for (let i = 0; i < nIdx; i++) {
    const row = <usize>load<i32>(at(idx, i)) * <usize>cols;
    const dst = at(out, i * cols);
    if (dtype == 0) {
      memory.copy(dst, table + (row << 2), <usize>cols << 2);
    } else if (dtype == 1) {
      for (let c = 0; c < cols; c++) store<f32>(at(dst, c), bf16ToF32(<u32>load<u16>(table + ((row + <usize>c) << 1))));
    } else {
      for (let c = 0; c < cols; c++) store<f32>(at(dst, c), f16ToF32(<u32>load<u16>(table + ((row + <usize>c) << 1))));
    }
  }
}

/** Column block for scatterAddRows' partial sums (static scratch: kernels do not allocate). */
const BLOCK = 256;
const blockSums: usize = memory.data(BLOCK * 4, 16);

/**
 * out[rows[u], :] += Σ_{j=offsets[u]}^{offsets[u+1]−1} g[order[j], :], the sum taken in j
 * order before it is added (as the WGSL kernel does), a block of columns at a time.
 */
export function scatterAddRows(g: usize, out: usize, rows: usize, offsets: usize, order: usize, nUnique: i32, cols: i32): void {
  for (let u = 0; u < nUnique; u++) {
    const dst = at(out, load<i32>(at(rows, u)) * cols);
    const first = load<i32>(at(offsets, u));
    const last = load<i32>(at(offsets, u + 1));
    for (let c0 = 0; c0 < cols; c0 += BLOCK) {
      const width = min(BLOCK, cols - c0);
      memory.fill(blockSums, 0, <usize>width << 2);
      for (let j = first; j < last; j++) {
        const src = at(g, load<i32>(at(order, j)) * cols + c0);
        for (let c = 0; c < width; c++) store<f32>(at(blockSums, c), load<f32>(at(blockSums, c)) + load<f32>(at(src, c)));
      }
      for (let c = 0; c < width; c++) store<f32>(at(dst, c0 + c), load<f32>(at(dst, c0 + c)) + load<f32>(at(blockSums, c)));
    }
  }
}
