import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import type { MatmulArgs, WeightDType } from '../../src/backend/kernels.js';
import type { Storage } from '../../src/backend/storage.js';
import type { WebGpuBackend } from '../../src/backend/webgpu/backend.js';
import {
  DEFAULT_TILED,
  kSlices,
  matmulWithPlan,
  nearestTuned,
  parseMatmulTuning,
  planMatmul,
  tuningFor,
  useMatmulTuning,
  TILED_VARIANTS,
  adapterPlan,
  fitting,
  stagedTwin,
  type MatmulPlan,
  type MatmulTuning,
  type TiledVariant,
  type TunedShape,
} from '../../src/backend/webgpu/kernels/matmul.js';
import { MATMUL_TUNING } from '../../src/backend/webgpu/kernels/matmul-tuning.js';
import { setProductLoops } from '../../src/backend/webgpu/product-loops.js';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits } from '../../src/tensor/dtype.js';
import { downloadF32, maxRelError, randomF32, testBackends, upload } from '../helpers/backends.js';
import { matmulRef } from '../helpers/reference.js';

const backends = await testBackends();

// f32 accumulation over k ≤ 700 terms of size ≤ 1: the error is a few ulps of the
// largest output; the packed cases compare against the rounded weights they hold.
const TOL = 1e-5;

/** f32 → IEEE half bits, round to nearest even (overflow → ±∞, NaN stays NaN), as torch's .to(float16). */
function f32ToF16Bits(x: number): number {
  const u = new Uint32Array(new Float32Array([x]).buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry rounds up into the exponent
  return sign | h;
}

interface Case {
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  batch?: number;
  /** B has its own matrix per batch (else strideB = 0 broadcasts one). */
  bBatched?: boolean;
  bDtype?: WeightDType;
  /** Unused elements between consecutive matrices of A and of out (A's are NaN, out's a sentinel). */
  gap?: number;
  /** Adds a bias [n] to every output row (the product's epilogue). */
  bias?: boolean;
  /** Adds a residual laid out as out, gaps included (the epilogue, after the bias). */
  residual?: boolean;
}

const SENTINEL = 7777;

/** Runs one product through `call` and checks it against the float64 reference, the gaps and the tail untouched. */
async function check(backend: Backend, c: Case, call: (args: MatmulArgs) => void): Promise<void> {
  const { m, n, k, transA = false, transB = false, batch = 1, bBatched = false, bDtype = 'f32', gap = 0, bias = false, residual = false } = c;
  const strideA = m * k + gap;
  const strideOut = m * n + gap;
  const bMats = bBatched ? batch : 1;
  const aCompact = randomF32(batch * m * k, 1000 + m * 7 + n * 13 + k);
  const aData = new Float32Array(batch * strideA).fill(NaN);
  for (let z = 0; z < batch; z++) aData.set(aCompact.subarray(z * m * k, (z + 1) * m * k), z * strideA);
  const bF32 = randomF32(bMats * k * n, 2000 + m + n * 3 + k * 5);
  let bRef = Float64Array.from(bF32);
  let bData: Float32Array | Uint16Array = bF32;
  if (bDtype !== 'f32') {
    const [enc, dec] = bDtype === 'bf16' ? [f32ToBf16Bits, bf16BitsToF32] : [f32ToF16Bits, f16BitsToF32];
    const bits = new Uint16Array(Math.ceil(bF32.length / 2) * 2); // whole u32 words
    bF32.forEach((v, i) => (bits[i] = enc(v)));
    bRef = Float64Array.from(bF32, (_, i) => dec(bits[i]));
    bData = bits;
  }
  const sa = upload(backend, aData);
  const sb = upload(backend, bData);
  const outLen = batch * strideOut + 4;
  const so = upload(backend, new Float32Array(outLen).fill(SENTINEL));
  const biasData = randomF32(n, 3000 + n);
  const sBias = bias ? upload(backend, biasData) : undefined;
  const residualData = randomF32(batch * strideOut, 4000 + m + n);
  const sResidual = residual ? upload(backend, residualData) : undefined;
  const epilogue = { ...(sBias ? { bias: sBias } : {}), ...(sResidual ? { residual: sResidual } : {}) };
  call({ a: sa, b: sb, out: so, batch, m, n, k, transA, transB, strideA, strideB: bBatched ? k * n : 0, strideOut, bDtype, ...epilogue });
  const got = await downloadF32(backend, so, outLen);
  const want = matmulRef(Float64Array.from(aCompact), bRef, batch, m, n, k, transA, transB, bBatched);
  if (bias) want.forEach((v, i) => (want[i] = v + biasData[i % n]));
  if (residual) want.forEach((v, i) => (want[i] = v + residualData[Math.floor(i / (m * n)) * strideOut + (i % (m * n))]));
  const compact = new Float32Array(batch * m * n);
  const untouched: number[] = [];
  for (let z = 0; z < batch; z++) {
    compact.set(got.subarray(z * strideOut, z * strideOut + m * n), z * m * n);
    untouched.push(...got.subarray(z * strideOut + m * n, (z + 1) * strideOut));
  }
  untouched.push(...got.subarray(batch * strideOut));
  expect(maxRelError(compact, want)).toBeLessThan(TOL);
  expect(untouched.every((v) => v === SENTINEL)).toBe(true);
  for (const s of [sa, sb, so, ...(sBias ? [sBias] : []), ...(sResidual ? [sResidual] : [])]) backend.free(s);
}

const SHAPES: [number, number, number][] = [
  // m, n, k
  [1, 1, 1],
  [7, 33, 5],
  [64, 64, 64],
  [65, 129, 31],
  [1, 300, 77],
];
const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

describe.each(backends)('matmul on $name', ({ backend }) => {
  const cases = SHAPES.flatMap(([m, n, k]) => TRANSPOSES.map(([transA, transB]) => ({ m, n, k, transA, transB })));
  it.each(cases)('$m×$n×$k transA=$transA transB=$transB', (c) => check(backend, c, (args) => backend.matmul(args)));

  // Past one block of every loop of the wasm kernel (MC 128 rows, NC 512 columns, KC 256 deep).
  it.each(TRANSPOSES.map(([transA, transB]) => ({ m: 133, n: 530, k: 300, transA, transB })))(
    'multi-block $m×$n×$k transA=$transA transB=$transB',
    (c) => check(backend, c, (args) => backend.matmul(args)),
  );
  it.each(['bf16', 'f16'] as const)('multi-block %s B', (bDtype) =>
    check(backend, { m: 133, n: 530, k: 300, bDtype }, (args) => backend.matmul(args)),
  );

  it.each([
    { m: 5, n: 9, k: 6, batch: 3, bBatched: false, transA: false, transB: true },
    { m: 5, n: 9, k: 6, batch: 3, bBatched: true, transA: true, transB: false },
    { m: 20, n: 17, k: 11, batch: 3, bBatched: false, transA: true, transB: true },
    { m: 20, n: 17, k: 11, batch: 3, bBatched: true, transA: false, transB: false },
  ])('batch $batch ($m×$n×$k), B per batch=$bBatched, transA=$transA transB=$transB', (c) =>
    check(backend, { ...c, gap: 3 }, (args) => backend.matmul(args)),
  );

  // Odd k·n puts batch 1's B at an odd element (the high half of a word).
  it.each(
    (['bf16', 'f16'] as const).flatMap((bDtype) => [
      { bDtype, m: 1, n: 33, k: 7, transB: true, batch: 1, bBatched: false },
      { bDtype, m: 1, n: 33, k: 7, transB: false, batch: 2, bBatched: true },
      { bDtype, m: 19, n: 21, k: 13, transB: true, batch: 2, bBatched: true },
      { bDtype, m: 19, n: 21, k: 13, transB: false, batch: 2, bBatched: false },
    ]),
  )('$bDtype B, $m×$n×$k transB=$transB batch $batch per batch=$bBatched', (c) => check(backend, c, (args) => backend.matmul(args)));

  it.each([
    { m: 1, n: 37, k: 16, transB: true },
    { m: 3, n: 33, k: 7, batch: 2, gap: 5 },
    { m: 65, n: 129, k: 31, transA: true, transB: true },
  ])('with a bias on every output row: $m×$n×$k batch $batch', (c) => check(backend, { ...c, bias: true }, (args) => backend.matmul(args)));

  it.each([
    { m: 1, n: 37, k: 16, transB: true, bias: true },
    { m: 3, n: 33, k: 7, batch: 2, gap: 5 },
    { m: 65, n: 129, k: 31, transA: true, transB: true, bias: true },
  ])('with a residual laid out as the output: $m×$n×$k batch $batch, bias $bias', (c) => check(backend, { ...c, residual: true }, (args) => backend.matmul(args)));

  it('rejects an operand too small for the stated shape, naming matmul and the shapes', () => {
    const a = backend.alloc(4 * 4 * 6, 'test a');
    const b = backend.alloc(4 * 6 * 3 - 4, 'test b');
    const out = backend.alloc(4 * 4 * 3, 'test out');
    const args: MatmulArgs = { a, b, out, batch: 1, m: 4, n: 3, k: 6, transA: false, transB: true, strideA: 0, strideB: 0, strideOut: 0, bDtype: 'f32' };
    expect(() => backend.matmul(args)).toThrow(/^matmul \[4×6\]·\[3×6ᵀ\]: operand 'b' holds 68 bytes but needs 72/);
    expect(() => backend.matmul({ ...args, b: a, bDtype: 'bf16', batch: 2, strideB: 20, strideA: 24 })).toThrow(
      /^matmul 2×\[4×6\]·\[3×6ᵀ bf16\]: operand 'a' holds 96 bytes but needs 192/,
    );
    expect(() => backend.matmul({ ...args, b: a, bias: backend.alloc(8, 'test bias') })).toThrow(/^matmul \[4×6\]·\[3×6ᵀ\]: operand 'bias' holds 8 bytes but needs 12/);
    expect(() => backend.matmul({ ...args, b: a, bias: out })).toThrow(/output 'out' is the same storage as 'bias'/);
    expect(() => backend.matmul({ ...args, b: a, residual: backend.alloc(44, 'test residual') })).toThrow(
      /^matmul \[4×6\]·\[3×6ᵀ\]: operand 'residual' holds 44 bytes but needs 48/,
    );
    expect(() => backend.matmul({ ...args, b: a, residual: out })).toThrow(/output 'out' is the same storage as 'residual'/);
    for (const s of [a, b, out]) backend.free(s);
  });
});

// Every kernel variant, whatever shape planMatmul would pick it for.
const gpu = backends.find((b) => b.name === 'webgpu')?.backend as WebGpuBackend | undefined;
describe.runIf(gpu)('webgpu matmul plans', () => {
  // The ones this device runs (lavapipe: not the 48 KiB of 128x128k16t256r's ring).
  const variants = (Object.keys(TILED_VARIANTS) as TiledVariant[]).filter((v) => gpu && fitting(v, gpu.ctx.device.limits) === v);
  const tiled: MatmulPlan[] = variants.map((variant) => ({ kind: 'tiled', variant, vec: true }));
  const skinny: MatmulPlan[] = [
    { kind: 'skinny', nc: 4 },
    { kind: 'skinny', nc: 8 },
    { kind: 'skinny', nc: 32 },
  ];
  const plans = [...tiled, ...skinny];
  const name = (plan: MatmulPlan) => (plan.kind === 'tiled' ? plan.variant : `skinny${plan.nc}`);
  const run = (plan: MatmulPlan) => (args: MatmulArgs) => matmulWithPlan(gpu!.ctx, args, plan);

  // Edge tiles only (every load bounds-checked), batched with gaps.
  const cases = plans.flatMap((plan) =>
    TRANSPOSES.map(([transA, transB], i) => ({ name: name(plan), plan, m: 37 - 12 * (i & 1), n: 131, k: 45 + i, transA, transB, batch: 2, bBatched: i > 1, gap: 1 })),
  );
  it.each(cases)('$name: $m×$n×$k transA=$transA transB=$transB', ({ name: _, plan, ...c }) => check(gpu!, c, run(plan)));

  // Tiles wholly inside the matrices and edge tiles in one product, several K-tiles and a
  // K tail: aligned (every quad read as a vector; batch gaps keep the alignment) and not
  // (unchecked scalar loads); a long k runs the skinny kernel's 4-term loop.
  const wide = plans.flatMap((plan) =>
    TRANSPOSES.flatMap(([transA, transB], i) => [
      { name: name(plan), plan, m: 132, n: 260, k: 52, transA, transB, batch: 2, bBatched: i % 2 === 0, gap: 4 },
      { name: name(plan), plan, m: 130, n: 258, k: 50, transA, transB, batch: 2, bBatched: i % 2 === 1, gap: 1 },
      ...(plan.kind === 'skinny' ? [{ name: name(plan), plan, m: 6, n: 70, k: 700, transA, transB, batch: 1 }] : []),
    ]),
  );
  it.each(wide)('$name: $m×$n×$k transA=$transA transB=$transB batch $batch', ({ name: _, plan, ...c }) => check(gpu!, c, run(plan)));

  // Packed B through the vector loads (aligned) and through element loads (odd k).
  const packed = plans.flatMap((plan) => [
    { name: name(plan), plan, m: 132, n: 132, k: 36, transB: true, batch: 2, bBatched: true, bDtype: 'bf16' as const },
    { name: name(plan), plan, m: 132, n: 136, k: 20, transB: false, batch: 1, bDtype: 'f16' as const },
    { name: name(plan), plan, m: 130, n: 131, k: 33, transB: false, batch: 2, bBatched: true, bDtype: 'bf16' as const },
  ]);
  it.each(packed)('$name: $bDtype B $m×$n×$k transB=$transB', ({ name: _, plan, ...c }) => check(gpu!, c, run(plan)));

  // skinny_vec (B stored n×k, read 16 bytes a load): a row with a column tail; rows past m in a
  // second row group, the four-vector loop and its tail, batch strides with gaps; packed B.
  const vecCases = ([4, 8, 16, 32] as const).flatMap((nc) => [
    { nc, m: 1, n: 131, k: 64, transB: true, batch: 1, bDtype: 'f32' as const },
    { nc, m: 6, n: 70, k: 704, transB: true, batch: 2, bBatched: true, gap: 4, bDtype: 'f32' as const },
    { nc, m: 3, n: 37, k: 40, transB: true, batch: 2, bBatched: true, bDtype: 'bf16' as const },
    { nc, m: 1, n: 33, k: 24, transB: true, batch: 1, bDtype: 'f16' as const },
  ]);
  it.each(vecCases)('skinny$nc+vec: $m×$n×$k $bDtype B batch $batch', ({ nc, ...c }) => check(gpu!, c, run({ kind: 'skinny', nc, vec: true })));

  // The epilogue (bias, residual) in every kind of plan, as each output is written: skinny, tiled,
  // and split tiled (its whole tiles in the product, its split ones in sum_slices).
  const epilogueCases: { name: string; plan: MatmulPlan; m: number; n: number; k: number; transB: boolean; batch: number; gap: number }[] = [
    { name: 'skinny8', plan: { kind: 'skinny', nc: 8, vec: false }, m: 5, n: 37, k: 19, transB: false, batch: 2, gap: 3 },
    { name: 'skinny8+vec', plan: { kind: 'skinny', nc: 8, vec: true }, m: 1, n: 37, k: 32, transB: true, batch: 1, gap: 0 },
    { name: '64x128k8t256', plan: { kind: 'tiled', variant: '64x128k8t256', vec: true }, m: 70, n: 130, k: 24, transB: true, batch: 2, gap: 5 },
    { name: '128x128k8t256r', plan: { kind: 'tiled', variant: '128x128k8t256r', vec: true }, m: 130, n: 260, k: 50, transB: false, batch: 2, gap: 1 },
    { name: '128x128k8t256/k3 after 1', plan: { kind: 'tiled', variant: '128x128k8t256', vec: true, splits: 3, whole: 1 }, m: 132, n: 260, k: 100, transB: false, batch: 1, gap: 0 },
  ];
  it.each(epilogueCases)('$name with a bias: $m×$n×$k batch $batch', ({ name: _, plan, ...c }) => check(gpu!, { ...c, bias: true }, run(plan)));
  it.each(epilogueCases)('$name with a residual, and with both: $m×$n×$k batch $batch', async ({ name: _, plan, ...c }) => {
    await check(gpu!, { ...c, residual: true }, run(plan));
    await check(gpu!, { ...c, bias: true, residual: true }, run(plan));
  });

  it('the epilogue has the bits of the product followed by separate f32 adds: bias, then residual', async () => {
    for (const { plan, m, n, k, transB } of epilogueCases) {
      const [a, b, bias, residual] = [upload(gpu!, randomF32(m * k, 61)), upload(gpu!, randomF32(n * k, 62)), upload(gpu!, randomF32(n, 63)), upload(gpu!, randomF32(m * n, 64))];
      const args = { a, b, batch: 1, m, n, k, transA: false, transB, strideA: 0, strideB: 0, strideOut: 0, bDtype: 'f32' as const };
      const [plain, biased, both] = [gpu!.alloc(4 * m * n, 'plain'), gpu!.alloc(4 * m * n, 'biased'), gpu!.alloc(4 * m * n, 'both')];
      matmulWithPlan(gpu!.ctx, { ...args, out: plain }, plan);
      matmulWithPlan(gpu!.ctx, { ...args, out: biased, bias }, plan);
      matmulWithPlan(gpu!.ctx, { ...args, out: both, bias, residual }, plan);
      const [p, q, pq] = [await downloadF32(gpu!, plain, m * n), await downloadF32(gpu!, biased, m * n), await downloadF32(gpu!, both, m * n)];
      const [bv, rv] = [await downloadF32(gpu!, bias, n), await downloadF32(gpu!, residual, m * n)];
      const withBiasBits = Array.from(p, (v, i) => Math.fround(v + bv[i % n]));
      expect(Array.from(q), name(plan)).toEqual(withBiasBits);
      expect(Array.from(pq), name(plan)).toEqual(withBiasBits.map((v, i) => Math.fround(rv[i] + v)));
      for (const s of [a, b, bias, residual, plain, biased, both]) gpu!.free(s);
    }
  });

  it('plans skinny_vec for decode products with B stored n×k, the scalar kernel otherwise', () => {
    const a = upload(gpu!, new Float32Array(2 * 12));
    const out = gpu!.alloc(2 * 2 * 4, 'test out');
    const args: MatmulArgs = { a, b: a, out, batch: 1, m: 1, n: 4864, k: 896, transA: false, transB: true, strideA: 0, strideB: 0, strideOut: 0, bDtype: 'f32' };
    const limits = gpu!.ctx.device.limits;
    expect(planMatmul(args, limits)).toEqual({ kind: 'skinny', nc: 16, vec: true });
    expect(planMatmul({ ...args, n: 896, k: 4864 }, limits)).toEqual({ kind: 'skinny', nc: 4, vec: true });
    expect(planMatmul({ ...args, bDtype: 'bf16', k: 900 }, limits)).toEqual({ kind: 'skinny', nc: 8 });
    expect(planMatmul({ ...args, k: 900 }, limits)).toEqual({ kind: 'skinny', nc: 8 });
    expect(planMatmul({ ...args, transB: false }, limits)).toEqual({ kind: 'skinny', nc: 8 });
    for (const s of [a, out]) gpu!.free(s);
  });

  it('skinny_vec gives the same bits for f32 and packed B holding the same values (frozen weights kept packed)', async () => {
    const c = { m: 5, n: 40, k: 96 };
    const bits = new Uint16Array(c.n * c.k);
    randomF32(c.n * c.k, 31).forEach((v, i) => (bits[i] = f32ToBf16Bits(v)));
    const a = upload(gpu!, randomF32(c.m * c.k, 32));
    const bf16 = upload(gpu!, bits);
    const f32 = upload(gpu!, Float32Array.from(bits, bf16BitsToF32));
    const outs: Float32Array[] = [];
    for (const [b, bDtype] of [[f32, 'f32'], [bf16, 'bf16']] as const) {
      const out = gpu!.alloc(c.m * c.n * 4, 'test out');
      matmulWithPlan(gpu!.ctx, { a, b, out, ...c, batch: 1, transA: false, transB: true, strideA: 0, strideB: 0, strideOut: 0, bDtype }, { kind: 'skinny', nc: 8, vec: true });
      outs.push(await downloadF32(gpu!, out, c.m * c.n));
      gpu!.free(out);
    }
    expect(Buffer.from(outs[1].buffer).equals(Buffer.from(outs[0].buffer))).toBe(true);
    for (const s of [a, bf16, f32]) gpu!.free(s);
  });

  it('refuses skinny_vec where B is not n×k or k is not whole vectors, naming the fix', () => {
    const a = upload(gpu!, new Float32Array(2 * 12));
    const out = gpu!.alloc(2 * 2 * 4, 'test out');
    const args: MatmulArgs = { a, b: a, out, batch: 1, m: 2, n: 2, k: 12, transA: false, transB: true, strideA: 0, strideB: 0, strideOut: 0, bDtype: 'f32' };
    const vec: MatmulPlan = { kind: 'skinny', nc: 8, vec: true };
    expect(() => matmulWithPlan(gpu!.ctx, { ...args, k: 8, transB: false }, vec)).toThrow(/skinny_vec needs B stored n×k.*vec: false/);
    expect(() => matmulWithPlan(gpu!.ctx, args, vec)).toThrow(/k and B's batch stride multiples of 8/);
    for (const s of [a, out]) gpu!.free(s);
  });

  /** One f32 product of uploaded operands by `plan`, downloaded, for bit-for-bit comparisons. */
  async function product(plan: MatmulPlan, a: Storage, b: Storage, c: { m: number; n: number; k: number; transA: boolean; transB: boolean }): Promise<Float32Array> {
    const out = gpu!.alloc(c.m * c.n * 4, 'test out');
    matmulWithPlan(gpu!.ctx, { a, b, out, ...c, batch: 1, strideA: 0, strideB: 0, strideOut: 0, bDtype: 'f32' }, plan);
    const got = await downloadF32(gpu!, out, c.m * c.n);
    gpu!.free(out);
    return got;
  }

  it('tiled variants agree bit for bit, with and without vector loads (one fma chain per output, in k order)', async () => {
    const c = { m: 140, n: 136, k: 44, transA: false, transB: true };
    const a = upload(gpu!, randomF32(c.m * c.k, 11));
    const b = upload(gpu!, randomF32(c.k * c.n, 12));
    const outs: Float32Array[] = [];
    for (const plan of [...tiled, ...variants.map((variant): MatmulPlan => ({ kind: 'tiled', variant, vec: false }))]) outs.push(await product(plan, a, b, c));
    for (const o of outs.slice(1)) expect(Buffer.from(o.buffer).equals(Buffer.from(outs[0].buffer))).toBe(true);
    gpu!.free(a);
    gpu!.free(b);
  });

  // Hardware adapters get the K-steps written out (product-loops.ts), lavapipe keeps them rolled; this
  // runs the written-out form here: right against the reference, and the same bits as the rolled loop
  // (the same fma chain). Few pipelines: each is a slow cold compile on lavapipe. The last case is the
  // shipped split-tail plans' form: 128² tiles (8×8 a thread: all 16 output quads go to the partial
  // slots), 3 × 2 tiles, 2 whole, 4 in 3 k-slices.
  const tiledPlan = (variant: TiledVariant): MatmulPlan => ({ kind: 'tiled', variant, vec: true });
  const writtenOut = [
    ...TRANSPOSES.map(([transA, transB]) => ({ plan: tiledPlan('128x128k8t256'), m: 132, k: 52, transA, transB })),
    { plan: tiledPlan('64x128k8t256'), m: 132, k: 52, transA: false, transB: true },
    { plan: tiledPlan('128x128k16t256'), m: 132, k: 52, transA: true, transB: false },
    { plan: { ...tiledPlan('128x128k8t256'), splits: 3, whole: 2 }, m: 260, k: 100, transA: false, transB: true },
    // The ring: 7 K-tiles (two rounds of three and one more), and split with slices of 6 and 1 K-tiles.
    { plan: tiledPlan('128x128k8t256r'), m: 132, k: 52, transA: false, transB: true },
    { plan: { ...tiledPlan('128x128k8t256r'), splits: 3, whole: 2 }, m: 260, k: 100, transA: true, transB: false },
  ].map((c) => ({ ...c, name: c.plan.kind === 'tiled' && c.plan.splits ? `${name(c.plan)} (tiles ${c.plan.whole}.. in ${c.plan.splits} k-slices)` : name(c.plan) }));
  it.each(writtenOut)('$name with its K-steps written out: $m×136×$k transA=$transA transB=$transB', async ({ plan, m, k, transA, transB }) => {
    const c = { m, n: 136, k, transA, transB, batch: 1 };
    const a = upload(gpu!, randomF32(c.m * c.k, 21));
    const b = upload(gpu!, randomF32(c.k * c.n, 22));
    try {
      const rolled = await product(plan, a, b, c);
      setProductLoops('unrolled');
      const unrolled = await product(plan, a, b, c);
      expect(Buffer.from(unrolled.buffer).equals(Buffer.from(rolled.buffer))).toBe(true);
      await check(gpu!, c, run(plan));
    } finally {
      setProductLoops('adapter');
      gpu!.free(a);
      gpu!.free(b);
    }
  });

  // The ring runs its K-tiles three at a time, then the rest one at a time: every count of K-tiles
  // from 1 to 8 (k 8·t − 3, the last tile part-full), against the reference and bit for bit
  // against the staged kernel of the same tile. The ring also takes the part-full tile row (70 of
  // 128 rows: A's quads run along k), and with B transposed (odd counts) the part-full tile column.
  const ringCases = variants
    .filter((v) => TILED_VARIANTS[v].load === 'ring')
    .flatMap((variant) => [1, 2, 3, 4, 5, 7, 8].map((tilesK) => ({ variant, k: TILED_VARIANTS[variant].bk * tilesK - 3, tilesK, transB: tilesK % 2 === 1 })));
  it.each(ringCases)('$variant: $tilesK K-tiles (k $k, transB=$transB)', async ({ variant, k, transB }) => {
    const c = { m: 70, n: 131, k, transA: false, transB };
    const a = upload(gpu!, randomF32(c.m * c.k, 31));
    const b = upload(gpu!, randomF32(c.k * c.n, 32));
    try {
      const ring = await product(tiledPlan(variant), a, b, c);
      const staged = await product(tiledPlan(stagedTwin(variant)), a, b, c);
      expect(Buffer.from(ring.buffer).equals(Buffer.from(staged.buffer))).toBe(true);
      await check(gpu!, { ...c, batch: 1 }, run(tiledPlan(variant)));
    } finally {
      gpu!.free(a);
      gpu!.free(b);
    }
  });

  // Split over k: each slice sums its depths into a partial matrix, and sum_slices adds them in
  // slice order. Slices of 48 (k 100: 48, 48, 4, so the last one is a K tail) and of 16 (k 33: two
  // full and a 1-deep tail), edge and inner tiles, every layout, a packed B.
  const split: MatmulPlan[] = [
    { kind: 'tiled', variant: '64x128k8t256', vec: true, splits: 3 },
    { kind: 'tiled', variant: '128x128k16t256', vec: false, splits: 3 },
  ];
  const splitCases = split.flatMap((plan) =>
    TRANSPOSES.flatMap(([transA, transB]) => [
      { name: `${name(plan)}/k3`, plan, m: 37, n: 131, k: 100, transA, transB, batch: 1 },
      { name: `${name(plan)}/k3`, plan, m: 132, n: 260, k: 33, transA, transB, batch: 1 },
    ]),
  );
  it.each(splitCases)('$name: $m×$n×$k transA=$transA transB=$transB', ({ name: _, plan, ...c }) => check(gpu!, c, run(plan)));
  it.each(split.map((plan) => ({ name: `${name(plan)}/k3`, plan })))('$name: bf16 B 132×136×100', ({ plan }) =>
    check(gpu!, { m: 132, n: 136, k: 100, transB: true, batch: 1, bDtype: 'bf16' }, run(plan)),
  );

  // Whole tiles first, the rest split: 132×260 in 64×128 tiles is 3 rows of 3 tiles; tiles 0..3 run
  // whole and 4..8 in 3 k-slices. Right against the reference in every layout and with a packed B.
  const tail: MatmulPlan = { kind: 'tiled', variant: '64x128k8t256', vec: true, splits: 3, whole: 4 };
  it.each(TRANSPOSES.map(([transA, transB]) => ({ transA, transB })))('whole tiles then split ones: 132×260×100 transA=$transA transB=$transB', ({ transA, transB }) =>
    check(gpu!, { m: 132, n: 260, k: 100, transA, transB, batch: 1 }, run(tail)),
  );
  it('whole tiles then split ones: bf16 B 132×260×100', () => check(gpu!, { m: 132, n: 260, k: 100, transB: true, batch: 1, bDtype: 'bf16' }, run(tail)));

  it('a whole tile has the bits of the unsplit product, a split one those of splitting every tile', async () => {
    const c = { m: 132, n: 260, k: 100, transA: false, transB: true };
    const a = upload(gpu!, randomF32(c.m * c.k, 31));
    const b = upload(gpu!, randomF32(c.k * c.n, 32));
    try {
      const unsplit = await product({ kind: 'tiled', variant: '64x128k8t256', vec: true }, a, b, c);
      const allSplit = await product({ ...tail, whole: 0 }, a, b, c);
      const mixed = await product(tail, a, b, c);
      const everyTileWhole = await product({ ...tail, whole: 9 }, a, b, c);
      expect(Buffer.from(everyTileWhole.buffer).equals(Buffer.from(unsplit.buffer))).toBe(true);
      let wholeSeen = 0;
      let splitSeen = 0;
      for (let i = 0; i < c.m; i++)
        for (let j = 0; j < c.n; j++) {
          const tile = Math.floor(i / 64) * 3 + Math.floor(j / 128);
          const want = tile < 4 ? unsplit : allSplit;
          expect(mixed[i * c.n + j]).toBe(want[i * c.n + j]);
          if (tile < 4) wholeSeen++;
          else if (mixed[i * c.n + j] !== unsplit[i * c.n + j]) splitSeen++;
        }
      expect(wholeSeen).toBe(64 * 260 + 64 * 128); // the first tile row and the next row's first tile
      expect(splitSeen).toBeGreaterThan(0); // the two summation orders do differ somewhere, so the check has teeth
    } finally {
      gpu!.free(a);
      gpu!.free(b);
    }
  });

  it('runs a split over more workgroups than one grid row holds (a 2-D grid, spare workgroups idle)', async () => {
    const ctx = gpu!.ctx as { maxWorkgroups: number };
    const max = ctx.maxWorkgroups;
    ctx.maxWorkgroups = 13; // 4 whole + 5 × 3 split = 19 workgroups: a 10 × 2 grid, one spare
    try {
      await check(gpu!, { m: 132, n: 260, k: 100, batch: 1 }, run(tail));
    } finally {
      ctx.maxWorkgroups = max;
    }
  });

  it("runs this adapter's products by the table measured on it (useMatmulTuning)", async () => {
    const adapter = gpu!.info.description;
    const c = { m: 132, n: 260, k: 100, transA: false, transB: true, batch: 1 };
    const split = { ...c, bDtype: 'f32' as const, variant: '64x128k8t256' as const, vec: true, splits: 3, whole: 4, gflops: 1 };
    const dispatches = async (table: MatmulTuning) => {
      useMatmulTuning(table);
      const before = gpu!.ctx.dispatches;
      await check(gpu!, c, (args) => gpu!.matmul(args));
      return gpu!.ctx.dispatches - before;
    };
    try {
      expect(await dispatches({ adapter, date: '', source: 'test', shapes: [split] })).toBe(2); // tiled_split, sum_slices
      expect(await dispatches({ adapter, date: '', source: 'test', shapes: [{ ...split, splits: undefined, whole: undefined }] })).toBe(1);
    } finally {
      useMatmulTuning({ ...MATMUL_TUNING, adapter }); // as if none were measured here: the built-in table
    }
  });

  it('cuts k into aligned slices, and refuses a split of a batch', () => {
    expect(kSlices(100, 3)).toEqual({ kSlice: 48, slices: 3 });
    expect(kSlices(33, 3)).toEqual({ kSlice: 16, slices: 3 });
    expect(kSlices(20, 4)).toEqual({ kSlice: 16, slices: 2 });
    expect(kSlices(16, 4)).toEqual({ kSlice: 16, slices: 1 });
    expect(kSlices(151936, 4)).toEqual({ kSlice: 37984, slices: 4 });
    const a = upload(gpu!, new Float32Array(2 * 8 * 64));
    const out = gpu!.alloc(2 * 8 * 8 * 4, 'test out');
    const args: MatmulArgs = { a, b: a, out, batch: 2, m: 8, n: 8, k: 64, transA: false, transB: true, strideA: 512, strideB: 512, strideOut: 64, bDtype: 'f32' };
    expect(() => matmulWithPlan(gpu!.ctx, args, { kind: 'tiled', variant: '64x128k8t256', vec: true, splits: 2 })).toThrow(/split over k runs one matrix, got batch 2/);
    expect(() => matmulWithPlan(gpu!.ctx, { ...args, batch: 1 }, { kind: 'tiled', variant: '64x128k8t256', vec: true, splits: 2, whole: -1 })).toThrow(/whole must be a count of output tiles/);
    for (const s of [a, out]) gpu!.free(s);
  });

  it('rejects a tiled plan the device cannot run or bind, naming the fix', () => {
    const a = upload(gpu!, new Float32Array(20));
    const b = upload(gpu!, new Float32Array(1));
    const out = gpu!.alloc(20 * 4, 'test out');
    const args: MatmulArgs = { a, b, out, batch: 1, m: 20, n: 1, k: 1, transA: false, transB: false, strideA: 0, strideB: 0, strideOut: 0, bDtype: 'f32' };
    expect(() => matmulWithPlan(gpu!.ctx, args, { kind: 'tiled', variant: '128x128k8t256', vec: true })).toThrow(/B ≥ 8 bytes.*skinny/);
    expect(planMatmul(args, gpu!.ctx.device.limits).kind).toBe('skinny');
    const small = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupStorageSize: 16384, maxStorageBufferBindingSize: 2 ** 30 };
    const wide = { m: 4096, n: 4096, k: 4096, batch: 1, transA: false, transB: false, bDtype: 'f32' as const, gflops: 1 };
    const tuning = { adapter: 'test', date: '', source: 'test', shapes: [{ ...wide, variant: '128x128k8t512' as const, vec: true }] };
    expect(planMatmul({ ...args, b: a, m: 4096, n: 4, k: 4 }, small, tuning)).toEqual({ kind: 'tiled', variant: DEFAULT_TILED, vec: true });
    // A ring variant whose third buffer does not fit runs as its staged twin, split as measured.
    const ring = (variant: TiledVariant) => ({ adapter: 'test', date: '', source: 'test', shapes: [{ ...wide, variant, vec: true, splits: 2 }] });
    expect(planMatmul({ ...args, b: a, ...wide }, small, ring('128x128k8t256r'))).toEqual({ kind: 'tiled', variant: '128x128k8t256', vec: true, splits: 2 });
    expect(planMatmul({ ...args, b: a, ...wide }, { ...small, maxComputeWorkgroupStorageSize: 32768 }, ring('128x128k8t256r'))).toEqual({ kind: 'tiled', variant: '128x128k8t256r', vec: true, splits: 2 });
    expect(planMatmul({ ...args, b: a, ...wide }, { ...small, maxComputeWorkgroupStorageSize: 32768 }, ring('128x128k16t256r'))).toEqual({ kind: 'tiled', variant: '128x128k16t256', vec: true, splits: 2 });
    expect(fitting('128x128k16t256r', small)).toBeNull(); // its staged twin needs 32 KiB as well
    if (gpu!.ctx.device.limits.maxComputeWorkgroupStorageSize < 49152)
      expect(() => matmulWithPlan(gpu!.ctx, { ...args, b: a }, { kind: 'tiled', variant: '128x128k16t256r', vec: true })).toThrow(
        /tiled variant 128x128k16t256r needs 49152 bytes of workgroup memory, the device allows \d+; use planMatmul's choice/,
      );
    for (const s of [a, b, out]) gpu!.free(s);
  });
});

describe('matmul planning', () => {
  const shape = (m: number, n: number, k: number, variant: TiledVariant, batch = 1): TunedShape => ({ m, n, k, batch, transA: false, transB: true, bDtype: 'f32', variant, vec: true, gflops: 1 });
  const shapes = [shape(4096, 4096, 4096, '128x128k8t256'), shape(2048, 896, 4864, '128x64k8t128'), shape(256, 256, 256, '64x64k8t64'), shape(1024, 1024, 64, '128x128k8t512', 14)];
  const args = (m: number, n: number, k: number, batch = 1) => ({ m, n, k, batch, transA: false, transB: true, bDtype: 'f32' }) as MatmulArgs;

  it('takes a measured shape as measured, else the nearest in output tiles and k', () => {
    expect(nearestTuned(args(2048, 896, 4864), shapes)?.variant).toBe('128x64k8t128');
    expect(nearestTuned(args(4096, 4096, 4096), shapes)?.variant).toBe('128x128k8t256');
    expect(nearestTuned(args(3584, 3584, 3584), shapes)?.variant).toBe('128x128k8t256');
    expect(nearestTuned(args(2048, 1024, 8192), shapes)?.variant).toBe('128x64k8t128');
    expect(nearestTuned(args(300, 200, 512), shapes)?.variant).toBe('64x64k8t64');
    expect(nearestTuned(args(1024, 1024, 80, 12), shapes)?.variant).toBe('128x128k8t512');
    expect(nearestTuned(args(64, 64, 64), [])).toBeUndefined();
  });

  it('applies a measured split over k to one matrix: the measured shape, or any with a long k', () => {
    const limits = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupStorageSize: 32768, maxStorageBufferBindingSize: 2 ** 30 };
    const tuning = { adapter: 'test', date: '', source: 'test', shapes: [{ ...shape(1024, 896, 151936, '64x128k8t256'), splits: 2 }, { ...shape(128, 896, 2048, '128x128k8t256'), splits: 8 }] };
    const bound = { bytes: 2 ** 30 } as MatmulArgs['a']; // operands big enough to bind as vectors
    const plan = (m: number, n: number, k: number, batch = 1) => planMatmul({ ...args(m, n, k, batch), a: bound, b: bound }, limits, tuning);
    expect(plan(1024, 896, 151936)).toEqual({ kind: 'tiled', variant: '64x128k8t256', vec: true, splits: 2 });
    expect(plan(1766, 896, 151936)).toEqual({ kind: 'tiled', variant: '64x128k8t256', vec: true, splits: 2 });
    expect(plan(1024, 896, 2048)).toEqual({ kind: 'tiled', variant: '64x128k8t256', vec: true });
    expect(plan(1024, 896, 151936, 2)).toEqual({ kind: 'tiled', variant: '64x128k8t256', vec: true });
    expect(plan(128, 896, 2048)).toEqual({ kind: 'tiled', variant: '128x128k8t256', vec: true, splits: 8 }); // measured: its split at k = 2048
    expect(plan(128, 768, 2048)).toEqual({ kind: 'tiled', variant: '128x128k8t256', vec: true }); // only near it: no split below k = 4096
    expect(plan(128, 896, 2048, 2)).toEqual({ kind: 'tiled', variant: '128x128k8t256', vec: true });
  });

  it('applies measured whole tiles only to the very shape measured', () => {
    const limits = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupStorageSize: 32768, maxStorageBufferBindingSize: 2 ** 30 };
    const tuning = { adapter: 'test', date: '', source: 'test', shapes: [{ ...shape(2048, 4864, 8192, '128x128k8t256'), splits: 3, whole: 528 }] };
    const bound = { bytes: 2 ** 30 } as MatmulArgs['a'];
    const plan = (m: number, n: number, k: number) => planMatmul({ ...args(m, n, k), a: bound, b: bound }, limits, tuning);
    expect(plan(2048, 4864, 8192)).toEqual({ kind: 'tiled', variant: '128x128k8t256', vec: true, splits: 3, whole: 528 });
    expect(plan(2048, 4608, 8192)).toEqual({ kind: 'tiled', variant: '128x128k8t256', vec: true, splits: 3 }); // near it, long k: every tile split
    // 65536 × 16384 is 65536 tiles: 3 slices of partial sums would take 12 GiB, more than one binding holds.
    expect(plan(65536, 16384, 8192)).toEqual({ kind: 'tiled', variant: '128x128k8t256', vec: true });
  });

  it('runs ring variants as their staged twins on software adapters, other plans as planned', () => {
    for (const v of Object.keys(TILED_VARIANTS) as TiledVariant[]) {
      const twin = stagedTwin(v);
      if (TILED_VARIANTS[v].load === 'ring') expect({ ...TILED_VARIANTS[twin], load: 'ring' }).toEqual(TILED_VARIANTS[v]); // the same tile
      else expect(twin).toBe(v);
    }
    const ring: MatmulPlan = { kind: 'tiled', variant: '128x128k8t256r', vec: true, splits: 3, whole: 4 };
    expect(adapterPlan(ring, true)).toEqual({ ...ring, variant: '128x128k8t256' });
    expect(adapterPlan(ring, false)).toEqual(ring);
    expect(adapterPlan({ kind: 'skinny', nc: 8 }, true)).toEqual({ kind: 'skinny', nc: 8 });
  });

  it('the committed table names only existing variants', () => {
    for (const s of MATMUL_TUNING.shapes) expect(Object.keys(TILED_VARIANTS)).toContain(s.variant);
  });

  it('reads a tuning table from JSON as the benchmark writes it, and names the file and field of a bad one', () => {
    expect(parseMatmulTuning(JSON.parse(JSON.stringify(MATMUL_TUNING)), 'h100.json')).toEqual(MATMUL_TUNING);
    const good = JSON.parse(JSON.stringify(MATMUL_TUNING)) as Record<string, unknown> & { shapes: Record<string, unknown>[] };
    const bad = (edit: (t: typeof good) => void) => {
      const t = structuredClone(good);
      edit(t);
      return () => parseMatmulTuning(t, 'my-gpu.json');
    };
    expect(() => parseMatmulTuning([], 'my-gpu.json')).toThrow(/^my-gpu.json: "adapter" must be a string/);
    expect(() => parseMatmulTuning(null, 'my-gpu.json')).toThrow(/^my-gpu.json: the table must be a JSON object/);
    expect(bad((t) => delete t.adapter)).toThrow(/^my-gpu.json: "adapter" must be a string; write the table with `node dist\/node\/bench.js matmul --variants all --tuning FILE.json`/);
    expect(bad((t) => (t.shapes = {} as never))).toThrow(/"shapes" must be a list/);
    expect(bad((t) => (t.shapes[1].variant = '256x256'))).toThrow(/shapes\[1\].variant must be one of 128x128k16t256, .*, got "256x256"/);
    expect(bad((t) => (t.shapes[0].m = 0))).toThrow(/shapes\[0\].m must be a positive integer, got 0/);
    expect(bad((t) => (t.shapes[2].transB = 'yes'))).toThrow(/shapes\[2\].transB must be true or false, got "yes"/);
    expect(bad((t) => (t.shapes[0].bDtype = 'fp8'))).toThrow(/shapes\[0\].bDtype must be "f32", "bf16" or "f16", got "fp8"/);
    expect(bad((t) => (t.shapes[3].splits = 0))).toThrow(/shapes\[3\].splits must be a positive integer, got 0/);
    expect(bad((t) => (t.shapes[3].whole = -2))).toThrow(/shapes\[3\].whole must be an integer ≥ 0, got -2/);
    expect(bad((t) => delete t.shapes[4].gflops)).toThrow(/shapes\[4\].gflops must be a number, got undefined/);
  });

  it("plans by the table measured on the adapter at hand, else by the built-in one", () => {
    const mine = { adapter: 'some laptop GPU', date: '', source: 'test', shapes: [shape(4096, 4096, 4096, '64x64k8t64')] };
    expect(tuningFor('some laptop GPU')).toBe(MATMUL_TUNING);
    useMatmulTuning(mine);
    expect(tuningFor('some laptop GPU')).toBe(mine);
    expect(tuningFor('another GPU')).toBe(MATMUL_TUNING);
    expect(tuningFor(MATMUL_TUNING.adapter)).toBe(MATMUL_TUNING);
  });
});
