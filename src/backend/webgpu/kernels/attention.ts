// Attention and rotary embeddings on WebGPU (shaders/attention.wgsl, shaders/rope.wgsl).
// The forward is one dispatch. The backward: row statistics; dK/dV per query head, storing dS;
// dQ from the stored dS; the sum of dK/dV over each kv head's query heads. Stored dS costs
// [Lq × Lk] floats per query head, so the heads run in groups whose dS fits a fixed budget; where
// one head's does not, dQ recomputes S and dP instead (7 block products rather than 5, same bits).
import { attentionGradScratchBytes, type AttentionArgs, type AttentionGradArgs, type RopeArgs } from '../../kernels.js';
import { checkAttentionForward, checkAttentionGrad, checkRope } from '../../args/attention.js';
import type { Storage } from '../../storage.js';
import type { GpuContext } from '../context.js';
import { Params } from '../params.js';
import { unrolled } from '../product-loops.js';

/** One specialisation of the tiled kernels (see shaders/attention.wgsl's header). */
export interface AttentionTile {
  /** Threads per workgroup. */
  wg: number;
  /** Thread columns; the head dim is padded to a multiple of 4·tc. */
  tc: number;
  /** Rows per block: queries (fwd, dq) or keys (dkdv). */
  br: number;
  /** Columns per block on the other side. */
  bc: number;
  /** Head dims per staging step of the score products, rows per step of the value products (16 or 32). */
  dk: number;
}

export type AttentionPass = 'fwd' | 'dq' | 'dkdv';

/** Head-dim classes a tile is chosen by: d ≤ 32, ≤ 64, ≤ 96, ≤ 128. */
const D_CLASSES = [32, 64, 96, 128] as const;
export type HeadDimClass = (typeof D_CLASSES)[number];

// Register tiles the shader is sized for (MAX_O, MAX_S, MAX_IT, MAX_N there).
const MAX_O = 32;
const MAX_S = 16;
const MAX_IT = 8;
const MAX_N = 8;

/** Tiles by pass and head-dim class; a tuning table may name only some. */
export type AttentionTiles = { [P in AttentionPass]?: { [C in HeadDimClass]?: AttentionTile } };

// The built-in tiles, used where no table measured on the adapter names one. d ≤ 64 and d ≤ 128:
// the fastest of bench/attention.ts's alternatives on an H100 (bench/results/attention-h100.json).
const t = (wg: number, tc: number, br = 64, bc = 64, dk = 16): AttentionTile => ({ wg, tc, br, bc, dk });
// Tiles with dk 32 fall back to dk 16 on adapters with less workgroup memory than they need
// (32 KiB: lavapipe, most browsers).
const BUILT_IN: Record<AttentionPass, Record<HeadDimClass, AttentionTile>> = {
  fwd: { 32: t(128, 8), 64: t(128, 8, 64, 32, 32), 96: t(128, 8), 128: t(256, 16, 64, 64, 32) },
  dq: { 32: t(128, 8), 64: t(256, 16, 64, 64, 32), 96: t(128, 8), 128: t(256, 16, 64, 64, 32) },
  dkdv: { 32: t(128, 8), 64: t(128, 16, 32, 64), 96: t(128, 8), 128: t(256, 16, 64, 64, 32) },
};

/**
 * Alternatives the benchmark times per pass for the 64- and 128-wide head-dim classes (the
 * shipped tile among them); the tests run each one that fits the adapter present.
 */
export const TILE_CANDIDATES: Record<AttentionPass, AttentionTile[]> = {
  fwd: [t(256, 16), t(256, 16, 64, 64, 32), t(128, 16, 64, 64, 32), t(128, 8, 64, 32, 32), t(128, 16, 32, 64, 32), t(128, 16, 32, 64), t(64, 16, 16, 64)],
  dq: [t(256, 16), t(256, 16, 64, 64, 32), t(128, 16, 64, 64, 32), t(128, 8), t(128, 16, 32, 64, 32), t(128, 16, 32, 64), t(64, 16, 16, 64)],
  dkdv: [t(256, 16), t(256, 16, 64, 64, 32), t(128, 16, 64, 64, 32), t(128, 16, 32, 64), t(128, 16, 32, 64, 32), t(64, 16, 16, 64)],
};

/** Attention tiles measured on one adapter (`node dist/node/bench.js attention --tuning FILE.json`). */
export interface AttentionTuning {
  /** BackendInfo.description of the adapter measured. */
  adapter: string;
  date: string;
  /** How the timings were taken. */
  source: string;
  tiles: AttentionTiles;
}

/** Tuning tables by adapter. */
const tunings = new Map<string, AttentionTuning>();

/** Runs attention on `table.adapter` with the table's tiles; replaces an earlier table of that adapter. */
export function useAttentionTuning(table: AttentionTuning): void {
  tunings.set(table.adapter, table);
}

/** The table registered for `adapter`, if any. */
export function attentionTuningFor(adapter: string): AttentionTuning | undefined {
  return tunings.get(adapter);
}

/** The tile a pass uses for head dim d on `adapter`: its table's, else the built-in one. */
export function attentionTile(pass: AttentionPass, d: number, adapter = ''): AttentionTile {
  const dClass = headDimClass(d);
  return { ...(tunings.get(adapter)?.tiles[pass]?.[dClass] ?? BUILT_IN[pass][dClass]) };
}

const PASSES: readonly AttentionPass[] = ['fwd', 'dq', 'dkdv'];

/**
 * A tuning table from JSON (as the attention benchmark writes it), checked field by field against
 * what the shader can run; errors name `source` and the field.
 */
export function parseAttentionTuning(json: unknown, source: string): AttentionTuning {
  const fail = (where: string, why: string): never => {
    throw new Error(`${source}: ${where} ${why}; write the table with \`node dist/node/bench.js attention --device webgpu --tuning FILE.json\``);
  };
  const object = (v: unknown, where: string): Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(where, 'must be a JSON object');
  const table = object(json, 'the table');
  for (const key of ['adapter', 'date', 'source'] as const) if (typeof table[key] !== 'string') fail(`"${key}"`, 'must be a string');
  const tiles: AttentionTiles = {};
  for (const [pass, byClass] of Object.entries(object(table.tiles, '"tiles"'))) {
    if (!PASSES.includes(pass as AttentionPass)) fail(`tiles.${pass}`, `is not a pass: expected ${PASSES.join(', ')}`);
    const out: { [C in HeadDimClass]?: AttentionTile } = {};
    for (const [cls, v] of Object.entries(object(byClass, `tiles.${pass}`))) {
      const dClass = Number(cls) as HeadDimClass;
      const at = `tiles.${pass}.${cls}`;
      if (!D_CLASSES.includes(dClass)) fail(at, `is not a head-dim class: expected ${D_CLASSES.join(', ')}`);
      const o = object(v, at);
      for (const key of ['wg', 'tc', 'br', 'bc', 'dk'] as const)
        if (!(typeof o[key] === 'number' && Number.isInteger(o[key]) && o[key] > 0)) fail(`${at}.${key}`, `must be a positive integer, got ${JSON.stringify(o[key])}`);
      const tile = t(o.wg as number, o.tc as number, o.br as number, o.bc as number, o.dk as number);
      const why = tileProblem(tile, dClass);
      if (why) fail(at, `${JSON.stringify(tile)} cannot run: ${why}`);
      out[dClass] = tile;
    }
    tiles[pass as AttentionPass] = out;
  }
  return { adapter: table.adapter as string, date: table.date as string, source: table.source as string, tiles };
}

/** The head-dim class whose tile serves head dim d. */
export function headDimClass(d: number): HeadDimClass {
  return D_CLASSES.find((c) => d <= c) ?? 128;
}

/** Head dim padded to a multiple of 4·tc (the shader's DP). */
const paddedHeadDim = (d: number, tc: number): number => Math.ceil(d / (4 * tc)) * 4 * tc;

/** Score products staged at once: the backward stages S and dP together (the shader's PAIRS). */
const scorePairs = (pass: AttentionPass): number => (pass === 'fwd' ? 1 : 2);

interface Specialised {
  tile: AttentionTile;
  constants: Record<string, number>;
  /** The shader's `const DK`, which sizes the inner dimension of its workgroup array. */
  defines: Record<string, number>;
}

/** Bytes of workgroup memory a pass needs with `tile` for head dim d. */
export function attentionTileBytes(pass: AttentionPass, tile: AttentionTile, d: number): number {
  const { tc, br, bc, dk } = tile;
  // Rows of (dk + 1) vec4s in the shader's `sh`: a score pair or the value stage, then pbuf, over
  // which the backward stages its second score pair.
  const pairRows = br / 4 + bc / 4;
  const rows = Math.max(pairRows, paddedHeadDim(d, tc) / 4) + Math.max((br / 4) * (bc / dk), (scorePairs(pass) - 1) * pairRows);
  return 16 * (rows * (dk + 1) + (pass === 'fwd' ? (br * tc) / 4 : 0) + 1);
}

/** Why the shader cannot run `tile` at head dim d on any device, or undefined if it can. */
function tileProblem(tile: AttentionTile, d: number): string | undefined {
  const { wg, tc, br, bc, dk } = tile;
  const dp = paddedHeadDim(d, tc);
  const tr = wg / tc;
  const rm = br / tr;
  const cs = bc / (4 * tc);
  const co = dp / (4 * tc);
  if (!Number.isInteger(tr) || tc % 4 !== 0) return 'wg must be a multiple of tc, tc of 4';
  if (rm !== 4 && rm !== 8) return 'rows per thread br·tc/wg must be 4 or 8';
  if (!Number.isInteger(cs) || cs < 1 || rm * cs > MAX_S) return `bc must be a multiple of 4·tc with rows·(bc/4tc) ≤ ${MAX_S}`;
  if (rm * co > MAX_O) return `rows·(padded d/4tc) must be ≤ ${MAX_O}`;
  if ((dk !== 16 && dk !== 32) || bc % dk !== 0) return 'dk must be 16 or 32 and divide bc';
  // Staging items per thread the shader holds in registers (MAX_IT, MAX_N there).
  if ((Math.max(br, bc) * dk) / 4 > MAX_IT * wg) return `a transposed staging step needs more than ${MAX_IT} row quads per thread`;
  if ((dk * dp) / 4 > MAX_N * wg) return `a natural staging step needs more than ${MAX_N} items per thread`;
  return undefined;
}

/** The tile for (pass, d) on this adapter with its pipeline constants, checked against the shader's register bounds and the device. */
function specialise(ctx: GpuContext, label: string, pass: AttentionPass, d: number): Specialised {
  const limits = ctx.device.limits;
  let tile = attentionTile(pass, d, ctx.adapter);
  if (tile.dk === 32 && attentionTileBytes(pass, tile, d) > limits.maxComputeWorkgroupStorageSize) tile = { ...tile, dk: 16 };
  const { wg, tc, br, bc, dk } = tile;
  const bad = (why: string) => new Error(`${label}: ${pass} tile ${JSON.stringify(tile)} is invalid for d ${d}: ${why}`);
  const problem = tileProblem(tile, d);
  if (problem) throw bad(problem);
  const dp = paddedHeadDim(d, tc);
  const shared = attentionTileBytes(pass, tile, d);
  if (shared > limits.maxComputeWorkgroupStorageSize) throw bad(`needs ${shared} bytes of workgroup memory, the device has ${limits.maxComputeWorkgroupStorageSize}`);
  if (wg > limits.maxComputeInvocationsPerWorkgroup) throw bad(`the device allows ${limits.maxComputeInvocationsPerWorkgroup} threads per workgroup`);
  return { tile, constants: { WG: wg, TC: tc, BR: br, BC: bc, DP: dp, PAIRS: scorePairs(pass), UNROLL: unrolled(ctx) ? 1 : 0 }, defines: { DK: dk } };
}

/**
 * Stored dS per query head: a slot per sequence, in super-blocks of 64 query rows stored 8 keys at
 * a time (see ds_at in the shader). Dense slots pad rows and columns to 64; where the backward is
 * causal and every sequence has as many queries as keys (one cu_seqlens storage for both) a slot
 * keeps only the 64-row super-blocks' visible keys.
 */
export interface ScoreLayout {
  /** Floats per (head, sequence) slot. */
  slot: number;
  /** Keys per row of a dense slot, 0 for the causal triangle. */
  cols: number;
  headBytes: number;
}

export function storedScoreLayout(a: Pick<AttentionArgs, 'nSeq' | 'maxSeqlenQ' | 'maxSeqlenK'>, triangle: boolean): ScoreLayout {
  const blocks = Math.ceil(a.maxSeqlenQ / 64);
  const cols = triangle ? 0 : Math.ceil(a.maxSeqlenK / 64) * 64;
  const slot = triangle ? (64 * 64 * blocks * (blocks + 1)) / 2 : blocks * 64 * cols;
  return { slot, cols, headBytes: a.nSeq * slot * 4 };
}

/** Causal, and one boundaries storage for queries and keys: every sequence has Lq = Lk. */
export const causalSquare = (a: AttentionArgs): boolean => a.causal && a.cuSeqlensQ === a.cuSeqlensK;

/**
 * Bytes of stored dS the backward may hold at once (default 1 GiB; the adapter's binding limit
 * caps it). 0 recomputes dQ's scores always. The result is the same bits either way.
 */
export const DEFAULT_STORED_SCORES_BUDGET = 2 ** 30;
let storedScoresBudget = DEFAULT_STORED_SCORES_BUDGET;
export function setStoredScoresBudget(bytes: number): void {
  if (!(bytes >= 0)) throw new Error(`setStoredScoresBudget: bytes must be ≥ 0, got ${bytes}`);
  storedScoresBudget = bytes;
}

/**
 * Query heads per group of the stored-dS backward, or 0 where one head's dS exceeds the budget
 * (capped by `bufferCap`, the adapter's largest binding) or there is nothing to store.
 */
function headsPerGroup(a: Pick<AttentionArgs, 'hq' | 'maxSeqlenQ' | 'maxSeqlenK'>, layout: ScoreLayout, bufferCap: number): number {
  if (a.maxSeqlenQ === 0 || a.maxSeqlenK === 0) return 0;
  return Math.min(a.hq, Math.floor(Math.min(storedScoresBudget, bufferCap) / layout.headBytes));
}

/**
 * Bytes of stored dS the backward takes from the pool for these attention args (0 where it
 * recomputes instead): what memory estimates add for the backward of one attention call.
 */
export function storedScoresBytes(a: Pick<AttentionArgs, 'hq' | 'nSeq' | 'maxSeqlenQ' | 'maxSeqlenK'>, triangle: boolean, bufferCap = Infinity): number {
  const layout = storedScoreLayout(a, triangle);
  return headsPerGroup(a, layout, bufferCap) * layout.headBytes;
}

function params(a: AttentionArgs, blocks: number, dk = 0, head0 = 0, ds: ScoreLayout = { slot: 0, cols: 0, headBytes: 0 }): Params {
  const partialAt = attentionGradScratchBytes({ ...a, tk: 0 }) / 4;
  return new Params()
    .u32(a.hq, a.hkv, a.d, a.nSeq, a.tq, a.tk, blocks, a.causal ? 1 : 0)
    .f32(a.scale * Math.LOG2E, a.scale, Infinity)
    .u32(partialAt, dk, head0, ds.slot, ds.cols);
}

export function attention(ctx: GpuContext, a: AttentionArgs): void {
  const label = checkAttentionForward(a);
  if (a.nSeq === 0 || a.maxSeqlenQ === 0) return;
  const { tile, constants, defines } = specialise(ctx, label, 'fwd', a.d);
  const blocks = Math.ceil(a.maxSeqlenQ / tile.br);
  ctx.dispatch({
    label,
    shader: 'attention',
    entry: 'attn_fwd',
    constants,
    defines,
    // Binding 4 (dO in the backward) is named by the shader's shared loader; the forward never reads it.
    bindings: [[a.q, 'read'], [a.k, 'read'], [a.v, 'read'], [a.q, 'read'], [a.cuSeqlensQ, 'read'], [a.cuSeqlensK, 'read'], [a.out, 'write'], [a.lse, 'write']],
    params: params(a, blocks, tile.dk),
    workgroups: [a.hq, a.nSeq, blocks],
  });
}

export function attentionGrad(ctx: GpuContext, a: AttentionGradArgs): void {
  const label = checkAttentionGrad(a);
  if (a.nSeq === 0) return;
  ctx.dispatch({
    label: `${label}: row statistics`,
    shader: 'attention',
    entry: 'attn_bwd_prep',
    bindings: [[a.out, 'read'], [a.lse, 'read'], [a.cuSeqlensQ, 'read'], [a.gOut, 'read'], [a.scratch, 'write'], [a.cuSeqlensK, 'read']],
    params: params(a, 0),
    workgroups: ctx.grid(Math.max(a.hq * a.tq, a.nSeq), 256),
  });
  const layout = storedScoreLayout(a, causalSquare(a));
  // A device with less workgroup memory than dQ from stored dS needs recomputes dQ instead.
  const limits = ctx.device.limits;
  const group = DQ_DS_BYTES <= limits.maxComputeWorkgroupStorageSize ? headsPerGroup(a, layout, Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize)) : 0;
  if (group > 0) {
    const ds = ctx.pool.alloc(group * layout.headBytes, `${label}: stored dS`);
    for (let h0 = 0; h0 < a.hq; h0 += group) {
      const heads = Math.min(group, a.hq - h0);
      dkdvPass(ctx, label, a, { head0: h0, heads, ds, layout });
      dqStoredPass(ctx, label, a, { head0: h0, heads, ds, layout });
    }
    ctx.pool.release(ds);
  } else {
    if (a.maxSeqlenK > 0) dkdvPass(ctx, label, a);
    if (a.maxSeqlenQ > 0) dqPass(ctx, label, a);
  }
  if (a.maxSeqlenK > 0) {
    ctx.dispatch({
      label: `${label}: sum over each kv head's query heads`,
      shader: 'attention',
      entry: 'attn_bwd_reduce_kv',
      bindings: [[a.gk, 'write'], [a.gv, 'write'], [a.scratch, 'write']],
      params: params(a, 0),
      workgroups: ctx.grid((a.tk * a.hkv * a.d) / 4, 256),
    });
  }
}

/** A group of query heads run with stored dS. */
interface StoredScores {
  head0: number;
  heads: number;
  ds: Storage;
  layout: ScoreLayout;
}

/** dK, dV per query head (of the group, storing its dS, or of every head). */
function dkdvPass(ctx: GpuContext, label: string, a: AttentionGradArgs, g?: StoredScores): void {
  const { tile, constants, defines } = specialise(ctx, label, 'dkdv', a.d);
  const blocks = Math.ceil(a.maxSeqlenK / tile.br);
  ctx.dispatch({
    label: g ? `${label}: dK, dV, dS of heads ${g.head0}..${g.head0 + g.heads - 1}` : `${label}: dK, dV`,
    shader: 'attention',
    entry: 'attn_bwd_dkdv',
    constants: { ...constants, STORE_DS: g ? 1 : 0 },
    defines,
    // Without stored dS the shader never writes binding 6; gq stands in (the dQ pass writes it next).
    bindings: [[a.q, 'read'], [a.k, 'read'], [a.v, 'read'], [a.gOut, 'read'], [a.scratch, 'write'], [g ? g.ds : a.gq, 'write']],
    params: params(a, blocks, tile.dk, g?.head0, g?.layout),
    workgroups: [g ? g.heads : a.hq, a.nSeq, blocks],
  });
}

/** dQ recomputing S and dP for every head. */
function dqPass(ctx: GpuContext, label: string, a: AttentionGradArgs): void {
  const { tile, constants, defines } = specialise(ctx, label, 'dq', a.d);
  const blocks = Math.ceil(a.maxSeqlenQ / tile.br);
  ctx.dispatch({
    label: `${label}: dQ`,
    shader: 'attention',
    entry: 'attn_bwd_dq',
    constants,
    defines,
    bindings: [[a.q, 'read'], [a.k, 'read'], [a.v, 'read'], [a.gOut, 'read'], [a.scratch, 'write'], [a.gq, 'write']],
    params: params(a, blocks, tile.dk),
    workgroups: [a.hq, a.nSeq, blocks],
  });
}

/** Query rows per workgroup of attn_bwd_dq_ds (see dq_ds in the shader). */
const DQ_DS_ROWS = 64;

/** Workgroup memory of attn_bwd_dq_ds: three 8-key buffers of dS rows (+1 vec4 a key) and of K, and the sequence row. */
const DQ_DS_BYTES = 16 * (8 * 49 + 8 * 96 + 1);

/** dQ of a head group from its stored dS. */
function dqStoredPass(ctx: GpuContext, label: string, a: AttentionGradArgs, g: StoredScores): void {
  // The head dim padded to a multiple of 8, and to at least 64 so that the workgroup has a thread
  // for each dS quad of a K-tile (2·DP threads).
  const dp = Math.max(64, Math.ceil(a.d / 8) * 8);
  const blocks = Math.ceil(a.maxSeqlenQ / DQ_DS_ROWS);
  ctx.dispatch({
    label: `${label}: dQ from stored dS of heads ${g.head0}..${g.head0 + g.heads - 1}`,
    shader: 'attention',
    entry: 'attn_bwd_dq_ds',
    constants: { WG: 2 * dp, DP: dp, BR: DQ_DS_ROWS },
    bindings: [[a.q, 'read'], [a.k, 'read'], [a.v, 'read'], [a.gOut, 'read'], [a.scratch, 'write'], [a.gq, 'write'], [g.ds, 'read']],
    params: params(a, blocks, 0, g.head0, g.layout),
    workgroups: [g.heads, a.nSeq, blocks],
  });
}

export function rope(ctx: GpuContext, a: RopeArgs): void {
  const label = checkRope(a);
  const n = (a.t * a.h * a.d) / 2;
  ctx.dispatch({
    label,
    shader: 'rope',
    entry: 'rope',
    bindings: [[a.x, 'read'], [a.cos, 'read'], [a.sin, 'read'], [a.out, 'write']],
    params: new Params().u32(a.t, a.h, a.d).f32(a.inverse ? -1 : 1),
    workgroups: ctx.grid(n, 256),
  });
}
