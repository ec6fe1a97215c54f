// Row-wise kernels on both backends against float64 references; every *Grad kernel also
// against central finite differences of the f64 forward.
//
// Tolerances (max |got − want| / max |want|, see maxRelError). Measured on lavapipe and
// wasm: at most 3.2e-7 forward (softmax, 32000-long rows) and 2.8e-7 for gradients.
//   FWD_TOL  1e-6  f32 forward vs f64
//   GRAD_TOL 1e-6  f32 gradient kernels vs f64 finite differences / f64 analytic gradients
// Gathers and the ordered scatter-add are checked bit-exactly.
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { downloadF32, maxRelError, randomF32, testBackends } from '../helpers/backends.js';
import { crossEntropyRows, layerNormRef, rmsNormRef, rowsRef, softmaxRow } from '../helpers/reference.js';
import { StorageScope } from '../helpers/scope.js';

const FWD_TOL = 1e-6;
const GRAD_TOL = 1e-6;
const LENGTHS = [1, 7, 257, 4099, 32000];
/** Row lengths for finite-difference checks (O(cols²) per row). */
const FD_LENGTHS = [1, 7, 257];
const rowsFor = (cols: number) => (cols > 1000 ? 2 : 3);

const backends = await testBackends();

/** Central differences of f (f64) with respect to every element of x. */
function finiteDiff(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  const probe = Float64Array.from(x);
  for (let i = 0; i < x.length; i++) {
    const step = h * Math.max(1, Math.abs(x[i]));
    probe[i] = x[i] + step;
    const up = f(probe);
    probe[i] = x[i] - step;
    const down = f(probe);
    probe[i] = x[i];
    g[i] = (up - down) / (2 * step);
  }
  return g;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
/** Row r of x [rows, cols] as a fresh f64 array. */
const row = (x: Float32Array | Float64Array, r: number, cols: number) => Float64Array.from(x.subarray(r * cols, (r + 1) * cols));

/** Per-row statistics the norm kernels save: mean and rstd (f64). */
function normStats(x: Float32Array, rows: number, cols: number, centered: boolean): { mean: Float64Array; rstd: Float64Array; eps: number } {
  const eps = 1e-6;
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const xr = row(x, r, cols);
    mean[r] = centered ? xr.reduce((s, v) => s + v, 0) / cols : 0;
    rstd[r] = 1 / Math.sqrt(xr.reduce((s, v) => s + (v - mean[r]) ** 2, 0) / cols + eps);
  }
  return { mean, rstd, eps };
}

/** `floor` raises the error's denominator when the reference is a near-cancelling difference of larger terms. */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string, floor?: number): void {
  const err = maxRelError(got, want, floor);
  expect(err, `${what}: max rel error ${err}`).toBeLessThanOrEqual(tol);
}

describe.each(backends)('row kernels on $name', ({ backend }) => {
  const s = new StorageScope(backend);
  afterEach(() => s.free());
  const b: Backend = backend;

  describe.each([false, true])('softmax (log = %s)', (log) => {
    it.each(LENGTHS)('forward, rows of %i', async (cols) => {
      const rows = rowsFor(cols);
      const x = randomF32(rows * cols, cols, -4, 4);
      const out = s.output(rows * cols);
      b.softmax({ x: s.input(x), out, rows, cols, log });
      expectClose(await downloadF32(b, out, rows * cols), rowsRef(Float64Array.from(x), cols, (r) => softmaxRow(r, log)), FWD_TOL, 'softmax');
    });

    it('masks −∞ entries to exp = 0 without NaN', async () => {
      const cols = 300;
      const x = randomF32(2 * cols, 5, -2, 2);
      for (let c = 0; c < cols; c += 3) x[c] = -Infinity; // row 0 partly masked
      for (let c = 260; c < cols; c++) x[cols + c] = -Infinity; // row 1: a masked tail
      const out = s.output(2 * cols);
      b.softmax({ x: s.input(x), out, rows: 2, cols, log });
      const got = await downloadF32(b, out, 2 * cols);
      const want = rowsRef(Float64Array.from(x), cols, (r) => softmaxRow(r, log));
      for (let i = 0; i < got.length; i++) if (x[i] === -Infinity) expect(got[i]).toBe(log ? -Infinity : 0);
      const finite = (a: ArrayLike<number>) => Array.from(a).map((v, i) => (x[i] === -Infinity ? 0 : v));
      expectClose(finite(got), finite(want), FWD_TOL, 'masked softmax');
    });

    it.each(FD_LENGTHS)('grad vs finite differences, rows of %i', async (cols) => {
      const rows = rowsFor(cols);
      const x = randomF32(rows * cols, 11 + cols, -3, 3);
      const gy = randomF32(rows * cols, 12 + cols);
      const y = rowsRef(Float64Array.from(x), cols, (r) => softmaxRow(r, log));
      const gx = s.output(rows * cols);
      b.softmaxGrad({ y: s.input(Float32Array.from(y)), gy: s.input(gy), gx, rows, cols, log });
      const got = await downloadF32(b, gx, rows * cols);
      const want = new Float64Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        const gr = row(gy, r, cols);
        want.set(finiteDiff((xr) => dot(gr, softmaxRow(xr, log)), row(x, r, cols)), r * cols);
      }
      expectClose(got, want, GRAD_TOL, 'softmax grad');
    });

    it.each([4099, 32000])('grad vs the f64 formula, rows of %i', async (cols) => {
      const rows = 2;
      const x = randomF32(rows * cols, cols + 1, -3, 3);
      const gy = randomF32(rows * cols, cols + 2);
      const y = rowsRef(Float64Array.from(x), cols, (r) => softmaxRow(r, log));
      const gx = s.output(rows * cols);
      b.softmaxGrad({ y: s.input(Float32Array.from(y)), gy: s.input(gy), gx, rows, cols, log });
      const want = new Float64Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        const yr = y.subarray(r * cols, (r + 1) * cols);
        const gr = row(gy, r, cols);
        const d = log ? gr.reduce((a, v) => a + v, 0) : dot(gr, yr);
        for (let c = 0; c < cols; c++) want[r * cols + c] = log ? gr[c] - Math.exp(yr[c]) * d : yr[c] * (gr[c] - d);
      }
      expectClose(await downloadF32(b, gx, rows * cols), want, GRAD_TOL, 'softmax grad');
    });
  });

  describe('rmsNorm', () => {
    it.each(LENGTHS)('forward and rstd, rows of %i', async (cols) => {
      const rows = rowsFor(cols);
      const x = randomF32(rows * cols, 21 + cols, -2, 2);
      const w = randomF32(cols, 22 + cols, 0.5, 1.5);
      const { rstd: wantRstd, eps } = normStats(x, rows, cols, false);
      const [out, rstd] = [s.output(rows * cols), s.output(rows)];
      b.rmsNorm({ x: s.input(x), weight: s.input(w), out, rstd, rows, cols, eps });
      expectClose(await downloadF32(b, out, rows * cols), rmsNormRef(Float64Array.from(x), Float64Array.from(w), eps), FWD_TOL, 'rmsNorm');
      expectClose(await downloadF32(b, rstd, rows), wantRstd, FWD_TOL, 'rmsNorm rstd');
    });

    it.each(FD_LENGTHS)('grads (x and per-row w) vs finite differences, rows of %i', async (cols) => {
      const rows = rowsFor(cols);
      const x = randomF32(rows * cols, 31 + cols, -2, 2);
      const w = randomF32(cols, 32 + cols, 0.5, 1.5);
      const gy = randomF32(rows * cols, 33 + cols);
      const { rstd, eps } = normStats(x, rows, cols, false);
      const [gx, gwRows] = [s.output(rows * cols), s.output(rows * cols)];
      b.rmsNormGrad({ x: s.input(x), weight: s.input(w), rstd: s.input(Float32Array.from(rstd)), gy: s.input(gy), gx, gwRows, rows, cols });
      const [wantX, wantW] = [new Float64Array(rows * cols), new Float64Array(rows * cols)];
      const w64 = Float64Array.from(w);
      for (let r = 0; r < rows; r++) {
        const [xr, gr] = [row(x, r, cols), row(gy, r, cols)];
        wantX.set(finiteDiff((v) => dot(gr, rmsNormRef(v, w64, eps)), xr), r * cols);
        wantW.set(finiteDiff((v) => dot(gr, rmsNormRef(xr, v, eps)), w64), r * cols);
      }
      // gx = rstd·(w⊙gy − x̂·mean(x̂⊙w⊙gy)) cancels to ≈ 0 for a single column; measure against the terms' size.
      let terms = 0;
      for (let i = 0; i < rows * cols; i++) terms = Math.max(terms, rstd[Math.floor(i / cols)] * Math.abs(w[i % cols] * gy[i]));
      expectClose(await downloadF32(b, gx, rows * cols), wantX, GRAD_TOL, 'rmsNorm gx', terms);
      expectClose(await downloadF32(b, gwRows, rows * cols), wantW, GRAD_TOL, 'rmsNorm gwRows');
    });
  });

  describe('layerNorm', () => {
    it.each(LENGTHS)('forward, mean and rstd, rows of %i', async (cols) => {
      const rows = rowsFor(cols);
      const x = randomF32(rows * cols, 41 + cols, -2, 3); // off-centre, so the mean matters
      const [w, bias] = [randomF32(cols, 42 + cols, 0.5, 1.5), randomF32(cols, 43 + cols)];
      const { mean: wantMean, rstd: wantRstd, eps } = normStats(x, rows, cols, true);
      const [out, mean, rstd] = [s.output(rows * cols), s.output(rows), s.output(rows)];
      b.layerNorm({ x: s.input(x), weight: s.input(w), bias: s.input(bias), out, mean, rstd, rows, cols, eps });
      const want = layerNormRef(Float64Array.from(x), Float64Array.from(w), Float64Array.from(bias), eps);
      expectClose(await downloadF32(b, out, rows * cols), want, FWD_TOL, 'layerNorm');
      expectClose(await downloadF32(b, mean, rows), wantMean, FWD_TOL, 'layerNorm mean');
      expectClose(await downloadF32(b, rstd, rows), wantRstd, FWD_TOL, 'layerNorm rstd');
    });

    it.each(FD_LENGTHS)('grads (x and per-row w) vs finite differences, rows of %i', async (cols) => {
      const rows = rowsFor(cols);
      const x = randomF32(rows * cols, 51 + cols, -2, 3);
      const [w, bias] = [randomF32(cols, 52 + cols, 0.5, 1.5), randomF32(cols, 53 + cols)];
      const gy = randomF32(rows * cols, 54 + cols);
      const { mean, rstd, eps } = normStats(x, rows, cols, true);
      const [gx, gwRows] = [s.output(rows * cols), s.output(rows * cols)];
      b.layerNormGrad({
        x: s.input(x),
        weight: s.input(w),
        mean: s.input(Float32Array.from(mean)),
        rstd: s.input(Float32Array.from(rstd)),
        gy: s.input(gy),
        gx,
        gwRows,
        rows,
        cols,
      });
      const [w64, b64] = [Float64Array.from(w), Float64Array.from(bias)];
      const [wantX, wantW] = [new Float64Array(rows * cols), new Float64Array(rows * cols)];
      for (let r = 0; r < rows; r++) {
        const [xr, gr] = [row(x, r, cols), row(gy, r, cols)];
        wantX.set(finiteDiff((v) => dot(gr, layerNormRef(v, w64, b64, eps)), xr), r * cols);
        wantW.set(finiteDiff((v) => dot(gr, layerNormRef(xr, v, b64, eps)), w64), r * cols);
      }
      expectClose(await downloadF32(b, gx, rows * cols), wantX, GRAD_TOL, 'layerNorm gx');
      expectClose(await downloadF32(b, gwRows, rows * cols), wantW, GRAD_TOL, 'layerNorm gwRows');
    });
  });

  describe('crossEntropy', () => {
    const IGNORE = -100;

    async function run(vocab: number, labels: number[], seed: number) {
      const rows = labels.length;
      const logits = randomF32(rows * vocab, seed, -8, 8);
      const gLoss = randomF32(rows, seed + 1, 0.1, 1);
      const [loss, lse, gx] = [s.output(rows), s.output(rows), s.output(rows * vocab)];
      const [tLogits, tLabels] = [s.input(logits), s.input(Int32Array.from(labels))];
      b.crossEntropy({ logits: tLogits, labels: tLabels, loss, lse, rows, vocab, ignoreIndex: IGNORE });
      b.crossEntropyGrad({ logits: tLogits, labels: tLabels, lse, gLoss: s.input(gLoss), gx, rows, vocab, ignoreIndex: IGNORE });
      return {
        logits: Float64Array.from(logits),
        gLoss,
        loss: await downloadF32(b, loss, rows),
        lse: await downloadF32(b, lse, rows),
        gx: await downloadF32(b, gx, rows * vocab),
      };
    }

    it('vocab 32000 with ignore_index rows: loss, lse and grad vs f64', async () => {
      const vocab = 32000;
      const labels = [5, IGNORE, vocab - 1, 0, IGNORE];
      const r = await run(vocab, labels, 61);
      expectClose(r.loss, crossEntropyRows(r.logits, vocab, labels, IGNORE), FWD_TOL, 'loss');
      const lse = labels.map((_, i) => {
        const lr = r.logits.subarray(i * vocab, (i + 1) * vocab);
        const m = Math.max(...lr);
        return m + Math.log(lr.reduce((a, v) => a + Math.exp(v - m), 0));
      });
      expectClose(r.lse, lse, FWD_TOL, 'lse');
      const want = new Float64Array(labels.length * vocab);
      labels.forEach((l, i) => {
        if (l === IGNORE) return;
        for (let c = 0; c < vocab; c++) want[i * vocab + c] = r.gLoss[i] * (Math.exp(r.logits[i * vocab + c] - lse[i]) - (c === l ? 1 : 0));
      });
      expectClose(r.gx, want, GRAD_TOL, 'dlogits');
      for (const i of [1, 4]) {
        expect(r.loss[i]).toBe(0);
        expect(r.gx.subarray(i * vocab, (i + 1) * vocab).every((v) => v === 0)).toBe(true);
      }
    });

    it.each([1, 7, 300])('grad vs finite differences of Σ gLoss·loss, vocab %i', async (vocab) => {
      const labels = [0, IGNORE, vocab - 1];
      const r = await run(vocab, labels, 70 + vocab);
      const want = new Float64Array(labels.length * vocab);
      labels.forEach((l, i) => {
        const g = finiteDiff((v) => r.gLoss[i] * crossEntropyRows(v, vocab, [l], IGNORE)[0], r.logits.subarray(i * vocab, (i + 1) * vocab));
        want.set(g, i * vocab);
      });
      expectClose(r.gx, want, GRAD_TOL, 'dlogits');
    });

    it('gives NaN loss for a label outside [0, vocab) that is not ignoreIndex', async () => {
      const r = await run(10, [10, -1, 3], 80);
      expect(Number.isNaN(r.loss[0]) && Number.isNaN(r.loss[1])).toBe(true);
      expect(Number.isFinite(r.loss[2])).toBe(true);
    });
  });

  describe('gatherRows', () => {
    const idx = [3, 0, 3, 4, 1];
    const nRows = 5;

    /** f64 decodings of 16-bit floats, written from the formats' definitions. */
    const decode = {
      bf16: (h: number) => new Float32Array(new Uint32Array([h << 16]).buffer)[0],
      f16: (h: number) => {
        const sign = h & 0x8000 ? -1 : 1;
        const e = (h >> 10) & 0x1f;
        const m = h & 0x3ff;
        if (e === 0x1f) return m ? NaN : sign * Infinity;
        return e === 0 ? sign * m * 2 ** -24 : sign * (1 + m / 1024) * 2 ** (e - 15);
      },
    };

    it.each([7, 64])('f32 table, %i columns (bit-exact)', async (cols) => {
      const table = randomF32(nRows * cols, cols);
      const out = s.output(idx.length * cols);
      b.gatherRows({ table: s.input(table), tableDtype: 'f32', idx: s.input(Int32Array.from(idx)), out, nIdx: idx.length, cols });
      const want = idx.flatMap((r) => Array.from(table.subarray(r * cols, (r + 1) * cols)));
      expect(Array.from(await downloadF32(b, out, idx.length * cols))).toEqual(want);
    });

    // Odd column counts start rows in the high half of a u32: both halves are exercised.
    it.each([
      ['bf16', 7],
      ['bf16', 64],
      ['f16', 7],
      ['f16', 64],
    ] as const)('packed %s table, %i columns (bit-exact)', async (dtype, cols) => {
      const bits = new Uint16Array(nRows * cols);
      // Normal values of both signs, plus zeros, f16 subnormals and infinities at fixed spots.
      const rnd = randomF32(bits.length, cols + 90, 0, 1);
      for (let i = 0; i < bits.length; i++) bits[i] = ((rnd[i] < 0.5 ? 0x8000 : 0) | (dtype === 'f16' ? 0x0400 + ((rnd[i] * 2 ** 20) & 0x77ff) : 0x3c00 + ((rnd[i] * 2 ** 20) & 0x3fff))) & 0xffff;
      bits[1] = 0x0000;
      bits[2] = 0x8000;
      bits[cols] = dtype === 'f16' ? 0x0001 : 0x0080; // smallest f16 subnormal / smallest normal bf16
      bits[cols + 1] = dtype === 'f16' ? 0x7c00 : 0x7f80; // +∞
      const out = s.output(idx.length * cols);
      b.gatherRows({ table: s.input(bits), tableDtype: dtype, idx: s.input(Int32Array.from(idx)), out, nIdx: idx.length, cols });
      const want = idx.flatMap((r) => Array.from(bits.subarray(r * cols, (r + 1) * cols), decode[dtype]));
      const got = Array.from(await downloadF32(b, out, idx.length * cols));
      expect(got.map((v) => Object.is(v, -0) ? '-0' : v)).toEqual(want.map((v) => (Object.is(v, -0) ? '-0' : v)));
    });
  });

  describe('scatterAddRows', () => {
    /** rows/offsets/order for ids, as the tensor layer builds them: unique ids ascending, positions ascending. */
    function plan(ids: number[]) {
      const order = ids.map((_, i) => i).sort((x, y) => ids[x] - ids[y] || x - y);
      const rows: number[] = [];
      const offsets: number[] = [];
      order.forEach((p, j) => {
        if (j === 0 || ids[p] !== ids[order[j - 1]]) {
          rows.push(ids[p]);
          offsets.push(j);
        }
      });
      offsets.push(order.length);
      return { rows, offsets, order };
    }

    it.each([7, 300])('repeated ids, %i columns: sums in order into listed rows only', async (cols) => {
      const ids = [4, 1, 4, 4, 0, 1, 6];
      const nRows = 8;
      const g = randomF32(ids.length * cols, cols + 100);
      const init = randomF32(nRows * cols, cols + 101);
      const p = plan(ids);
      const out = s.input(init);
      b.scatterAddRows({ g: s.input(g), out, rows: s.input(Int32Array.from(p.rows)), offsets: s.input(Int32Array.from(p.offsets)), order: s.input(Int32Array.from(p.order)), nUnique: p.rows.length, cols });
      // The contract's order, in f32: s = Σ_j g[order[j]] left to right, then out + s.
      const want = Float32Array.from(init);
      p.rows.forEach((r, u) => {
        for (let c = 0; c < cols; c++) {
          let acc = 0;
          for (let j = p.offsets[u]; j < p.offsets[u + 1]; j++) acc = Math.fround(acc + g[p.order[j] * cols + c]);
          want[r * cols + c] = Math.fround(want[r * cols + c] + acc);
        }
      });
      expect(Array.from(await downloadF32(b, out, nRows * cols))).toEqual(Array.from(want));
    });

    it('adds in the given order (the order is visible in f32 rounding)', async () => {
      // (1e8 + 1) − 1e8 = 0 in f32, while (1e8 − 1e8) + 1 = 1.
      const g = new Float32Array([1e8, 1, -1e8]);
      const out = s.input(new Float32Array([0, 0]));
      const common = { g: s.input(g), out, offsets: s.input(Int32Array.from([0, 3])), nUnique: 1, cols: 1 };
      b.scatterAddRows({ ...common, rows: s.input(Int32Array.from([0])), order: s.input(Int32Array.from([0, 1, 2])) });
      b.scatterAddRows({ ...common, rows: s.input(Int32Array.from([1])), order: s.input(Int32Array.from([0, 2, 1])) });
      expect(Array.from(await downloadF32(b, out, 2))).toEqual([0, 1]);
    });
  });

  it('rejects operands too small for the shapes, naming the op', () => {
    const small = s.output(4);
    const big = s.output(64);
    expect(() => b.softmax({ x: small, out: big, rows: 2, cols: 8, log: false })).toThrow(/softmax \[2×8\]: operand 'x' holds 16 bytes but needs 64/);
    expect(() => b.rmsNormGrad({ x: big, weight: big, rstd: big, gy: big, gx: big, gwRows: small, rows: 4, cols: 4 })).toThrow(/rmsNorm backward \[4×4\]: operand 'gwRows'/);
    expect(() => b.crossEntropy({ logits: big, labels: small, loss: big, lse: big, rows: 8, vocab: 8, ignoreIndex: -100 })).toThrow(/crossEntropy \[8×8\]: operand 'labels'/);
    expect(() => b.gatherRows({ table: big, tableDtype: 'bf16', idx: big, out: small, nIdx: 2, cols: 3 })).toThrow(/gatherRows .*: operand 'out'/);
    expect(() => b.layerNorm({ x: big, weight: big, bias: big, out: big, mean: big, rstd: big, rows: 2, cols: 1.5, eps: 1e-5 })).toThrow(/layerNorm .*: cols must be a non-negative integer/);
  });

  it('is bit-identical run to run', async () => {
    const [rows, cols] = [3, 4099];
    const x = s.input(randomF32(rows * cols, 99, -5, 5));
    const outs = [s.output(rows * cols), s.output(rows * cols)];
    for (const out of outs) b.softmax({ x, out, rows, cols, log: false });
    const [a, c] = await Promise.all(outs.map((o) => downloadF32(b, o, rows * cols)));
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(true);
  });
});
