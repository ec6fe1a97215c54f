// attention / attentionGrad on both backends against the float64 reference (test/attention/reference.ts):
// forward (out, lse) and all three gradients for every mask kind, GQA, odd lengths and head dims,
// plus the contract's edges (rows that see no key, rows outside every sequence) and determinism.
//
// Tolerances (max |got − want| / max |want|, see maxRelError), measured on lavapipe and wasm at
// most 1.1e-6 forward and 2.1e-6 for the gradients (257-long causal rows, d 80):
//   FWD_TOL 1e-5, GRAD_TOL 2e-5. Gradients are compared with a floor of GRAD_FLOOR on max |want|:
// where the exact gradient is 0 (one visible key: dS = P·(dP − δ) = 0) f32 leaves ~1e-8 residue.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { attentionGradScratchBytes, type AttentionArgs } from '../../src/backend/kernels.js';
import { downloadF32, maxRelError, randomF32, testBackends } from '../helpers/backends.js';
import { StorageScope } from '../helpers/scope.js';
import {
  TILE_CANDIDATES,
  attentionTileBytes,
  attentionTuningFor,
  headDimClass,
  setStoredScoresBudget,
  useAttentionTuning,
  storedScoreLayout,
  DEFAULT_STORED_SCORES_BUDGET,
  type AttentionPass,
  type AttentionTile,
  type AttentionTiles,
} from '../../src/backend/webgpu/kernels/attention.js';
import { setProductLoops } from '../../src/backend/webgpu/product-loops.js';
import { attentionGradRef, attentionRef, type AttentionShape } from './reference.js';
import { COMPILE_TIMEOUT } from './timeout.js';

const FWD_TOL = 1e-5;
const GRAD_TOL = 2e-5;
const GRAD_FLOOR = 1e-2;
const gradError = (got: ArrayLike<number>, want: ArrayLike<number>) => maxRelError(got, want, GRAD_FLOOR);

const backends = await testBackends();

interface Case {
  name: string;
  /** Query / key lengths of the packed sequences (keys default to the query lengths). */
  lensQ: number[];
  lensK?: number[];
  hq: number;
  hkv: number;
  d: number;
  causal: boolean;
}

const cumsum = (lens: number[], start = 0): number[] => lens.reduce((cu, l) => [...cu, cu[cu.length - 1] + l], [start]);

function shapeOf(c: Case): AttentionShape {
  const cuQ = cumsum(c.lensQ);
  const cuK = cumsum(c.lensK ?? c.lensQ);
  return { tq: cuQ[cuQ.length - 1], tk: cuK[cuK.length - 1], hq: c.hq, hkv: c.hkv, d: c.d, cuQ, cuK, causal: c.causal, scale: 1 / Math.sqrt(c.d) };
}

const sameBoundaries = (s: AttentionShape): boolean => s.cuQ.length === s.cuK.length && s.cuQ.every((c, i) => c === s.cuK[i]);

interface Result {
  out: Float32Array;
  lse: Float32Array;
  gq: Float32Array;
  gk: Float32Array;
  gv: Float32Array;
}

/** Runs forward and backward; outputs start as NaN (scratch as `scratchFill`) so unwritten elements show. */
async function run(backend: Backend, s: AttentionShape, q: Float32Array, k: Float32Array, v: Float32Array, gOut: Float32Array, scratchFill = Number.NaN): Promise<Result> {
  const sc = new StorageScope(backend);
  const nSeq = s.cuQ.length - 1;
  const lens = (cu: number[]) => cu.slice(1).map((x, i) => x - cu[i]);
  const cuQ = sc.input(Int32Array.from(s.cuQ));
  const args: AttentionArgs = {
    q: sc.input(q),
    k: sc.input(k),
    v: sc.input(v),
    out: sc.output(s.tq * s.hq * s.d),
    lse: sc.output(s.hq * s.tq),
    cuSeqlensQ: cuQ,
    // Equal boundaries share one storage, as ops.attention passes them (the backward's causal-square case).
    cuSeqlensK: sameBoundaries(s) ? cuQ : sc.input(Int32Array.from(s.cuK)),
    nSeq,
    maxSeqlenQ: Math.max(0, ...lens(s.cuQ)),
    maxSeqlenK: Math.max(0, ...lens(s.cuK)),
    tq: s.tq,
    tk: s.tk,
    hq: s.hq,
    hkv: s.hkv,
    d: s.d,
    causal: s.causal,
    scale: s.scale,
  };
  backend.attention(args);
  const gq = sc.output(s.tq * s.hq * s.d);
  const gk = sc.output(s.tk * s.hkv * s.d);
  const gv = sc.output(s.tk * s.hkv * s.d);
  const scratch = sc.output(attentionGradScratchBytes(args) / 4, scratchFill);
  backend.attentionGrad({ ...args, gOut: sc.input(gOut), gq, gk, gv, scratch });
  const r: Result = {
    out: await downloadF32(backend, args.out, s.tq * s.hq * s.d),
    lse: await downloadF32(backend, args.lse, s.hq * s.tq),
    gq: await downloadF32(backend, gq, s.tq * s.hq * s.d),
    gk: await downloadF32(backend, gk, s.tk * s.hkv * s.d),
    gv: await downloadF32(backend, gv, s.tk * s.hkv * s.d),
  };
  sc.free();
  return r;
}

function inputs(s: AttentionShape, seed: number) {
  return {
    q: randomF32(s.tq * s.hq * s.d, seed, -2, 2),
    k: randomF32(s.tk * s.hkv * s.d, seed + 1, -2, 2),
    v: randomF32(s.tk * s.hkv * s.d, seed + 2),
    gOut: randomF32(s.tq * s.hq * s.d, seed + 3),
  };
}

function expectLse(got: Float32Array, want: Float64Array): void {
  for (let i = 0; i < want.length; i++) if (want[i] === Infinity) expect(got[i], `lse[${i}] of a row that sees no key`).toBe(Infinity);
  const finite = (x: ArrayLike<number>) => Array.from(x).map((v, i) => (want[i] === Infinity ? 0 : v));
  expect(maxRelError(finite(got), finite(want))).toBeLessThanOrEqual(FWD_TOL);
}

const CASES: Case[] = [
  { name: 'causal, 33 tokens, d 32', lensQ: [33], hq: 2, hkv: 2, d: 32, causal: true },
  { name: 'bidirectional, 7 tokens, d 32', lensQ: [7], hq: 2, hkv: 2, d: 32, causal: false },
  { name: 'one token', lensQ: [1], hq: 2, hkv: 1, d: 32, causal: true },
  { name: 'varlen packed [1, 7, 33], causal, GQA 2:1', lensQ: [1, 7, 33], hq: 2, hkv: 1, d: 32, causal: true },
  { name: 'varlen packed windows [7, 33, 1], bidirectional, d 80', lensQ: [7, 33, 1], hq: 2, hkv: 2, d: 80, causal: false },
  { name: 'decode: 1 query against 33 keys', lensQ: [1], lensK: [33], hq: 4, hkv: 1, d: 32, causal: true },
  { name: 'decode: 3 queries against 33 keys', lensQ: [3], lensK: [33], hq: 4, hkv: 1, d: 32, causal: true },
  { name: 'decode: two sequences, caches of 33 and 7', lensQ: [1, 1], lensK: [33, 7], hq: 2, hkv: 1, d: 32, causal: true },
  { name: 'GQA 4:1, causal, 33 tokens', lensQ: [33], hq: 4, hkv: 1, d: 32, causal: true },
  { name: 'causal, 257 tokens, d 80, GQA 2:1', lensQ: [257], hq: 2, hkv: 1, d: 80, causal: true },
  { name: 'bidirectional, 257 tokens, d 32', lensQ: [257], hq: 1, hkv: 1, d: 32, causal: false },
  { name: 'causal, 65 tokens, d 64', lensQ: [65], hq: 2, hkv: 2, d: 64, causal: true },
  { name: 'causal, 65 tokens, d 128, GQA 2:1', lensQ: [65], hq: 2, hkv: 1, d: 128, causal: true },
  { name: 'causal with more queries than keys (rows that see no key)', lensQ: [5], lensK: [3], hq: 1, hkv: 1, d: 32, causal: true },
];

describe.each(backends)('attention on $name', COMPILE_TIMEOUT, ({ backend }) => {
  it.each(CASES)('$name', async (c) => {
    const s = shapeOf(c);
    const x = inputs(s, 11);
    const got = await run(backend, s, x.q, x.k, x.v, x.gOut);
    const want = attentionRef(s, x.q, x.k, x.v);
    const grads = attentionGradRef(s, x.q, x.k, x.v, x.gOut);
    expect(maxRelError(got.out, want.out), 'out').toBeLessThanOrEqual(FWD_TOL);
    expectLse(got.lse, want.lse);
    expect(gradError(got.gq, grads.gq), 'gq').toBeLessThanOrEqual(GRAD_TOL);
    expect(gradError(got.gk, grads.gk), 'gk').toBeLessThanOrEqual(GRAD_TOL);
    expect(gradError(got.gv, grads.gv), 'gv').toBeLessThanOrEqual(GRAD_TOL);
  });

  it('right padding: each padded tail is its own sequence, real rows match the unpadded samples', async () => {
    // Two samples of 5 and 9 tokens padded to 9: rows 5..8 are padding.
    const s = shapeOf({ name: '', lensQ: [5, 4, 9], hq: 2, hkv: 1, d: 32, causal: true });
    const x = inputs(s, 5);
    const pad = (t: number) => t >= 5 && t < 9;
    for (let t = 0; t < s.tq; t++) if (pad(t)) x.gOut.fill(0, t * s.hq * s.d, (t + 1) * s.hq * s.d);
    const got = await run(backend, s, x.q, x.k, x.v, x.gOut);
    // The reference attends each real sample alone (padding rows are simply absent).
    const real = (a: Float32Array, heads: number) => a.filter((_, i) => !pad(Math.floor(i / (heads * s.d))));
    const alone: AttentionShape = { ...s, tq: 14, tk: 14, cuQ: [0, 5, 14], cuK: [0, 5, 14] };
    const xr = { q: real(x.q, s.hq), k: real(x.k, s.hkv), v: real(x.v, s.hkv), gOut: real(x.gOut, s.hq) };
    const want = attentionRef(alone, xr.q, xr.k, xr.v);
    const grads = attentionGradRef(alone, xr.q, xr.k, xr.v, xr.gOut);
    expect(maxRelError(real(got.out, s.hq), want.out)).toBeLessThanOrEqual(FWD_TOL);
    expect(gradError(real(got.gq, s.hq), grads.gq)).toBeLessThanOrEqual(GRAD_TOL);
    expect(gradError(real(got.gk, s.hkv), grads.gk)).toBeLessThanOrEqual(GRAD_TOL);
    expect(gradError(real(got.gv, s.hkv), grads.gv)).toBeLessThanOrEqual(GRAD_TOL);
    const padded = (a: Float32Array, heads: number) => a.filter((_, i) => pad(Math.floor(i / (heads * s.d))));
    for (const [name, g, heads] of [['gq', got.gq, s.hq], ['gk', got.gk, s.hkv], ['gv', got.gv, s.hkv]] as const)
      expect(padded(g, heads).every((v) => v === 0), `${name} of padding rows`).toBe(true);
  });

  it('leaves rows outside every sequence untouched', async () => {
    // 12 query rows of which sequences cover 2..10; keys 1..9.
    const base = shapeOf({ name: '', lensQ: [3, 5], lensK: [4, 4], hq: 2, hkv: 1, d: 32, causal: true });
    const s: AttentionShape = { ...base, tq: 12, tk: 10, cuQ: base.cuQ.map((t) => t + 2), cuK: base.cuK.map((t) => t + 1) };
    const x = inputs(s, 21);
    const got = await run(backend, s, x.q, x.k, x.v, x.gOut);
    const inside = (t: number, cu: number[]) => t >= cu[0] && t < cu[cu.length - 1];
    const rowsOf = (a: Float32Array, heads: number, cu: number[], keep: boolean) => a.filter((_, i) => inside(Math.floor(i / (heads * s.d)), cu) === keep);
    for (const [g, heads, cu] of [[got.out, s.hq, s.cuQ], [got.gq, s.hq, s.cuQ], [got.gk, s.hkv, s.cuK], [got.gv, s.hkv, s.cuK]] as const)
      expect(rowsOf(g, heads, cu, false).every(Number.isNaN)).toBe(true);
    const want = attentionRef(s, x.q, x.k, x.v);
    const grads = attentionGradRef(s, x.q, x.k, x.v, x.gOut);
    expect(maxRelError(rowsOf(got.out, s.hq, s.cuQ, true), rowsOf(Float32Array.from(want.out), s.hq, s.cuQ, true))).toBeLessThanOrEqual(FWD_TOL);
    expect(gradError(rowsOf(got.gk, s.hkv, s.cuK, true), rowsOf(Float32Array.from(grads.gk), s.hkv, s.cuK, true))).toBeLessThanOrEqual(GRAD_TOL);
  });

  it('is deterministic: identical bits on every run, whatever the scratch held', async () => {
    const s = shapeOf({ name: '', lensQ: [40, 90], hq: 4, hkv: 2, d: 80, causal: true });
    const x = inputs(s, 3);
    const a = await run(backend, s, x.q, x.k, x.v, x.gOut, Number.NaN);
    const b = await run(backend, s, x.q, x.k, x.v, x.gOut, 12345);
    for (const key of ['out', 'lse', 'gq', 'gk', 'gv'] as const) expect(Buffer.from(a[key].buffer).equals(Buffer.from(b[key].buffer)), key).toBe(true);
  });

  it('rejects bad shapes with the op and the fix named', () => {
    const sc = new StorageScope(backend);
    const st = sc.output(64);
    const cu = sc.input(Int32Array.from([0, 4]));
    const base: AttentionArgs = { q: st, k: st, v: st, out: sc.output(64), lse: sc.output(8), cuSeqlensQ: cu, cuSeqlensK: cu, nSeq: 1, maxSeqlenQ: 4, maxSeqlenK: 4, tq: 4, tk: 4, hq: 2, hkv: 2, d: 8, causal: true, scale: 1 };
    expect(() => backend.attention({ ...base, hkv: 3 })).toThrow(/multiple of kv heads/);
    expect(() => backend.attention({ ...base, d: 6 })).toThrow(/head dim 6 is unsupported/);
    expect(() => backend.attention({ ...base, d: 16 })).toThrow(/operand 'q' holds 256 bytes but needs 512/);
    expect(() => backend.attention({ ...base, out: st })).toThrow(/output 'out' is the same storage as 'q'/);
    sc.free();
  });
});

// Every tile the benchmark may install (TILE_CANDIDATES) must compute the same attention; each is run at
// head dim 128 (where the register tiles are largest), and the shipped tiles at both tuned classes. A tile
// staging 32 dims that exceeds the adapter's workgroup memory runs with 16 (lavapipe has 32 KiB). Each
// distinct tile is a pipeline compiled cold on a fresh CI machine, so the list is not crossed with every case.
const gpu = backends.find((b) => b.name === 'webgpu')?.backend;
// Both cases hold whole blocks below the diagonal (the unmasked path) as well as partial ones, for every tile.
const TILE_CASES: Case[] = [
  { name: 'causal, [300, 37] packed, d 128, GQA 2:1', lensQ: [300, 37], hq: 2, hkv: 1, d: 128, causal: true },
  { name: 'causal, [150, 69] packed, d 64, GQA 2:1', lensQ: [150, 69], hq: 4, hkv: 2, d: 64, causal: true },
];

/** Runs fn with `tiles` as b's adapter's attention tuning table, then restores the adapter's earlier table. */
async function withTiles<T>(b: Backend, tiles: AttentionTiles, fn: () => Promise<T>): Promise<T> {
  const adapter = b.info.description;
  const before = attentionTuningFor(adapter);
  useAttentionTuning({ adapter, date: '', source: 'test', tiles });
  try {
    return await fn();
  } finally {
    useAttentionTuning(before ?? { adapter, date: '', source: 'test', tiles: {} });
  }
}

/** Runs case c with `tile` for `pass` (or the shipped tiles) and compares to the float64 reference. */
async function expectTileCorrect(b: Backend, c: Case, pass?: AttentionPass, tile?: AttentionTile): Promise<void> {
  if (pass && tile) return withTiles(b, { [pass]: { [headDimClass(c.d)]: tile } }, () => expectTileCorrect(b, c));
  const s = shapeOf(c);
  const x = inputs(s, 5);
  const got = await run(b, s, x.q, x.k, x.v, x.gOut);
  const want = attentionRef(s, x.q, x.k, x.v);
  const grads = attentionGradRef(s, x.q, x.k, x.v, x.gOut);
  expect(maxRelError(got.out, want.out), `${c.name}: out`).toBeLessThanOrEqual(FWD_TOL);
  expect(gradError(got.gq, grads.gq), `${c.name}: gq`).toBeLessThanOrEqual(GRAD_TOL);
  expect(gradError(got.gk, grads.gk), `${c.name}: gk`).toBeLessThanOrEqual(GRAD_TOL);
  expect(gradError(got.gv, grads.gv), `${c.name}: gv`).toBeLessThanOrEqual(GRAD_TOL);
}

describe.runIf(gpu)('attention tile candidates on webgpu', COMPILE_TIMEOUT, () => {
  const passes = Object.keys(TILE_CANDIDATES) as AttentionPass[];
  it.each(passes.flatMap((pass) => TILE_CANDIDATES[pass].map((tile) => ({ pass, tile, name: `${pass} ${JSON.stringify(tile)}` }))))('$name', async ({ pass, tile }) => {
    await expectTileCorrect(gpu!, TILE_CASES[0], pass, tile);
  });

  it.each(TILE_CASES)('shipped tiles: $name', async (c) => {
    await expectTileCorrect(gpu!, c);
  });

  // Hardware adapters compile the product loops with the constant trip count DK (see score_step in the
  // shader), software adapters with the uniform one; this runs the hardware form here, with the smallest
  // candidate tile in every pass (an unrolled loop is a slow cold compile on lavapipe: ~22 s a pipeline).
  it('the product loops unrolled, as on hardware adapters', async () => {
    const c = TILE_CASES[1];
    const small: AttentionTile = { wg: 64, tc: 16, br: 16, bc: 64, dk: 16 };
    const dClass = headDimClass(c.d);
    setProductLoops('unrolled');
    try {
      await withTiles(gpu!, { fwd: { [dClass]: small }, dq: { [dClass]: small }, dkdv: { [dClass]: small } }, () => expectTileCorrect(gpu!, c));
    } finally {
      setProductLoops('adapter');
    }
  });

  // dQ either reads the dS that the dK/dV pass stored (in groups of heads that fit the budget) or
  // recomputes S and dP; both sum the same products in the same order, so the bits agree.
  // d 84 pads dQ-from-stored-dS's head dim to 88: 176 threads, 11 along the head dim.
  const STORED_CASES: Case[] = [
    CASES[3],
    CASES[4],
    CASES[7],
    CASES[13],
    { ...TILE_CASES[0], hq: 4, hkv: 2 },
    { name: 'causal, 70 tokens, d 84, GQA 2:1', lensQ: [70], hq: 2, hkv: 1, d: 84, causal: true },
  ];
  it.each(STORED_CASES)('dQ from stored dS, in head groups, and recomputed: the same bits ($name)', async (c) => {
    const s = shapeOf(c);
    const x = inputs(s, 9);
    const maxLen = (cu: number[]) => Math.max(...cu.slice(1).map((v, i) => v - cu[i]));
    const headBytes = storedScoreLayout({ nSeq: s.cuQ.length - 1, maxSeqlenQ: maxLen(s.cuQ), maxSeqlenK: maxLen(s.cuK) }, s.causal && sameBoundaries(s)).headBytes;
    const runWith = async (budget: number) => {
      setStoredScoresBudget(budget);
      try {
        return await run(gpu!, s, x.q, x.k, x.v, x.gOut);
      } finally {
        setStoredScoresBudget(DEFAULT_STORED_SCORES_BUDGET);
      }
    };
    const recomputed = await runWith(headBytes - 4);
    const grads = attentionGradRef(s, x.q, x.k, x.v, x.gOut);
    expect(gradError(recomputed.gq, grads.gq), 'recomputed gq').toBeLessThanOrEqual(GRAD_TOL);
    for (const heads of [1, c.hq]) {
      const stored = await runWith(heads * headBytes);
      for (const key of ['gq', 'gk', 'gv'] as const)
        expect(Buffer.from(stored[key].buffer).equals(Buffer.from(recomputed[key].buffer)), `${key}, ${heads} heads a group`).toBe(true);
    }
  });

  it('refuses a tile too large for the adapter even at 16 dims, naming the bytes it needs', async () => {
    const b = gpu!;
    const limit = b.info.limits.maxComputeWorkgroupStorageSize;
    const huge = { wg: 256, tc: 16, br: 128, bc: 128, dk: 16 };
    expect(attentionTileBytes('dkdv', huge, 128)).toBeGreaterThan(limit);
    const s = shapeOf(TILE_CASES[0]);
    const x = inputs(s, 5);
    await withTiles(b, { dkdv: { 128: huge } }, () =>
      expect(run(b, s, x.q, x.k, x.v, x.gOut)).rejects.toThrow(new RegExp(`needs ${attentionTileBytes('dkdv', huge, 128)} bytes of workgroup memory, the device has ${limit}`)),
    );
  });

  // The shader holds each thread's share of a staging step in fixed register arrays; a tile whose
  // share overflows them would silently drop rows, so the host refuses it by name.
  it.each([
    { pass: 'fwd' as const, tile: { wg: 32, tc: 16, br: 16, bc: 64, dk: 32 }, why: /a transposed staging step needs more than 8 row quads per thread/ },
  ])('refuses a $pass tile whose staging share overflows its registers', async ({ pass, tile, why }) => {
    const b = gpu!;
    const s = shapeOf(TILE_CASES[0]);
    const x = inputs(s, 5);
    await withTiles(b, { [pass]: { 128: tile } }, () => expect(run(b, s, x.q, x.k, x.v, x.gOut)).rejects.toThrow(why));
  });
});
