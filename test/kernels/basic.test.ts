// The elementwise family on both backends against float64 references: values, gradients
// (central finite differences of the reference), edge sizes, broadcasting, rank 6, the
// 65535-workgroup fold, packed 16-bit specials and argument errors.
//
// Tolerances (|got − ref| ≤ rtol·|ref| + atol; U = 2⁻²³, one f32 ulp at 1):
//   exact       scale, neg, square, relu, add, sub, mul, unpack, copyStrided: bit-exact / correctly rounded
//   div, sqrt, rsqrt  3U (WGSL allows 2.5 ulp)       exp  (3 + 2|x|)U (WGSL's bound)
//   log         3U + 2⁻²¹ absolute (WGSL's bound)
//   σ family    sigmoid, tanh, silu, gelu_tanh, quick_gelu, swiglu: (6 + 3|x|)U + 1e-12; the |x|
//               term is the f32 rounding of the exp argument, which both backends share
//   gelu_erf    4U + 0.5|x|·1.5e-7: the erf approximation is good to ~6e-8 absolute (1.5e-7
//               with WGSL's looser exp), and 1 + erf cancels for x ≪ 0 as it does in torch
//   gradients   (8 + 4|x|)U + 4U·(1 + |x|)·|gy| against gy·f'(x) by central differences of the
//               f64 reference (1 − s and 1 − t² cancel near saturation in f32, as in torch)
//   reduce      1e-6·Σ|x| per output (summation order differs from the f64 reference)
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import type { BinaryOp, UnaryOp } from '../../src/backend/kernels.js';
import type { Storage } from '../../src/backend/storage.js';
import { UNARY_OPS } from '../../src/backend/args/basic.js';
import type { WebGpuBackend } from '../../src/backend/webgpu/backend.js';
import { reduceWithTile } from '../../src/backend/webgpu/kernels/basic.js';
import { Rng } from '../../src/util/rng.js';
import { downloadF32, randomF32, testBackends, upload } from '../helpers/backends.js';
import { reduceRef, unaryRefs } from '../helpers/reference.js';

const backends = await testBackends();
const U = 2 ** -23;
const EDGE_SIZES = [1, 7, 257, 70_001];
const POISON = -12345.5;

interface Tol {
  rtol: number;
  atol: number;
}

/** Fails, naming the worst element (index, got, want), when any element exceeds its tolerance. */
function expectWithin(got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => Tol, what: string): void {
  expect(got.length, what).toBe(want.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const diff = Math.abs(got[i] - want[i]);
    if (diff === 0) continue;
    const { rtol, atol } = tol(i);
    const excess = diff / (rtol * Math.abs(want[i]) + atol);
    if (!(excess <= 1) && !(excess <= worstExcess)) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  if (worst >= 0) expect.fail(`${what}: element ${worst} is ${got[worst]}, want ${want[worst]} (${worstExcess.toPrecision(3)}× the tolerance)`);
}

/** An output storage of n + 4 elements whose tail holds POISON, to catch writes past n. */
function poisoned(b: Backend, n: number): Storage {
  return upload(b, new Float32Array(n + 4).fill(POISON));
}

async function readChecked(b: Backend, s: Storage, n: number, what: string): Promise<Float32Array> {
  const all = await downloadF32(b, s, n + 4);
  expect(Array.from(all.subarray(n)), `${what}: wrote past n`).toEqual([POISON, POISON, POISON, POISON]);
  return all.subarray(0, n);
}

/** f64 map with a plain loop (typed-array `from` with a map function is slow on large inputs). */
function mapF64(x: ArrayLike<number>, f: (v: number, i: number) => number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i], i);
  return out;
}

/** Calls visit(i, offsetA, offsetB) for each row-major index i of shape, with the offsets of two strided views. */
function walkStrided(shape: number[], sa: number[], sb: number[], visit: (i: number, a: number, b: number) => void): void {
  const n = shape.reduce((p, d) => p * d, 1);
  const idx = shape.map(() => 0);
  let [a, b] = [0, 0];
  for (let i = 0; i < n; i++) {
    visit(i, a, b);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) {
        a += sa[d];
        b += sb[d];
        break;
      }
      idx[d] = 0;
      a -= (shape[d] - 1) * sa[d];
      b -= (shape[d] - 1) * sb[d];
    }
  }
}

function randomBits(n: number, seed: number): Uint32Array {
  const rng = new Rng(seed);
  return Uint32Array.from({ length: n }, () => (rng.next() * 2 ** 32) >>> 0);
}

// ── unary reference data ────────────────────────────────────────────────────────────

const ALPHA = -0.3;

/** Inputs per op: random in its domain plus the points where the kernels switch formulas. */
function unaryInputs(op: UnaryOp, n: number, seed: number): Float32Array {
  const positive = op === 'log' || op === 'sqrt' || op === 'rsqrt';
  const [lo, hi] = positive ? [0.01, 100] : op === 'exp' ? [-10, 10] : [-12, 12];
  const x = randomF32(n, seed, lo, hi);
  const specials = positive
    ? [1, 4, 0.25, 100]
    : op === 'exp'
      ? [0, -1, 1, 80]
      : [0, 1e-30, -1e-30, 0.625, -0.625, Math.SQRT2, -Math.SQRT2, 4 * Math.SQRT2, -4 * Math.SQRT2, 100, -100];
  x.set(specials.slice(0, n));
  return x;
}

function unaryTol(op: UnaryOp, x: number): Tol {
  const ax = Math.abs(x);
  switch (op) {
    case 'scale': case 'neg': case 'square': case 'relu': return { rtol: U / 2, atol: 2 ** -150 }; // correctly rounded, underflow included
    case 'sqrt': case 'rsqrt': return { rtol: 3 * U, atol: 0 };
    case 'exp': return { rtol: (3 + 2 * ax) * U, atol: 0 };
    case 'log': return { rtol: 3 * U, atol: 2 ** -21 };
    case 'gelu_erf': return { rtol: 4 * U, atol: 0.5 * ax * 1.5e-7 };
    default: return { rtol: (6 + 3 * ax) * U, atol: 1e-12 };
  }
}

const f64 = (op: UnaryOp) => (x: number) => unaryRefs[op](x, Math.fround(ALPHA));

/** f'(x) by central differences of the f64 reference, step relative to |x|. */
function derivative(f: (x: number) => number, x: number): number {
  const h = 1e-6 * Math.max(Math.abs(x), 1e-2);
  return (f(x + h) - f(x - h)) / (2 * h);
}

const gradTol = (x: number, gy: number): Tol => ({ rtol: (8 + 4 * Math.abs(x)) * U, atol: 4 * U * (1 + Math.abs(x)) * Math.abs(gy) });

describe.each(backends)('elementwise kernels on $name', ({ name, backend: b }) => {
  async function runUnary(op: UnaryOp, x: Float32Array): Promise<Float32Array> {
    const xs = upload(b, x);
    const out = poisoned(b, x.length);
    b.unary({ op, x: xs, out, n: x.length, alpha: ALPHA });
    const got = await readChecked(b, out, x.length, `unary ${op}`);
    b.free(xs);
    b.free(out);
    return got;
  }

  async function runUnaryGrad(op: UnaryOp, x: Float32Array, gy: Float32Array): Promise<Float32Array> {
    const [xs, gys] = [upload(b, x), upload(b, gy)];
    const gx = poisoned(b, x.length);
    b.unaryGrad({ op, x: xs, gy: gys, gx, n: x.length, alpha: ALPHA });
    const got = await readChecked(b, gx, x.length, `unaryGrad ${op}`);
    [xs, gys, gx].forEach((s) => b.free(s));
    return got;
  }

  describe('unary', () => {
    it.each(UNARY_OPS)('%s matches the f64 reference', async (op) => {
      const x = unaryInputs(op, 257, 11);
      const got = await runUnary(op, x);
      const want = mapF64(x, f64(op));
      expectWithin(got, want, (i) => unaryTol(op, x[i]), `unary ${op}`);
    });

    it.each(EDGE_SIZES)('silu over %i elements', async (n) => {
      const x = unaryInputs('silu', n, n);
      expectWithin(await runUnary('silu', x), mapF64(x, f64('silu')), (i) => unaryTol('silu', x[i]), `silu [${n}]`);
    });

    it('relu keeps −0 and maps −x to +0', async () => {
      const got = await runUnary('relu', new Float32Array([-0, 0, -3, 2]));
      expect(Array.from(got)).toEqual([-0, 0, 0, 2]);
      expect(Object.is(got[0], -0)).toBe(true);
    });
  });

  describe('unaryGrad', () => {
    it.each(UNARY_OPS)('%s matches finite differences of the reference', async (op) => {
      // exp stays finite; relu stays off its kink, where finite differences see a slope of ½.
      const x = unaryInputs(op, 257, 12).map((v) => (op === 'exp' && v > 20 ? 20 : op === 'relu' && Math.abs(v) < 1e-2 ? 0.5 : v));
      const gy = randomF32(x.length, 13);
      const got = await runUnaryGrad(op, x, gy);
      const want = mapF64(x, (v, i) => gy[i] * derivative(f64(op), v));
      expectWithin(got, want, (i) => gradTol(x[i], gy[i]), `unaryGrad ${op}`);
    });

    it.each(EDGE_SIZES)('gelu_erf over %i elements', async (n) => {
      const [x, gy] = [unaryInputs('gelu_erf', n, 3), randomF32(n, 4)];
      const want = mapF64(x, (v, i) => gy[i] * derivative(f64('gelu_erf'), v));
      expectWithin(await runUnaryGrad('gelu_erf', x, gy), want, (i) => gradTol(x[i], gy[i]), `gelu_erf grad [${n}]`);
    });

    it('relu passes the gradient only where x > 0', async () => {
      const got = await runUnaryGrad('relu', new Float32Array([-1, 0, -0, 1e-30, 3]), new Float32Array([5, 5, 5, 5, 5]));
      expect(Array.from(got)).toEqual([0, 0, 0, 5, 5]);
    });
  });

  describe('swiglu', () => {
    const silu = f64('silu');

    it.each(EDGE_SIZES)('forward over %i elements', async (n) => {
      const [gate, up] = [unaryInputs('silu', n, 21), randomF32(n, 22, -3, 3)];
      const [g, u] = [upload(b, gate), upload(b, up)];
      const out = poisoned(b, n);
      b.swiglu({ gate: g, up: u, out, n });
      const want = mapF64(gate, (v, i) => silu(v) * up[i]);
      const tol = (i: number): Tol => ({ rtol: (7 + 3 * Math.abs(gate[i])) * U, atol: 1e-12 });
      expectWithin(await readChecked(b, out, n, 'swiglu'), want, tol, `swiglu [${n}]`);
      [g, u, out].forEach((s) => b.free(s));
    });

    it.each(EDGE_SIZES)('gradients over %i elements match finite differences', async (n) => {
      const [gate, up, dy] = [unaryInputs('silu', n, 31), randomF32(n, 32, -3, 3), randomF32(n, 33)];
      const [g, u, gy] = [upload(b, gate), upload(b, up), upload(b, dy)];
      const [gGate, gUp] = [poisoned(b, n), poisoned(b, n)];
      b.swigluGrad({ gate: g, up: u, gy, gGate, gUp, n });
      const wantGate = mapF64(gate, (v, i) => dy[i] * derivative((t) => silu(t) * up[i], v));
      const wantUp = mapF64(up, (v, i) => dy[i] * derivative((t) => silu(gate[i]) * t, v));
      const tol = (scale: Float32Array) => (i: number) => gradTol(gate[i], dy[i] * Math.max(1, Math.abs(scale[i])));
      expectWithin(await readChecked(b, gGate, n, 'gGate'), wantGate, tol(up), `swigluGrad gGate [${n}]`);
      expectWithin(await readChecked(b, gUp, n, 'gUp'), wantUp, tol(gate), `swigluGrad gUp [${n}]`);
      [g, u, gy, gGate, gUp].forEach((s) => b.free(s));
    });
  });

  describe('binary', () => {
    /** out[idx] = a[idx·aStrides] op b[idx·bStrides] in f64, over a row-major walk of shape. */
    function binaryRef(op: BinaryOp, a: Float32Array, b: Float32Array, shape: number[], as: number[], bs: number[]): Float64Array {
      const f = { add: (x: number, y: number) => x + y, sub: (x: number, y: number) => x - y, mul: (x: number, y: number) => x * y, div: (x: number, y: number) => x / y }[op];
      const out = new Float64Array(shape.reduce((p, d) => p * d, 1));
      walkStrided(shape, as, bs, (i, ia, ib) => (out[i] = f(a[ia], b[ib])));
      return out;
    }

    const extent = (shape: number[], s: number[]) => 1 + shape.reduce((acc, d, i) => acc + (d - 1) * s[i], 0);

    async function check(op: BinaryOp, shape: number[], as: number[], bs: number[], seed: number): Promise<void> {
      const x = randomF32(extent(shape, as), seed, -4, 4);
      // Divisors away from 0: |y| in [0.5, 4].
      const y = randomF32(extent(shape, bs), seed + 1, -4, 4).map((v) => (op === 'div' && Math.abs(v) < 0.5 ? v + Math.sign(v || 1) * 0.5 : v));
      const n = shape.reduce((p, d) => p * d, 1);
      const [sa, sb] = [upload(b, x), upload(b, y)];
      const out = poisoned(b, n);
      b.binary({ op, a: sa, b: sb, out, shape, aStrides: as, bStrides: bs });
      const got = await readChecked(b, out, n, `binary ${op}`);
      const want = binaryRef(op, x, y, shape, as, bs);
      if (op === 'div') expectWithin(got, want, () => ({ rtol: 3 * U, atol: 0 }), `div ${JSON.stringify(shape)}`);
      else expectWithin(got, want, () => ({ rtol: U / 2, atol: 0 }), `${op} ${JSON.stringify(shape)}`); // one IEEE op: correctly rounded
      [sa, sb, out].forEach((s) => b.free(s));
    }

    const ops: BinaryOp[] = ['add', 'sub', 'mul', 'div'];
    it.each(ops.flatMap((op) => EDGE_SIZES.map((n) => [op, n] as const)))('%s over %i contiguous elements', (op, n) => check(op, [n], [1], [1], n));
    // Multiples of 4 take WebGPU's four-a-thread kernel (binary4); [2, 514] merges to 1028 contiguous.
    it.each(ops.flatMap((op) => [4, 70_004].map((n) => [op, n] as const)))('%s over %i contiguous elements, a multiple of 4', (op, n) => check(op, [n], [1], [1], n));
    it.each(ops)('%s over a contiguous [2, 514]', (op) => check(op, [2, 514], [514, 1], [514, 1], 11));
    it.each(ops)('%s broadcasts b over [3,4,5] (b is a [4] column vector)', (op) => check(op, [3, 4, 5], [20, 5, 1], [0, 1, 0], 5));
    it.each(ops)('%s broadcasts a scalar a', (op) => check(op, [6, 7], [0, 0], [7, 1], 6));
    it.each(ops)('%s broadcasts both: [3,1,5] op [1,4,5]', (op) => check(op, [3, 4, 5], [5, 0, 1], [0, 5, 1], 7));
    it('computes a rank-0 shape as one element', () => check('mul', [], [], [], 8));
    it.each(ops)('%s at rank 6 with a permuted a and a broadcast b', (op) =>
      // a is a [3,2,2,3,2,2] buffer read in the order (5,0,3,1,4,2); b varies along dims 1, 3 and 5 only.
      check(op, [2, 3, 3, 2, 2, 2], [1, 48, 4, 24, 2, 12], [0, 4, 0, 2, 0, 1], 9),
    );
    it('folds more than 65535 workgroups (broadcast row over [65537, 256])', () => check('add', [65537, 256], [256, 1], [0, 1], 10));
  });

  describe('reduce', () => {
    const shapes: [number, number, number][] = [
      [1, 1, 1], [1, 7, 1], [7, 1, 1], [1, 1, 7], [5, 1, 3], [3, 257, 1], [1, 70_001, 1],
      [64, 3, 1], [2, 5, 257], [4, 300, 33], [1, 2, 1000], [3, 1000, 2],
    ];

    /** Runs reduce (with an explicit WebGPU tile when given) and checks it against the f64 reference. */
    async function check(op: 'sum' | 'mean', [outer, size, inner]: [number, number, number], seed: number, tile?: number): Promise<Float32Array> {
      const x = randomF32(outer * size * inner, seed);
      const xs = upload(b, x);
      const out = poisoned(b, outer * inner);
      const args = { op, x: xs, out, outer, size, inner };
      if (tile === undefined) b.reduce(args);
      else reduceWithTile((b as WebGpuBackend).ctx, args, tile);
      const got = await readChecked(b, out, outer * inner, `reduce ${op}`);
      const want = reduceRef(mapF64(x, (v) => v), outer, size, inner, op === 'mean');
      const absSum = reduceRef(mapF64(x, Math.abs), outer, size, inner, op === 'mean');
      expectWithin(got, want, (i) => ({ rtol: 0, atol: 1e-6 * absSum[i] + 1e-30 }), `reduce ${op} [${outer},${size},${inner}]`);
      b.free(xs);
      b.free(out);
      return got;
    }

    it.each(shapes)('sum over [%i, %i, %i]', async (outer, size, inner) => void (await check('sum', [outer, size, inner], outer + size + inner)));
    it.each(shapes)('mean over [%i, %i, %i]', async (outer, size, inner) => void (await check('mean', [outer, size, inner], outer * size + inner)));
    it('is bit-identical run to run', async () => {
      const first = await check('sum', [3, 1000, 2], 1);
      expect(Array.from(await check('sum', [3, 1000, 2], 1))).toEqual(Array.from(first));
    });
    it.runIf(name === 'webgpu').each([1, 2, 4, 8, 16, 32, 64, 128, 256])('is right with any tile (%i outputs per workgroup)', async (tile) => {
      await check('mean', [3, 300, 5], 3, tile);
    });
    it.runIf(name === 'webgpu')('rejects a tile that is not a power of two', () => {
      const [x, out] = [b.alloc(4, 'test'), b.alloc(4, 'test')];
      expect(() => reduceWithTile((b as WebGpuBackend).ctx, { op: 'sum', x, out, outer: 1, size: 1, inner: 1 }, 3)).toThrow(/tile 3 must be a power of two/);
      b.free(x);
      b.free(out);
    });
    it('folds more than 65535 workgroups (70001 rows of 129)', async () => void (await check('sum', [70_001, 129, 1], 2)));
    it('sums an empty axis to 0, and its mean is NaN', async () => {
      const xs = b.alloc(4, 'test');
      const out = b.alloc(8, 'test');
      b.reduce({ op: 'sum', x: xs, out, outer: 2, size: 0, inner: 1 });
      expect(Array.from(await downloadF32(b, out, 2))).toEqual([0, 0]);
      b.reduce({ op: 'mean', x: xs, out, outer: 2, size: 0, inner: 1 });
      expect(Array.from(await downloadF32(b, out, 2)).every(Number.isNaN)).toBe(true);
      b.free(xs);
      b.free(out);
    });
  });

  describe('copyStrided', () => {
    async function check(shape: number[], srcStrides: number[], dstStrides: number[], srcOffset: number, dstOffset: number, dstLen: number): Promise<void> {
      const srcLen = srcOffset + 1 + shape.reduce((acc, d, i) => acc + (d - 1) * srcStrides[i], 0);
      const src = randomBits(srcLen, srcLen); // arbitrary bit patterns, NaN payloads included
      const before = randomBits(dstLen, 99);
      const [s, d] = [upload(b, src), upload(b, before)];
      b.copyStrided({ src: s, dst: d, shape, srcStrides, dstStrides, srcOffset, dstOffset });
      const want = before.slice();
      walkStrided(shape, srcStrides, dstStrides, (_, is, id) => (want[dstOffset + id] = src[srcOffset + is]));
      const got = new Uint32Array(await b.read(d, 0, dstLen * 4));
      expect(got.every((v, i) => v === want[i]), `copyStrided ${JSON.stringify(shape)}`).toBe(true);
      b.free(s);
      b.free(d);
    }

    it.each(EDGE_SIZES)('copies %i contiguous words between offsets', (n) => check([n], [1], [1], 3, 5, n + 9));
    it('transposes [5,7]', () => check([7, 5], [1, 7], [5, 1], 0, 0, 35));
    it('expands a broadcast row into [4,6]', () => check([4, 6], [0, 1], [6, 1], 2, 0, 24));
    it('writes a rank-6 permutation into a strided slice of a larger tensor', () =>
      // src [2,3,2,2,3,2] (after 1 offset word) read in order (4,1,5,0,3,2); dst is the [..., 1:3] slice of a [3,3,2,2,2,6] tensor.
      check([3, 3, 2, 2, 2, 2], [2, 24, 1, 72, 6, 12], [144, 48, 24, 12, 6, 1], 1, 1, 432),
    );
    it('does nothing for an empty shape', () => check([0, 3], [3, 1], [3, 1], 0, 0, 4));
  });

  describe('unpack', () => {
    /** Decodes by the formats' definitions: (−1)^s·2^(e−bias)·(1 + m/2^mbits), subnormals m·2^(1−bias−mbits). */
    function decode(h: number, expBits: number, mantBits: number): number {
      const bias = 2 ** (expBits - 1) - 1;
      const e = (h >> mantBits) & (2 ** expBits - 1);
      const m = h & (2 ** mantBits - 1);
      const sign = h >> (expBits + mantBits) ? -1 : 1;
      if (e === 2 ** expBits - 1) return m ? NaN : sign * Infinity;
      if (e === 0) return sign * m * 2 ** (1 - bias - mantBits);
      return sign * 2 ** (e - bias) * (1 + m / 2 ** mantBits);
    }

    const formats = {
      bf16: { exp: 8, mant: 7, specials: [0x0000, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0xffa1, 0x0001, 0x807f, 0x0080, 0x7f7f, 0x3f80, 0xbeab] },
      f16: { exp: 5, mant: 10, specials: [0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x7c01, 0xfe15, 0x0001, 0x83ff, 0x0400, 0x7bff, 0x3c00, 0xb555] },
    };

    it.each((['bf16', 'f16'] as const).flatMap((dt) => EDGE_SIZES.map((n) => [dt, n] as const)))('%s, %i elements, specials and NaN payloads exact', async (dt, n) => {
      const { exp, mant, specials } = formats[dt];
      const halves = Uint16Array.from(randomBits(n, n + exp), (v) => v & 0xffff);
      halves.set(specials.slice(0, n));
      const src = upload(b, halves.length % 2 ? Uint16Array.from([...halves, 0]) : halves);
      const out = poisoned(b, n);
      b.unpack({ src, srcDtype: dt, out, n });
      const got = await readChecked(b, out, n, `unpack ${dt}`);
      const bits = new Uint32Array(got.buffer, got.byteOffset, n);
      for (let i = 0; i < n; i++) {
        const want = decode(halves[i], exp, mant);
        if (Number.isNaN(want)) {
          // NaN keeps sign and payload: the mantissa moves to the top of the f32 mantissa.
          const payload = dt === 'bf16' ? halves[i] << 16 : ((halves[i] & 0x8000) << 16) | 0x7f800000 | ((halves[i] & 0x3ff) << 13);
          if (bits[i] !== payload >>> 0) expect.fail(`unpack ${dt}: element ${i} (0x${halves[i].toString(16)}) gave bits 0x${bits[i].toString(16)}`);
        } else if (!Object.is(got[i], want)) expect.fail(`unpack ${dt}: element ${i} (0x${halves[i].toString(16)}) gave ${got[i]}, want ${want}`);
      }
      b.free(src);
      b.free(out);
    });
  });

  describe('argument errors', () => {
    const small = () => b.alloc(16, 'test'); // 4 elements
    const big = () => b.alloc(4096, 'test');

    it('names the op, shape and operand when one is too small', () => {
      const [s, l, l2] = [small(), big(), big()];
      expect(() => b.binary({ op: 'add', a: s, b: l, out: l2, shape: [2, 3], aStrides: [3, 1], bStrides: [3, 1] })).toThrow(/binary add \[2,3\]: operand 'a' holds 16 bytes but needs 24/);
      expect(() => b.binary({ op: 'mul', a: l, b: s, out: l2, shape: [2, 3], aStrides: [3, 1], bStrides: [0, 2] })).toThrow(/binary mul \[2,3\]: operand 'b' holds 16 bytes but needs 20/);
      expect(() => b.unary({ op: 'exp', x: l, out: s, n: 10, alpha: 0 })).toThrow(/unary exp \[10\]: operand 'out'/);
      expect(() => b.unaryGrad({ op: 'tanh', x: l, gy: s, gx: l2, n: 10, alpha: 0 })).toThrow(/unaryGrad tanh \[10\]: operand 'gy'/);
      expect(() => b.reduce({ op: 'sum', x: s, out: l, outer: 2, size: 3, inner: 4 })).toThrow(/reduce sum \[2,3,4\]: operand 'x'/);
      expect(() => b.copyStrided({ src: l, dst: s, shape: [4], srcStrides: [1], dstStrides: [1], srcOffset: 0, dstOffset: 1 })).toThrow(/copyStrided \[4\]: operand 'dst'/);
      expect(() => b.unpack({ src: s, srcDtype: 'f16', out: l, n: 9 })).toThrow(/unpack f16 \[9\]: operand 'src'/);
      expect(() => b.swiglu({ gate: s, up: l, out: l2, n: 5 })).toThrow(/swiglu \[5\]: operand 'gate'/);
      expect(() => b.swigluGrad({ gate: l, up: l, gy: l, gGate: l2, gUp: s, n: 5 })).toThrow(/swigluGrad \[5\]: operand 'gUp'/);
      [s, l, l2].forEach((x) => b.free(x));
    });

    it('rejects bad shapes, strides, ops and aliased outputs', () => {
      const [l, l2] = [big(), big()];
      const shape7 = [1, 1, 1, 1, 1, 1, 2];
      expect(() => b.binary({ op: 'add', a: l, b: l, out: l2, shape: shape7, aStrides: shape7, bStrides: shape7 })).toThrow(/rank 7 exceeds the maximum 6/);
      expect(() => b.binary({ op: 'add', a: l, b: l, out: l2, shape: [2, 3], aStrides: [1], bStrides: [3, 1] })).toThrow(/aStrides has 1 entries for a rank-2 shape/);
      expect(() => b.copyStrided({ src: l, dst: l2, shape: [2], srcStrides: [-1], dstStrides: [1], srcOffset: 1, dstOffset: 0 })).toThrow(/srcStrides\[0\] must be a non-negative integer/);
      expect(() => b.unary({ op: 'cube' as UnaryOp, x: l, out: l2, n: 4, alpha: 0 })).toThrow(/unary cube \[4\]: unknown op 'cube'/);
      expect(() => b.binary({ op: 'add', a: l, b: l2, out: l2, shape: [4], aStrides: [1], bStrides: [1] })).toThrow(/output 'out' is the same storage as 'b'/);
      expect(() => b.swigluGrad({ gate: l, up: l, gy: l, gGate: l2, gUp: l2, n: 4 })).toThrow(/output 'gGate' is the same storage as 'gUp'/);
      expect(() => b.reduce({ op: 'max' as 'sum', x: l, out: l2, outer: 1, size: 4, inner: 1 })).toThrow(/op must be sum or mean/);
      b.free(l);
      b.free(l2);
    });
  });
});
