// Every differentiable op, on both backends: forward against a float64 reference and
// gradients against finite differences of that reference.
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/tensor/runtime.js';
import { randomF32, testBackends } from '../helpers/backends.js';
import { checkOp, type Input } from '../helpers/gradcheck.js';
import * as R from '../helpers/reference.js';
import { f32ToBf16Bits } from '../../src/tensor/dtype.js';

const backends = await testBackends();
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const inp = (shape: number[], seed: number, lo = -1, hi = 1, grad = true): Input => ({ shape, data: randomF32(size(shape), seed, lo, hi), grad });

describe.each(backends)('ops on $name', ({ backend }) => {
  const rt = new Runtime(backend);
  const ops = rt.ops;

  describe('broadcasting arithmetic', () => {
    const cases: [string, number[], number[]][] = [
      ['same shape', [2, 3], [2, 3]],
      ['row broadcast', [2, 3, 4], [4]],
      ['column broadcast', [2, 3, 4], [3, 1]],
      ['both broadcast', [3, 1], [1, 5]],
      ['scalar-like', [1], [2, 3]],
    ];
    const fns = {
      add: [(a: number, b: number) => a + b, ops.add],
      sub: [(a: number, b: number) => a - b, ops.sub],
      mul: [(a: number, b: number) => a * b, ops.mul],
      div: [(a: number, b: number) => a / b, ops.div],
    } as const;
    for (const [name, [f, op]] of Object.entries(fns))
      it.each(cases)(`${name}: %s`, async (_, as, bs) => {
        const b = name === 'div' ? inp(bs, 2, 0.5, 2) : inp(bs, 2);
        await checkOp(rt, [inp(as, 1), b], ([x, y]) => op(x, y), ([x, y]) => R.binaryRef(f, x, as, y, bs));
      });
  });

  describe('unary', () => {
    const positive = new Set(['log', 'sqrt', 'rsqrt']);
    for (const [name, f] of Object.entries(R.unaryRefs))
      it(name, async () => {
        const x = positive.has(name) ? inp([3, 7], 3, 0.3, 3) : inp([3, 7], 3, -3, 3);
        if (name === 'relu') x.data.forEach((v, i) => Math.abs(v) < 0.05 && (x.data[i] = 0.5)); // away from the kink
        await checkOp(rt, [x], ([t]) => ops.unaryOp(name as never, t, 0.75), ([t]) => t.map((v) => f(v, 0.75)), { fwdTol: 2e-6 });
      });
  });

  describe('reductions', () => {
    const shape = [2, 3, 4];
    it.each([[0], [1], [2], [-1]])('sum over axis %i', async (axis) => {
      const ax = axis < 0 ? axis + 3 : axis;
      const outer = size(shape.slice(0, ax));
      const inner = size(shape.slice(ax + 1));
      await checkOp(rt, [inp(shape, 4)], ([x]) => ops.sum(x, axis), ([x]) => R.reduceRef(x, outer, shape[ax], inner, false));
    });
    it('mean over axis 1 keepdim', async () => {
      await checkOp(rt, [inp(shape, 5)], ([x]) => ops.mean(x, 1, true), ([x]) => R.reduceRef(x, 2, 3, 4, true));
    });
    it('sum of everything', async () => {
      await checkOp(rt, [inp([5, 7], 6)], ([x]) => ops.sum(x), ([x]) => R.reduceRef(x, 1, 35, 1, false));
    });
  });

  describe('layout', () => {
    it('permute', async () => {
      const s = [2, 3, 4];
      await checkOp(rt, [inp(s, 7)], ([x]) => ops.permute(x, [2, 0, 1]), ([x]) => R.permuteRef(x, s, [2, 0, 1]));
    });
    it('transpose', async () => {
      await checkOp(rt, [inp([3, 5], 8)], ([x]) => ops.transpose(x), ([x]) => R.permuteRef(x, [3, 5], [1, 0]));
    });
    it('slice', async () => {
      await checkOp(rt, [inp([4, 5], 9)], ([x]) => ops.slice(x, 1, 1, 4), ([x]) => Float64Array.from({ length: 12 }, (_, i) => x[Math.floor(i / 3) * 5 + 1 + (i % 3)]));
    });
    it('concat', async () => {
      await checkOp(rt, [inp([2, 3], 10), inp([2, 2], 11)], ([a, b]) => ops.concat([a, b], 1), ([a, b]) =>
        Float64Array.from({ length: 10 }, (_, i) => {
          const r = Math.floor(i / 5);
          const c = i % 5;
          return c < 3 ? a[r * 3 + c] : b[r * 2 + c - 3];
        }),
      );
    });
    it('slices of one tensor, used apart and overlapping, get one assembled gradient', async () => {
      // y = [x[:, 0:2]·2, x[:, 2:5], x[:, 1:3]] — two parts tile the columns, one overlaps both.
      await checkOp(
        rt,
        [inp([3, 5], 40)],
        ([x]) => ops.concat([ops.scale(ops.slice(x, 1, 0, 2), 2), ops.slice(x, 1, 2, 5), ops.slice(x, 1, 1, 3)], 1),
        ([x]) => Float64Array.from({ length: 21 }, (_, i) => {
          const [r, c] = [Math.floor(i / 7), i % 7];
          return c < 2 ? 2 * x[r * 5 + c] : c < 5 ? x[r * 5 + c] : x[r * 5 + c - 4];
        }),
      );
    });
    it('a slice along rows and one along columns of the same tensor', async () => {
      await checkOp(rt, [inp([4, 3], 41)], ([x]) => ops.concat([ops.reshape(ops.slice(x, 0, 1, 3), [6]), ops.reshape(ops.slice(x, 1, 1, 3), [8])], 0), ([x]) =>
        Float64Array.from({ length: 14 }, (_, i) => (i < 6 ? x[3 + i] : x[Math.floor((i - 6) / 2) * 3 + 1 + ((i - 6) % 2)])),
      );
    });
    it('expand', async () => {
      await checkOp(rt, [inp([3, 1], 12)], ([x]) => ops.expand(x, [2, 3, 4]), ([x]) => R.binaryRef((a) => a, x, [3, 1], new Float64Array(24), [2, 3, 4]));
    });
    it('reshape passes gradients through', async () => {
      await checkOp(rt, [inp([2, 6], 13)], ([x]) => ops.mul(ops.reshape(x, [3, -1]), ops.reshape(x, [3, 4])), ([x]) => x.map((v) => v * v));
    });
  });

  describe('matmul', () => {
    for (const transA of [false, true])
      for (const transB of [false, true])
        it(`transA=${transA} transB=${transB}, batched with shared B`, async () => {
          const [batch, m, n, k] = [2, 3, 5, 4];
          const as = transA ? [batch, k, m] : [batch, m, k];
          const bs = transB ? [n, k] : [k, n];
          await checkOp(rt, [inp(as, 14), inp(bs, 15)], ([a, b]) => ops.matmul(a, b, { transA, transB }), ([a, b]) => R.matmulRef(a, b, batch, m, n, k, transA, transB, false));
        });
    it('per-batch B', async () => {
      await checkOp(rt, [inp([3, 2, 4], 16), inp([3, 4, 5], 17)], ([a, b]) => ops.matmul(a, b), ([a, b]) => R.matmulRef(a, b, 3, 2, 5, 4, false, false, true));
    });
    it('linear with bias', async () => {
      await checkOp(rt, [inp([2, 3, 4], 18), inp([5, 4], 19), inp([5], 20)], ([x, w, b]) => ops.linear(x, w, b), ([x, w, b]) =>
        R.binaryRef((p, q) => p + q, R.matmulRef(x, w, 1, 6, 5, 4, false, true, false), [6, 5], b, [5]),
      );
    });
    it('matmul with a residual (a running sum of products): batched, transposed', async () => {
      const [batch, m, n, k] = [2, 3, 5, 4];
      await checkOp(rt, [inp([batch, k, m], 30), inp([n, k], 31), inp([batch, m, n], 32)], ([a, b, r]) => ops.matmul(a, b, { transA: true, transB: true, residual: r }), ([a, b, r]) =>
        R.matmulRef(a, b, batch, m, n, k, true, true, false).map((v, i) => r[i] + v),
      );
    });
    it('linear with bias and residual: the residual gets the output gradient', async () => {
      const ref = ([x, w, b, r]: Float64Array[]) => {
        const y = R.binaryRef((p, q) => p + q, R.matmulRef(x, w, 1, 6, 5, 4, false, true, false), [6, 5], b, [5]);
        return y.map((v, i) => r[i] + v);
      };
      await checkOp(rt, [inp([2, 3, 4], 23), inp([5, 4], 24), inp([5], 25), inp([2, 3, 5], 26)], ([x, w, b, r]) => ops.linear(x, w, b, r), ref);
      await checkOp(rt, [inp([6, 4], 27), inp([5, 4], 28), inp([6, 5], 29)], ([x, w, r]) => ops.linear(x, w, null, r), ([x, w, r]) =>
        R.matmulRef(x, w, 1, 6, 5, 4, false, true, false).map((v, i) => r[i] + v),
      );
    });
    it('linear: a residual of the wrong shape is named', () => {
      rt.scope(() => {
        const [x, w] = [rt.zeros([6, 4]), rt.zeros([5, 4])];
        expect(() => ops.linear(x, w, null, rt.zeros([5, 6]))).toThrow(/linear: residual .*f32\[5,6\] does not match the output \[6,5\]/);
      });
    });
    it('linearStack: weights stacked in one product, with a bias on some layers', async () => {
      // 70 rows: above the text model's stacking threshold, as in training.
      const [rows, k, outs] = [70, 4, [5, 3, 2]];
      const n = outs.reduce((a, b) => a + b, 0);
      await checkOp(
        rt,
        [inp([rows, k], 42), inp([5, k], 43), inp([3, k], 44), inp([2, k], 45), inp([5], 46), inp([2], 47)],
        ([x, w0, w1, w2, b0, b2]) => ops.linearStack(x, [w0, w1, w2], [b0, null, b2]),
        ([x, w0, w1, w2, b0, b2]) => {
          const ws = [w0, w1, w2];
          const bs = [b0, null, b2];
          return Float64Array.from({ length: rows * n }, (_, i) => {
            const [r, c] = [Math.floor(i / n), i % n];
            const part = c < 5 ? 0 : c < 8 ? 1 : 2;
            const j = c - [0, 5, 8][part];
            let s = bs[part]?.[j] ?? 0;
            for (let q = 0; q < k; q++) s += x[r * k + q] * ws[part][j * k + q];
            return s;
          });
        },
      );
    });
    it('linearStack: one row, biases on every layer', async () => {
      await checkOp(
        rt,
        [inp([1, 3], 53), inp([2, 3], 54), inp([4, 3], 55), inp([2], 56), inp([4], 57)],
        ([x, w0, w1, b0, b1]) => ops.linearStack(x, [w0, w1], [b0, b1]),
        ([x, w0, w1, b0, b1]) => {
          const [w, b] = [Float64Array.from([...w0, ...w1]), [...b0, ...b1]];
          return R.matmulRef(x, w, 1, 1, 6, 3, false, true, false).map((v, j) => v + b[j]);
        },
      );
    });
    it('linearStack: frozen (unchecked) weights, a batched input, no biases', async () => {
      await checkOp(
        rt,
        [inp([2, 3, 4], 48), inp([3, 4], 49, -1, 1, false), inp([2, 4], 50)],
        ([x, w0, w1]) => ops.linearStack(x, [w0, w1]),
        ([x, w0, w1]) => {
          const w = Float64Array.from([...w0, ...w1]);
          return R.matmulRef(x, w, 1, 6, 5, 4, false, true, false);
        },
      );
    });
    it('linearStack: frozen bf16 weights are stacked word for word', async () => {
      const w = randomF32(24, 51);
      const bits = Uint16Array.from(w, f32ToBf16Bits);
      const wRounded = Float64Array.from(bits, (b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]);
      const [w0, w1] = [rt.keep(rt.packed(bits.slice(0, 8), [2, 4], 'bf16')), rt.keep(rt.packed(bits.slice(8), [4, 4], 'bf16'))];
      await checkOp(rt, [inp([3, 4], 52)], ([x]) => ops.linearStack(x, [w0, w1]), ([x]) => R.matmulRef(x, wRounded, 1, 3, 6, 4, false, true, false));
      w0.release();
      w1.release();
    });
    it('linearStack: bad weights and biases are named', () => {
      rt.scope(() => {
        const x = rt.zeros([2, 4]);
        expect(() => ops.linearStack(x, [])).toThrow(/linearStack: no weights/);
        expect(() => ops.linearStack(x, [rt.zeros([3, 4]), rt.zeros([2, 5])])).toThrow(/linearStack: weight 1 f32\[2,5\] is not \[out, 4\]/);
        expect(() => ops.linearStack(x, [rt.zeros([3, 4])], [rt.zeros([2])])).toThrow(/linearStack: bias 0 f32\[2\] does not match weight f32\[3,4\]/);
        expect(() => ops.linearStack(x, [rt.zeros([3, 4]), rt.zeros([3, 4])], [null])).toThrow(/1 biases for 2 weights/);
      });
    });
    it('bf16 weight (frozen) forward and input gradient', async () => {
      const w = randomF32(20, 21);
      const bits = Uint16Array.from(w, f32ToBf16Bits);
      const wRounded = Float64Array.from(bits, (b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]);
      const packed = rt.keep(rt.packed(bits, [5, 4], 'bf16'));
      await checkOp(rt, [inp([3, 4], 22)], ([x]) => ops.linear(x, packed), ([x]) => R.matmulRef(x, wRounded, 1, 3, 5, 4, false, true, false));
      packed.release();
    });
  });

  describe('normalisation and activations', () => {
    it('softmax', async () => {
      await checkOp(rt, [inp([3, 6], 23, -3, 3)], ([x]) => ops.softmax(x), ([x]) => R.rowsRef(x, 6, (r) => R.softmaxRow(r, false)));
    });
    it('logSoftmax', async () => {
      await checkOp(rt, [inp([3, 6], 24, -3, 3)], ([x]) => ops.logSoftmax(x), ([x]) => R.rowsRef(x, 6, (r) => R.softmaxRow(r, true)));
    });
    it('rmsNorm', async () => {
      await checkOp(rt, [inp([3, 8], 25), inp([8], 26)], ([x, w]) => ops.rmsNorm(x, w, 1e-6), ([x, w]) => R.rmsNormRef(x, w, 1e-6), { gradTol: 2e-4 });
    });
    it('layerNorm', async () => {
      await checkOp(rt, [inp([3, 8], 27), inp([8], 28), inp([8], 29)], ([x, w, b]) => ops.layerNorm(x, w, b, 1e-5), ([x, w, b]) => R.layerNormRef(x, w, b, 1e-5), { gradTol: 2e-4 });
    });
    it('swiglu', async () => {
      await checkOp(rt, [inp([4, 5], 30, -3, 3), inp([4, 5], 31)], ([g, u]) => ops.swiglu(g, u), ([g, u]) => g.map((v, i) => v * R.sigmoid(v) * u[i]));
    });
    it('swigluStacked: gate and up side by side in each row', async () => {
      await checkOp(rt, [inp([2, 3, 10], 32, -3, 3)], ([x]) => ops.swigluStacked(x), ([x]) =>
        Float64Array.from({ length: 30 }, (_, i) => {
          const [r, c] = [Math.floor(i / 5), i % 5];
          const g = x[r * 10 + c];
          return g * R.sigmoid(g) * x[r * 10 + 5 + c];
        }),
      );
    });
    it('swigluStacked: an odd width is refused', () => {
      rt.scope(() => expect(() => ops.swigluStacked(rt.zeros([2, 5]))).toThrow(/swigluStacked: the last axis of f32\[2,5\] must hold gate and up side by side/));
    });
  });

  describe('embedding and loss', () => {
    it('gatherRows with repeated ids accumulates the table gradient', async () => {
      const ids = [3, 0, 3, 1, 3];
      const idx = rt.keep(rt.tensor(ids, [5], 'i32'));
      await checkOp(rt, [inp([4, 6], 32)], ([t]) => ops.gatherRows(t, idx), ([t]) => Float64Array.from({ length: 30 }, (_, i) => t[ids[Math.floor(i / 6)] * 6 + (i % 6)]));
      idx.release();
    });
    it('crossEntropy mean over labelled tokens', async () => {
      const labels = [2, -100, 0, 36, -100, 5];
      const lab = rt.keep(rt.tensor(labels, [6], 'i32'));
      await checkOp(rt, [inp([6, 37], 33, -4, 4)], ([x]) => ops.crossEntropy(x, lab), ([x]) => {
        const rows = R.crossEntropyRows(x, 37, labels, -100);
        return Float64Array.of(rows.reduce((a, b) => a + b, 0) / 4);
      });
      lab.release();
    });
    it('per-token cross-entropy', async () => {
      const labels = [1, 4, -100];
      const lab = rt.keep(rt.tensor(labels, [3], 'i32'));
      await checkOp(rt, [inp([3, 9], 34, -4, 4)], ([x]) => ops.tokenCrossEntropy(x, lab), ([x]) => R.crossEntropyRows(x, 9, labels, -100));
      lab.release();
    });
  });
});
