// Optimizer kernels on both backends against float64 JS references: sum of squares,
// torch's clip_grad_norm_ factor, and AdamW over several steps against torch's
// _single_tensor_adam (decoupled weight decay) written out in f64. Both kernels take groups of
// tensors; a group must give the same bits as its tensors one at a time.
//
// Tolerances (max |got − want| / max |want|, see maxRelError):
//   SUM_TOL   2e-7  f32 sums of squares / norms / clip factors vs f64 (measured ≤ 3.7e-8, lavapipe and wasm)
//   ADAM_TOL  1e-6  parameters and moments after 5 f32 steps vs f64 (measured ≤ 2.4e-7, lavapipe and wasm)
import { afterEach, describe, expect, it } from 'vitest';
import { SUM_SQUARES_GROUP, sumSquaresChunk, sumSquaresParts, type AdamWArgs } from '../../src/backend/kernels.js';
import { downloadF32, maxRelError, randomF32, testBackends } from '../helpers/backends.js';
import { StorageScope } from '../helpers/scope.js';

const SUM_TOL = 2e-7;
const ADAM_TOL = 1e-6;

const backends = await testBackends();

const sumSq = (x: ArrayLike<number>): number => Array.from(x).reduce((s, v) => s + v * v, 0);

interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** torch.optim.AdamW's step (torch/optim/adam.py, _single_tensor_adam, decoupled_weight_decay=True), in f64. */
function adamwStep(p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, h: AdamHyper, step: number): void {
  const bc1 = 1 - h.beta1 ** step;
  const bc2 = 1 - h.beta2 ** step;
  const stepSize = h.lr / bc1;
  for (let i = 0; i < p.length; i++) {
    p[i] *= 1 - h.lr * h.weightDecay;
    m[i] += (1 - h.beta1) * (g[i] - m[i]); // exp_avg.lerp_(grad, 1 − β1)
    v[i] = v[i] * h.beta2 + (1 - h.beta2) * g[i] * g[i];
    const denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + h.eps;
    p[i] -= stepSize * (m[i] / denom);
  }
}

describe.each(backends)('optimizer kernels on $name', ({ backend: b }) => {
  const s = new StorageScope(b);
  afterEach(() => s.free());

  it('cuts x into chunks by n alone: one up to 16384 elements, at most 1024, none empty', () => {
    expect([0, 1, 16_384].map(sumSquaresParts)).toEqual([1, 1, 1]);
    expect([16_385, 70_001, 16_384 * 1024, 16_384 * 1024 + 1, 136_134_656].map(sumSquaresParts)).toEqual([2, 5, 1024, 1024, 1024]);
    for (const n of [16_385, 70_001, 16_384 * 1024 + 1, 136_134_656, 2 ** 30 - 3]) {
      const [parts, chunk] = [sumSquaresParts(n), sumSquaresChunk(n)];
      expect(chunk * parts, `n=${n}`).toBeGreaterThanOrEqual(n);
      expect(chunk * (parts - 1), `n=${n}: last chunk empty`).toBeLessThan(n);
    }
  });

  // 70_001 and 200_003: several chunks, the last one short, and (on WebGPU) a tail shorter than 4 × 256 per thread.
  it.each([0, 1, 7, 257, 70_001, 200_003])('sumSquares of %i elements into its slots only, each chunk its own sum', async (n) => {
    const x = randomF32(n, n + 1, -2, 2);
    const [parts, chunk] = [sumSquaresParts(n), sumSquaresChunk(n)];
    const out = s.input(new Float32Array(parts + 3).fill(-1));
    b.sumSquares({ xs: [{ x: s.input(x), n, slot: 2 }], out });
    const got = await downloadF32(b, out, parts + 3);
    expect([got[0], got[1], got[parts + 2]]).toEqual([-1, -1, -1]);
    const want = Array.from({ length: parts }, (_, p) => sumSq(x.subarray(p * chunk, (p + 1) * chunk)));
    expect(maxRelError(got.subarray(2, parts + 2), want)).toBeLessThanOrEqual(SUM_TOL);
  });

  it('sumSquares of a full group equals its tensors one at a time, bit for bit', async () => {
    const sizes = [70_001, 0, 1, 257, 16_385, 7, 200_003]; // SUM_SQUARES_GROUP of them, several chunked
    expect(sizes.length).toBe(SUM_SQUARES_GROUP);
    const xs = sizes.map((n, j) => ({ x: s.input(randomF32(n, 40 + j, -3, 3)), n }));
    const slots = sizes.map((_, j) => 1 + sizes.slice(0, j).reduce((a, n) => a + sumSquaresParts(n), 0));
    const count = slots[slots.length - 1] + sumSquaresParts(sizes[sizes.length - 1]) + 1;
    const grouped = s.input(new Float32Array(count).fill(-1));
    const single = s.input(new Float32Array(count).fill(-1));
    // Listed out of slot order: a tensor's slots come from its entry, not its position.
    b.sumSquares({ xs: xs.map((e, j) => ({ ...e, slot: slots[j] })).reverse(), out: grouped });
    xs.forEach((e, j) => b.sumSquares({ xs: [{ ...e, slot: slots[j] }], out: single }));
    const [g, one] = [await downloadF32(b, grouped, count), await downloadF32(b, single, count)];
    expect(Array.from(g)).toEqual(Array.from(one));
    expect([g[0], g[count - 1]]).toEqual([-1, -1]);
    const x4 = await downloadF32(b, xs[4].x, sizes[4]);
    const chunk = sumSquaresChunk(sizes[4]);
    expect(maxRelError(g.subarray(slots[4], slots[4] + 2), [sumSq(x4.subarray(0, chunk)), sumSq(x4.subarray(chunk))])).toBeLessThanOrEqual(SUM_TOL);
  });

  describe('clipScale', () => {
    const parts = [randomF32(1000, 1), randomF32(33, 2, -5, 5), randomF32(1, 3)];
    const norm = Math.sqrt(parts.reduce((a, p) => a + sumSq(p), 0));

    async function clip(maxNorm: number): Promise<Float32Array> {
      const sumsq = s.output(parts.length);
      b.sumSquares({ xs: parts.map((p, i) => ({ x: s.input(p), n: p.length, slot: i })), out: sumsq }); // one slot each: all ≤ 16384
      const out = s.output(2);
      b.clipScale({ sumsq, count: parts.length, maxNorm, out });
      return downloadF32(b, out, 2);
    }

    it('scales by maxNorm / (norm + 1e-6) when the norm exceeds maxNorm', async () => {
      const maxNorm = norm / 4;
      const [scale, gotNorm] = await clip(maxNorm);
      expect(maxRelError([gotNorm], [norm])).toBeLessThanOrEqual(SUM_TOL);
      expect(maxRelError([scale], [maxNorm / (norm + 1e-6)])).toBeLessThanOrEqual(SUM_TOL);
    });

    it('leaves gradients alone (scale 1) below maxNorm', async () => {
      const [scale, gotNorm] = await clip(norm * 2);
      expect(scale).toBe(1);
      expect(maxRelError([gotNorm], [norm])).toBeLessThanOrEqual(SUM_TOL);
    });

    it.each([0, -1])('is off for maxNorm = %i (scale 1, norm still reported)', async (maxNorm) => {
      const [scale, gotNorm] = await clip(maxNorm);
      expect(scale).toBe(1);
      expect(maxRelError([gotNorm], [norm])).toBeLessThanOrEqual(SUM_TOL);
    });
  });

  describe('adamw', () => {
    // β1 = 0.3 makes the lerp weight 0.7 ≥ 0.5: torch's other lerp form.
    it.each([
      { name: 'defaults with weight decay and clipping', lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, clip: 0.5 },
      { name: 'no weight decay, no clipping', lr: 3e-4, beta1: 0.9, beta2: 0.95, eps: 1e-6, weightDecay: 0, clip: 1 },
      { name: 'β1 < 0.5, large lr and decay', lr: 0.05, beta1: 0.3, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, clip: 0.25 },
    ])('5 steps match torch in f64: $name', async ({ clip, ...h }) => {
      // Two tensors in one call, their moments at offsets of shared buffers; 1031 is not a
      // multiple of 4, so the SIMD body and the scalar tail both run on wasm.
      const sizes = [1031, 300];
      const at = [5, 1040];
      const total = at[1] + sizes[1] + 3;
      const p64 = sizes.map((n, j) => Float64Array.from(randomF32(n, 5 + j, -1, 1)));
      const [m64, v64] = [sizes.map((n) => new Float64Array(n)), sizes.map((n) => new Float64Array(n))];
      const params = p64.map((p) => s.input(Float32Array.from(p)));
      const [m, v] = [s.input(new Float32Array(total)), s.input(new Float32Array(total))];
      const scale = s.input(new Float32Array([clip]));
      for (let step = 1; step <= 5; step++) {
        // Gradients span magnitudes, so eps matters for some elements and not for others.
        const grads = sizes.map((n, j) => randomF32(n, 100 + 10 * j + step, -1, 1).map((g, i) => g * 10 ** ((i % 7) - 4)));
        b.adamw({ tensors: sizes.map((n, j) => ({ param: params[j], grad: s.input(grads[j]), n, at: at[j] })), m, v, scale, ...h, step });
        sizes.forEach((_, j) => adamwStep(p64[j], Float64Array.from(grads[j], (g) => g * Math.fround(clip)), m64[j], v64[j], h, step));
      }
      const [mAll, vAll] = [await downloadF32(b, m, total), await downloadF32(b, v, total)];
      for (const [j, n] of sizes.entries()) {
        const errs = {
          param: maxRelError(await downloadF32(b, params[j], n), p64[j]),
          m: maxRelError(mAll.subarray(at[j], at[j] + n), m64[j]),
          v: maxRelError(vAll.subarray(at[j], at[j] + n), v64[j]),
        };
        for (const [k, e] of Object.entries(errs)) expect(e, `tensor ${j} ${k}: max rel error ${e}`).toBeLessThanOrEqual(ADAM_TOL);
      }
      expect([mAll[0], mAll[total - 1], vAll[4], vAll[at[0] + sizes[0]]]).toEqual([0, 0, 0, 0]); // elements outside both ranges untouched
    });

    it('updates a group exactly as one tensor at a time', async () => {
      const sizes = [700, 260];
      const h = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 };
      const scale = s.input(new Float32Array([0.75]));
      const grads = sizes.map((n, j) => s.input(randomF32(n, 70 + j, -1, 1)));
      const run = async (grouped: boolean): Promise<number[]> => {
        const params = sizes.map((n, j) => s.input(randomF32(n, 60 + j, -1, 1)));
        const [m, v] = [s.input(new Float32Array(960)), s.input(new Float32Array(960))];
        const tensors = sizes.map((n, j) => ({ param: params[j], grad: grads[j], n, at: j * 700 }));
        if (grouped) b.adamw({ tensors, m, v, scale, ...h });
        else for (const t of tensors) b.adamw({ tensors: [t], m, v, scale, ...h });
        return [...(await downloadF32(b, params[0], 700)), ...(await downloadF32(b, params[1], 260)), ...(await downloadF32(b, m, 960)), ...(await downloadF32(b, v, 960))];
      };
      expect(await run(true)).toEqual(await run(false));
    });

    it('rejects bad hyperparameters and short operands, naming the op', () => {
      const [x, small] = [s.output(8), s.output(2)];
      const [p, g] = [s.output(8), s.output(8)];
      const base: AdamWArgs = { tensors: [{ param: p, grad: g, n: 8, at: 0 }], m: x, v: s.output(8), scale: s.output(1), lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 };
      expect(() => b.adamw({ ...base, step: 0 })).toThrow(/adamw \[8\] step 0: step must be an integer ≥ 1/);
      expect(() => b.adamw({ ...base, beta2: 1 })).toThrow(/adamw .*: beta2 must be in \[0, 1\)/);
      expect(() => b.adamw({ ...base, v: small })).toThrow(/adamw \[8\] step 1: operand 'v' holds 8 bytes but needs 32/);
      expect(() => b.adamw({ ...base, tensors: [] })).toThrow(/adamw \[\] step 1: takes 1 to 2 tensors, got 0/);
      const second = { param: s.output(8), grad: g, n: 4, at: 6 };
      expect(() => b.adamw({ ...base, m: s.output(16), v: s.output(16), tensors: [base.tensors[0], second] })).toThrow(/adamw \[8, 4\] step 1: two tensors share moment elements/);
      expect(() => b.adamw({ ...base, m: p })).toThrow(/adamw \[8\] step 1: a written buffer is also passed as another operand/);
      expect(() => b.sumSquares({ xs: [{ x, n: 8, slot: 2 }], out: small })).toThrow(/sumSquares \[8\] → slots 2…2: operand 'out' holds 8 bytes but needs 12/);
      expect(() => b.sumSquares({ xs: [{ x, n: 8, slot: 0 }, { x: p, n: 8, slot: 0 }], out: s.output(4) })).toThrow(/sumSquares .*: two tensors share output slots/);
      expect(() => b.sumSquares({ xs: [{ x, n: 8, slot: 0 }], out: x })).toThrow(/sumSquares .*: a written buffer is also passed as another operand/);
      expect(() => b.sumSquares({ xs: Array.from({ length: SUM_SQUARES_GROUP + 1 }, (_, j) => ({ x, n: 8, slot: j })), out: s.output(8) })).toThrow(
        /sumSquares .*: takes 1 to 7 tensors, got 8/,
      );
      expect(() => b.clipScale({ sumsq: x, count: 8, maxNorm: 1, out: s.input(new Float32Array(1)) })).toThrow(/clipScale .*: operand 'out' holds 4 bytes but needs 8/);
    });
  });
});
