// Float64 reference implementations of the ops, written plainly from their definitions.

export function strides(shape: number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

export function broadcastShape(a: number[], b: number[]): number[] {
  const r = Math.max(a.length, b.length);
  return Array.from({ length: r }, (_, i) => Math.max(a[a.length - r + i] ?? 1, b[b.length - r + i] ?? 1));
}

/** Element of x (shape xs) at out-index idx of a broadcast result. */
function at(x: Float64Array, xs: number[], idx: number[]): number {
  const st = strides(xs);
  let off = 0;
  const lead = idx.length - xs.length;
  for (let i = 0; i < xs.length; i++) off += (xs[i] === 1 ? 0 : idx[lead + i]) * st[i];
  return x[off];
}

function unravel(i: number, shape: number[]): number[] {
  const idx = new Array(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

export function binaryRef(f: (a: number, b: number) => number, a: Float64Array, as: number[], b: Float64Array, bs: number[]): Float64Array {
  const os = broadcastShape(as, bs);
  const n = os.reduce((x, y) => x * y, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, os);
    out[i] = f(at(a, as, idx), at(b, bs, idx));
  }
  return out;
}

export function reduceRef(x: Float64Array, outer: number, size: number, inner: number, mean: boolean): Float64Array {
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let s = 0;
      for (let j = 0; j < size; j++) s += x[(o * size + j) * inner + i];
      out[o * inner + i] = mean ? s / size : s;
    }
  return out;
}

export function rowsRef(x: Float64Array, cols: number, f: (row: Float64Array) => Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / cols; r++) out.set(f(x.subarray(r * cols, (r + 1) * cols)), r * cols);
  return out;
}

export function softmaxRow(row: Float64Array, log: boolean): Float64Array {
  const m = Math.max(...row);
  let s = 0;
  for (const v of row) s += Math.exp(v - m);
  return row.map((v) => (log ? v - m - Math.log(s) : Math.exp(v - m) / s));
}

export function rmsNormRef(x: Float64Array, w: Float64Array, eps: number): Float64Array {
  const c = w.length;
  return rowsRef(x, c, (row) => {
    let ss = 0;
    for (const v of row) ss += v * v;
    const r = 1 / Math.sqrt(ss / c + eps);
    return row.map((v, i) => v * r * w[i]);
  });
}

export function layerNormRef(x: Float64Array, w: Float64Array, b: Float64Array, eps: number): Float64Array {
  const c = w.length;
  return rowsRef(x, c, (row) => {
    const mu = row.reduce((s, v) => s + v, 0) / c;
    const v = row.reduce((s, x) => s + (x - mu) ** 2, 0) / c;
    const r = 1 / Math.sqrt(v + eps);
    return row.map((x, i) => (x - mu) * r * w[i] + b[i]);
  });
}

/** erf to ~1e-15 (series for |x| < 3, continued fraction beyond). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
  let f = ax;
  for (let n = 60; n >= 1; n--) f = ax + n / 2 / f;
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f);
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
export const unaryRefs: Record<string, (x: number, alpha: number) => number> = {
  scale: (x, a) => a * x,
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
  relu: (x) => Math.max(0, x),
  sigmoid,
  tanh: Math.tanh,
  silu: (x) => x * sigmoid(x),
  gelu_tanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  gelu_erf: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  quick_gelu: (x) => x * sigmoid(1.702 * x),
};

/** C[b] = op(A[b])·op(B[b]) with B broadcast when bBatch is false. */
export function matmulRef(a: Float64Array, b: Float64Array, batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean, bBatch: boolean): Float64Array {
  const out = new Float64Array(batch * m * n);
  for (let z = 0; z < batch; z++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = a[z * m * k + (transA ? p * m + i : i * k + p)];
          const bv = b[(bBatch ? z * k * n : 0) + (transB ? j * k + p : p * n + j)];
          s += av * bv;
        }
        out[z * m * n + i * n + j] = s;
      }
  return out;
}

export function permuteRef(x: Float64Array, shape: number[], dims: number[]): Float64Array {
  const os = dims.map((d) => shape[d]);
  const st = strides(shape);
  const n = x.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, os);
    let off = 0;
    dims.forEach((d, j) => (off += idx[j] * st[d]));
    out[i] = x[off];
  }
  return out;
}

export function crossEntropyRows(logits: Float64Array, vocab: number, labels: number[], ignore: number): Float64Array {
  const out = new Float64Array(labels.length);
  labels.forEach((l, r) => {
    if (l === ignore) return;
    const row = logits.subarray(r * vocab, (r + 1) * vocab);
    const ls = softmaxRow(row, true);
    out[r] = -ls[l];
  });
  return out;
}
