// Matrix product on WebGPU (shaders/matmul.wgsl): a register-blocked tiled kernel in
// several variants (tile geometry, K-tile depth, load scheduling), picked per shape from
// measured timings (matmul-tuning.ts), optionally split over k where its output tiles are
// too few to fill the GPU or leave the last wave of workgroups part-full (then only that
// wave's tiles are split), and a split-k kernel for the few-row products of decoding, where
// tiles would idle.
import type { MatmulArgs, WeightDType } from '../../kernels.js';
import { checkMatmul } from '../../args/matmul.js';
import type { Dispatch, GpuContext } from '../context.js';
import { isSoftwareAdapter } from '../device.js';
import { Params } from '../params.js';
import { unrolled } from '../product-loops.js';
import { MATMUL_TUNING } from './matmul-tuning.js';

/**
 * How the tiled kernel loads the next K-tile (the shader's STAGED and BUFS): stored at once
 * (`early`), held in registers during the multiply and stored after it (`staged`), or in a ring
 * of three buffers, stored at the start of the next multiply (`ring`: output tiles inside the
 * matrices; the edge tiles and a K tail load early; see shaders/matmul.wgsl).
 */
export type TiledLoad = 'early' | 'staged' | 'ring';

/**
 * One variant of the tiled kernel: wx × wy threads, each computing tm rows × 8 columns,
 * so a workgroup computes (tm·wy)×(8·wx) outputs; K advances in tiles of bk, loaded as `load` says.
 * Workgroup memory: 2 operands × bk × 32 quads × 16 bytes = 1 KiB per unit of bk and buffer
 * (two buffers, or three for the ring).
 */
export interface TiledGeometry {
  tm: 4 | 8;
  wx: 8 | 16;
  wy: 8 | 16 | 32;
  bk: 8 | 16;
  load: TiledLoad;
}

/**
 * The tiled variants, named rows×cols, K-tile depth, threads, and the load when not staged
 * ("e": early, "r": ring). Each bets on a different limit of a GPU's SMs: workgroup memory per SM
 * (k8: 16 KiB instead of 32), registers per thread (4×8 outputs per thread instead of
 * 8×8), load latency (the load), or too few workgroups for the SMs (smaller tiles).
 */
export const TILED_VARIANTS = {
  '128x128k16t256': { tm: 8, wx: 16, wy: 16, bk: 16, load: 'staged' }, // the first kernel's geometry
  '128x128k16t256r': { tm: 8, wx: 16, wy: 16, bk: 16, load: 'ring' },
  '128x128k8t256': { tm: 8, wx: 16, wy: 16, bk: 8, load: 'staged' },
  '128x128k8t256e': { tm: 8, wx: 16, wy: 16, bk: 8, load: 'early' },
  '128x128k8t256r': { tm: 8, wx: 16, wy: 16, bk: 8, load: 'ring' },
  '128x128k8t512': { tm: 4, wx: 16, wy: 32, bk: 8, load: 'staged' },
  '128x128k8t512e': { tm: 4, wx: 16, wy: 32, bk: 8, load: 'early' },
  '128x128k8t512r': { tm: 4, wx: 16, wy: 32, bk: 8, load: 'ring' },
  '128x64k8t128': { tm: 8, wx: 8, wy: 16, bk: 8, load: 'staged' },
  '64x128k8t128': { tm: 8, wx: 16, wy: 8, bk: 8, load: 'staged' },
  '64x128k8t256': { tm: 4, wx: 16, wy: 16, bk: 8, load: 'staged' },
  '64x128k8t256r': { tm: 4, wx: 16, wy: 16, bk: 8, load: 'ring' },
  '64x64k8t64': { tm: 8, wx: 8, wy: 8, bk: 8, load: 'staged' },
} as const satisfies Record<string, TiledGeometry>;

export type TiledVariant = keyof typeof TILED_VARIANTS;

/** Fits WebGPU's default limits (256 invocations, 16 KiB of workgroup memory). */
export const DEFAULT_TILED: TiledVariant = '128x128k8t256';

/**
 * How one product runs. `tiled` runs a variant of the tiled kernel; `vec` reads the
 * operands as vectors wherever they are aligned (see `vectorLoads`); `splits` > 1 cuts k
 * into that many slices (see `kSlices`) for every output tile after the first `whole` ones
 * (row-major; default 0: all), each slice a tile of partial sums, added in slice order by
 * `sum_slices` (one matrix only: batch 1). Splitting only the last tiles evens out the GPU's
 * last wave of workgroups (see `tiled_split` in the shader). `skinny` computes 4 rows × nc columns
 * per workgroup, splitting k over 256/nc threads per column; with `vec` (`skinny_vec`, B stored
 * n×k and aligned: see `skinnyVecFits`) it reads B in 8-element chunks, 16 bytes a load.
 */
export type MatmulPlan =
  | { kind: 'tiled'; variant: TiledVariant; vec: boolean; splits?: number; whole?: number }
  | { kind: 'skinny'; nc: 4 | 8 | 16 | 32; vec?: boolean };

/** k-slices start at multiples of this (the deepest K-tile), so no K-tile straddles two. */
const K_SLICE_ALIGN = 16;

/** The depth of each k-slice and how many there are, for at most `splits` slices of k. */
export function kSlices(k: number, splits: number): { kSlice: number; slices: number } {
  if (splits <= 1 || k <= K_SLICE_ALIGN) return { kSlice: k, slices: 1 };
  const kSlice = Math.ceil(k / splits / K_SLICE_ALIGN) * K_SLICE_ALIGN;
  return { kSlice, slices: Math.ceil(k / kSlice) };
}

/** A measured shape and the tiled plan that ran it fastest. */
export interface TunedShape {
  m: number;
  n: number;
  k: number;
  batch: number;
  transA: boolean;
  transB: boolean;
  bDtype: WeightDType;
  variant: TiledVariant;
  vec: boolean;
  /** k-slices of the winner (absent: 1). planMatmul applies it to one matrix: this very shape, or any of k ≥ SPLIT_MIN_K. */
  splits?: number;
  /** Output tiles the winner computed whole before the split ones (absent: 0); applied to this very shape only. */
  whole?: number;
  gflops: number;
}

/** The table matmul-tuning.ts holds, written by the matmul benchmark. */
export interface MatmulTuning {
  adapter: string;
  date: string;
  /** How the timings were taken. */
  source: string;
  shapes: TunedShape[];
}

/** Tuning tables by adapter: the built-in one (measured on an H100) and any an app adds. */
const tunings = new Map<string, MatmulTuning>([[MATMUL_TUNING.adapter, MATMUL_TUNING]]);

/**
 * Plans this adapter's products from `table` (measured on it: `node dist/node/bench.js matmul
 * --variants all --tuning FILE.json` writes one). Replaces an earlier table of the same adapter.
 */
export function useMatmulTuning(table: MatmulTuning): void {
  tunings.set(table.adapter, table);
}

/**
 * The table measured on `adapter` (BackendInfo.description), else the built-in one: its choices
 * are right on any adapter (every plan computes the same product) but tuned for an H100.
 */
export function tuningFor(adapter: string): MatmulTuning {
  return tunings.get(adapter) ?? MATMUL_TUNING;
}

/**
 * A tuning table from JSON (as the matmul benchmark writes it), checked field by field; errors
 * name `source` and the field.
 */
export function parseMatmulTuning(json: unknown, source: string): MatmulTuning {
  const fail = (where: string, why: string): never => {
    throw new Error(`${source}: ${where} ${why}; write the table with \`node dist/node/bench.js matmul --variants all --tuning FILE.json\``);
  };
  if (typeof json !== 'object' || json === null) return fail('the table', 'must be a JSON object');
  const t = json as Record<string, unknown>;
  for (const key of ['adapter', 'date', 'source'] as const) if (typeof t[key] !== 'string') fail(`"${key}"`, 'must be a string');
  if (!Array.isArray(t.shapes)) return fail('"shapes"', 'must be a list');
  const count = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;
  const shapes = t.shapes.map((e: unknown, i: number): TunedShape => {
    const at = `shapes[${i}]`;
    if (typeof e !== 'object' || e === null) return fail(at, 'must be an object');
    const s = e as Record<string, unknown>;
    for (const key of ['m', 'n', 'k', 'batch'] as const) if (!count(s[key], 1)) fail(`${at}.${key}`, `must be a positive integer, got ${JSON.stringify(s[key])}`);
    for (const key of ['transA', 'transB', 'vec'] as const) if (typeof s[key] !== 'boolean') fail(`${at}.${key}`, `must be true or false, got ${JSON.stringify(s[key])}`);
    if (!['f32', 'bf16', 'f16'].includes(s.bDtype as string)) fail(`${at}.bDtype`, `must be "f32", "bf16" or "f16", got ${JSON.stringify(s.bDtype)}`);
    if (!Object.hasOwn(TILED_VARIANTS, s.variant as string)) fail(`${at}.variant`, `must be one of ${Object.keys(TILED_VARIANTS).join(', ')}, got ${JSON.stringify(s.variant)}`);
    if (s.splits !== undefined && !count(s.splits, 1)) fail(`${at}.splits`, `must be a positive integer, got ${JSON.stringify(s.splits)}`);
    if (s.whole !== undefined && !count(s.whole, 0)) fail(`${at}.whole`, `must be an integer ≥ 0, got ${JSON.stringify(s.whole)}`);
    if (typeof s.gflops !== 'number') fail(`${at}.gflops`, `must be a number, got ${JSON.stringify(s.gflops)}`);
    return s as unknown as TunedShape;
  });
  return { adapter: t.adapter as string, date: t.date as string, source: t.source as string, shapes };
}

/** The device limits a tiled variant must fit. */
export interface TiledLimits {
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupStorageSize: number;
  /** A split's partial sums are one binding. */
  maxStorageBufferBindingSize: number;
}

/**
 * The shortest k a measured split is applied to when the shape was not itself measured: a
 * split pays a reduction over slices·m·n partial sums, worth it where each slice is long.
 * Measured shapes take their measured split at any k (the 0.5B model's dW products, k = 2048,
 * whose 7 to 266 output tiles fill the H100's 132 SMs badly).
 */
const SPLIT_MIN_K = 4096;

/** Rows up to which the split-k kernel beats tiles (it re-reads B once per 4 rows). */
const SKINNY_MAX_M = 16;
/** Workgroups that keep every SM of a big GPU busy (H100: 132 SMs). */
const FULL_GPU = 256;

const B_DTYPE: Record<WeightDType, number> = { f32: 0, bf16: 1, f16: 2 };

const tiledThreads = (g: TiledGeometry): number => g.wx * g.wy;
const tiledSharedBytes = (g: TiledGeometry): number => (g.load === 'ring' ? 3 : 2) * g.bk * 2 * 32 * 16;

/** Why a variant cannot run on a device with these limits, or null. */
function unfit(g: TiledGeometry, limits: TiledLimits): string | null {
  const threads = tiledThreads(g);
  if (threads > limits.maxComputeInvocationsPerWorkgroup || threads > limits.maxComputeWorkgroupSizeX)
    return `${threads} invocations per workgroup (along x), the device allows ${Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX)}`;
  if (tiledSharedBytes(g) > limits.maxComputeWorkgroupStorageSize)
    return `${tiledSharedBytes(g)} bytes of workgroup memory, the device allows ${limits.maxComputeWorkgroupStorageSize}`;
  return null;
}

/**
 * skinny_vec reads B stored n×k in chunks of 8 elements along k (16 or 32 bytes) and A stored m×k
 * as 16-byte vectors, so k and each B matrix's first element must be multiples of 8, each A's of 4
 * (the same for f32 and packed B, so both run the same sums).
 */
export function skinnyVecFits(a: MatmulArgs): boolean {
  return a.transB && !a.transA && a.k > 0 && a.k % 8 === 0 && a.strideB % 8 === 0 && a.strideA % 4 === 0;
}

/**
 * The tiled kernel binds A and B a second time as arrays of vec4 / vec2 words, whose
 * bindings must hold at least one element: 16 bytes of A, 8 of B.
 */
const tiledBindable = (a: MatmulArgs): boolean => a.a.bytes >= 16 && a.b.bytes >= 8;

/**
 * Whether every quad the tiled kernel reads (4 elements along an operand's contiguous
 * axis, starting at a multiple of 4 within its matrix) is 4-aligned in the storage.
 */
export function vectorLoads(a: MatmulArgs): { a: boolean; b: boolean } {
  const aligned = (stride: number, extent: number) => (a.batch === 1 || stride % 4 === 0) && extent % 4 === 0;
  return { a: aligned(a.strideA, a.transA ? a.m : a.k), b: aligned(a.strideB, a.transB ? a.k : a.n) };
}

/**
 * The measured shape nearest to `a`: the same shape and layout if measured, else the one
 * closest in log₂ of 128×128 output tiles (how well the workgroups fill the GPU) and,
 * a quarter as much, in log₂ k (how much of the time the first and last K-tiles take).
 */
export function nearestTuned(a: MatmulArgs, shapes: readonly TunedShape[]): TunedShape | undefined {
  const exact = shapes.find(
    (s) => s.m === a.m && s.n === a.n && s.k === a.k && s.batch === a.batch && s.transA === a.transA && s.transB === a.transB && s.bDtype === a.bDtype,
  );
  if (exact) return exact;
  const tiles = (s: { m: number; n: number; batch: number }) => Math.log2(Math.ceil(s.m / 128) * Math.ceil(s.n / 128) * Math.max(1, s.batch));
  const distance = (s: TunedShape) => Math.abs(tiles(s) - tiles(a)) + 0.25 * Math.abs(Math.log2(s.k) - Math.log2(Math.max(1, a.k)));
  let best: TunedShape | undefined;
  for (const s of shapes) if (!best || distance(s) < distance(best)) best = s;
  return best;
}

/** Output tiles of a one-matrix product in a tiled variant: per tile row, and in all. */
export function outputTiles(a: Pick<MatmulArgs, 'm' | 'n'>, variant: TiledVariant): { tilesX: number; tiles: number } {
  const g = TILED_VARIANTS[variant];
  const tilesX = Math.ceil(a.n / (8 * g.wx));
  return { tilesX, tiles: tilesX * Math.ceil(a.m / (g.tm * g.wy)) };
}

/** How a tiled plan splits a product: k-slices per split tile (1: no split), and the partial sums' bytes. */
function splitOf(a: Pick<MatmulArgs, 'm' | 'n' | 'k'>, variant: TiledVariant, splits: number, whole: number): { kSlice: number; slices: number; partialBytes: number } {
  const g = TILED_VARIANTS[variant];
  const { tiles } = outputTiles(a, variant);
  const { kSlice, slices } = whole >= tiles ? { kSlice: a.k, slices: 1 } : kSlices(a.k, splits); // every tile whole: no split
  return { kSlice, slices, partialBytes: slices > 1 ? (tiles - whole) * slices * g.tm * g.wy * 8 * g.wx * 4 : 0 };
}

export function planMatmul(a: MatmulArgs, limits: TiledLimits, tuning: MatmulTuning = MATMUL_TUNING): MatmulPlan {
  const groups = (rows: number, cols: number) => Math.ceil(a.m / rows) * Math.ceil(a.n / cols) * a.batch;
  if (a.m <= SKINNY_MAX_M || !tiledBindable(a)) {
    // The most columns per workgroup that still keep every SM busy. With vector loads on an H100
    // (one bench call, bench/results/matmul-h100.json): n = 4864 16 columns 310 GFLOP/s, 8: 299;
    // n = 896 4: 225, 8: 179; the 152k-column lm_head 16: 1414 (f32 B), 2282 (bf16; 32: 2327),
    // against 824 and 217 for the scalar kernel's 8. Without them 8 columns, or 4 when 8 leaves SMs
    // idle (n ≈ 900).
    if (skinnyVecFits(a)) return { kind: 'skinny', nc: groups(4, 16) >= FULL_GPU ? 16 : groups(4, 8) >= FULL_GPU ? 8 : 4, vec: true };
    return { kind: 'skinny', nc: groups(4, 8) >= FULL_GPU ? 8 : 4 };
  }
  const tuned = nearestTuned(a, tuning.shapes);
  const variant = tuned && fitting(tuned.variant, limits);
  if (tuned && variant) {
    const measured = tuned.m === a.m && tuned.n === a.n && tuned.k === a.k && tuned.batch === a.batch && tuned.transA === a.transA && tuned.transB === a.transB;
    const whole = measured ? (tuned.whole ?? 0) : 0;
    // A split whose partial sums would not fit one binding runs unsplit (a far bigger product than the one measured).
    const split =
      tuned.splits !== undefined && tuned.splits > 1 && a.batch === 1 && (measured || a.k >= SPLIT_MIN_K) && splitOf(a, variant, tuned.splits, whole).partialBytes <= limits.maxStorageBufferBindingSize;
    return { kind: 'tiled', variant, vec: tuned.vec, ...(split ? { splits: tuned.splits, ...(whole ? { whole } : {}) } : {}) };
  }
  return { kind: 'tiled', variant: DEFAULT_TILED, vec: true };
}

/** The staged variant of a ring variant's tile (its name without the "r"); any other variant itself. */
export function stagedTwin(variant: TiledVariant): TiledVariant {
  if (TILED_VARIANTS[variant].load !== 'ring') return variant;
  const twin = variant.slice(0, -1);
  if (!Object.hasOwn(TILED_VARIANTS, twin)) throw new Error(`tiled variant ${variant} has no staged twin ${twin}`);
  return twin as TiledVariant;
}

/**
 * `variant` if the device can run it; else, for a ring variant whose third buffer is what does
 * not fit, its staged twin; else null.
 */
export function fitting(variant: TiledVariant, limits: TiledLimits): TiledVariant | null {
  if (!unfit(TILED_VARIANTS[variant], limits)) return variant;
  const twin = stagedTwin(variant);
  return twin === variant || unfit(TILED_VARIANTS[twin], limits) ? null : twin;
}

/**
 * The plan `matmul` runs: on a software adapter (lavapipe, SwiftShader) a ring variant runs as its
 * staged twin, the same sums. There LLVM compiles each pipeline, and the ring's larger kernel took
 * seconds a pipeline: the test suite ran several times longer, and the ring was tuned for GPUs.
 */
export function adapterPlan(plan: MatmulPlan, software: boolean): MatmulPlan {
  return plan.kind === 'tiled' && software ? { ...plan, variant: stagedTwin(plan.variant) } : plan;
}

export function matmul(ctx: GpuContext, a: MatmulArgs): void {
  const plan = planMatmul(a, ctx.device.limits, tuningFor(ctx.adapter));
  matmulWithPlan(ctx, a, adapterPlan(plan, isSoftwareAdapter(ctx.device.adapterInfo)));
}

/** Runs a product with the given plan (benchmarks and tests compare plans; code calls `matmul`). */
export function matmulWithPlan(ctx: GpuContext, a: MatmulArgs, plan: MatmulPlan): void {
  const label = checkMatmul(a);
  if (a.batch === 0 || a.m === 0 || a.n === 0) return;
  const layout = { TRANS_A: a.transA ? 1 : 0, TRANS_B: a.transB ? 1 : 0, B_DTYPE: B_DTYPE[a.bDtype] };
  // A, B, out, then A and B again as vectors (bindings 4, 5: tiled; skinny_vec reads binding 4).
  const operands: Dispatch['bindings'] = [
    [a.a, 'read'],
    [a.b, 'read'],
    [a.out, 'write'],
    [a.a, 'read'],
    [a.b, 'read'],
  ];
  // The epilogue's operands, bindings 7 and 8 of every kernel (A as the placeholder of an absent one:
  // never read then), and the constants that switch them on.
  const epilogue: Dispatch['bindings'] = [
    [a.bias ?? a.a, 'read'],
    [a.residual ?? a.a, 'read'],
  ];
  const finish = { HAS_BIAS: a.bias ? 1 : 0, HAS_RESIDUAL: a.residual ? 1 : 0 };
  const named = `${label}${a.bias ? ' + bias' : ''}${a.residual ? ' + residual' : ''}`;
  if (plan.kind === 'skinny') {
    if (plan.vec && !skinnyVecFits(a))
      throw new Error(`${label}: skinny_vec needs B stored n×k, A m×k, k and B's batch stride multiples of 8 and A's of 4; run it with vec: false`);
    const params = new Params().u32(a.m, a.n, a.k, a.strideA, a.strideB, a.strideOut, 1, a.k);
    // skinny_vec reads B as vec4 words (binding 6).
    ctx.dispatch({
      label: named,
      shader: 'matmul',
      entry: plan.vec ? 'skinny_vec' : 'skinny',
      constants: { ...layout, NC: plan.nc, ...finish },
      bindings: [...operands, [a.b, 'read'], ...epilogue],
      params,
      workgroups: [Math.ceil(a.n / plan.nc), Math.ceil(a.m / 4), a.batch],
    });
    return;
  }
  const g: TiledGeometry = TILED_VARIANTS[plan.variant];
  if (!g) throw new Error(`${label}: unknown tiled variant '${String(plan.variant)}' (variants: ${Object.keys(TILED_VARIANTS).join(', ')})`);
  const why = unfit(g, ctx.device.limits);
  if (why) throw new Error(`${label}: tiled variant ${plan.variant} needs ${why}; use planMatmul's choice`);
  if (!tiledBindable(a)) throw new Error(`${label}: the tiled kernel needs A ≥ 16 bytes and B ≥ 8 bytes (it binds them as vectors); planMatmul runs such products with skinny`);
  const splits = plan.splits ?? 1;
  if (!(Number.isInteger(splits) && splits >= 1)) throw new Error(`${label}: splits must be a positive integer, got ${splits}`);
  const whole = plan.whole ?? 0;
  if (!(Number.isInteger(whole) && whole >= 0)) throw new Error(`${label}: whole must be a count of output tiles (an integer ≥ 0), got ${whole}`);
  const rows = g.tm * g.wy;
  const cols = 8 * g.wx;
  const { tilesX, tiles } = outputTiles(a, plan.variant);
  const { kSlice, slices, partialBytes } = splitOf(a, plan.variant, splits, whole);
  if (slices > 1 && a.batch !== 1) throw new Error(`${label}: a split over k runs one matrix, got batch ${a.batch}; plan it without splits`);
  // Split: the split tiles' slices write tiles of partial sums to scratch, and sum_slices adds them in slice order.
  const partial = slices > 1 ? ctx.pool.alloc(partialBytes, `${label}: k-slice partial sums`) : null;
  const vec = vectorLoads(a);
  // sum_slices reads the same parameters and tile geometry.
  const params = new Params().u32(a.m, a.n, a.k, a.strideA, a.strideB, a.strideOut, slices, kSlice, whole, tilesX);
  const tile = { TM: g.tm, WX: g.wx, WY: g.wy };
  const splitGroups = whole + (tiles - whole) * slices;
  // tiled_split writes its partials to binding 6 (tiled binds A there as a placeholder).
  const bindings: Dispatch['bindings'] = [...operands, partial ? [partial, 'write'] : [a.a, 'read'], ...epilogue];
  ctx.dispatch({
    label: partial ? `${named} (tiles ${whole}.. in ${slices} k-slices)` : named,
    shader: 'matmul',
    entry: partial ? 'tiled_split' : 'tiled',
    constants: {
      ...layout,
      ...tile,
      BK: g.bk,
      STAGED: g.load === 'staged' ? 1 : 0, // the ring's edge tiles load early (see the shader)
      VEC_A: plan.vec && vec.a ? 1 : 0,
      VEC_B: plan.vec && vec.b ? 1 : 0,
      UNROLL: unrolled(ctx) ? 1 : 0,
      ...finish,
    },
    ...(g.load === 'ring' ? { defines: { BUFS: 3 } } : {}), // else the shader's 2 (one module for the rest)
    bindings,
    params,
    workgroups: partial ? ctx.grid(splitGroups, 1) : [tilesX, Math.ceil(a.m / rows), a.batch],
  });
  if (partial) {
    // The partials (binding 1), out (2), placeholders up to the epilogue's operands.
    const spare: Dispatch['bindings'][number] = [partial, 'read'];
    ctx.dispatch({
      label: `${named}: sum of ${slices} k-slices`,
      shader: 'matmul',
      entry: 'sum_slices',
      constants: { ...tile, ...finish },
      bindings: [spare, [a.out, 'write'], spare, spare, spare, spare, ...epilogue],
      params,
      workgroups: ctx.grid(((tiles - whole) * rows * cols) / 4, 256), // 4 elements a thread
    });
    ctx.pool.release(partial);
  }
}
