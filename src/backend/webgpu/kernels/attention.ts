// Attention and rotary embeddings on WebGPU (shaders/attention.wgsl, shaders/rope.wgsl).
// The forward is one dispatch; the backward is four (row statistics, dK/dV per query head,
// dQ, the sum of dK/dV over each kv head's query heads), all recorded into the same pass.
import { attentionGradScratchBytes, type AttentionArgs, type AttentionGradArgs, type RopeArgs } from '../../kernels.js';
import { checkAttentionForward, checkAttentionGrad, checkRope } from '../../args/attention.js';
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
const MAX_IT = 2;
const MAX_N = 8;

// d ≤ 64 and d ≤ 128 tiles: the fastest of bench/attention.ts's alternatives on an H100
// (bench/results/attention-h100.json).
const t = (wg: number, tc: number, br = 64, bc = 64, dk = 16): AttentionTile => ({ wg, tc, br, bc, dk });
// Tiles with dk 32 fall back to dk 16 on adapters with less workgroup memory than they need
// (32 KiB: lavapipe, most browsers).
const TILES: Record<AttentionPass, Record<HeadDimClass, AttentionTile>> = {
  fwd: { 32: t(128, 8), 64: t(256, 16, 64, 64, 32), 96: t(128, 8), 128: t(256, 16, 64, 64, 32) },
  dq: { 32: t(128, 8), 64: t(128, 16, 32, 64), 96: t(128, 8), 128: t(256, 16, 64, 64, 32) },
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

/** The tile a pass uses for head dim d now. */
export function attentionTile(pass: AttentionPass, d: number): AttentionTile {
  return { ...TILES[pass][headDimClass(d)] };
}

/** The head-dim class whose tile serves head dim d. */
export function headDimClass(d: number): HeadDimClass {
  return D_CLASSES.find((c) => d <= c) ?? 128;
}

/** Head dim padded to a multiple of 4·tc (the shader's DP). */
const paddedHeadDim = (d: number, tc: number): number => Math.ceil(d / (4 * tc)) * 4 * tc;

/** Score products staged at once: the backward stages S and dP together (the shader's PAIRS). */
const scorePairs = (pass: AttentionPass): number => (pass === 'fwd' ? 1 : 2);

/** Replaces the tile a pass uses for a head-dim class (the benchmark compares alternatives). */
export function setAttentionTile(pass: AttentionPass, dClass: HeadDimClass, tile: AttentionTile): void {
  TILES[pass][dClass] = { ...tile };
}

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

/** The tile for (pass, d) with its pipeline constants, checked against the shader's register bounds and the device. */
function specialise(ctx: GpuContext, label: string, pass: AttentionPass, d: number): Specialised {
  const limits = ctx.device.limits;
  let tile = TILES[pass][headDimClass(d)];
  if (tile.dk === 32 && attentionTileBytes(pass, tile, d) > limits.maxComputeWorkgroupStorageSize) tile = { ...tile, dk: 16 };
  const { wg, tc, br, bc, dk } = tile;
  const dp = paddedHeadDim(d, tc);
  const tr = wg / tc;
  const rm = br / tr;
  const cs = bc / (4 * tc);
  const co = dp / (4 * tc);
  const bad = (why: string) => new Error(`${label}: ${pass} tile ${JSON.stringify(tile)} is invalid for d ${d}: ${why}`);
  if (!Number.isInteger(tr) || tc % 4 !== 0) throw bad('wg must be a multiple of tc, tc of 4');
  if (rm !== 4 && rm !== 8) throw bad('rows per thread br·tc/wg must be 4 or 8');
  if (!Number.isInteger(cs) || cs < 1 || rm * cs > MAX_S) throw bad(`bc must be a multiple of 4·tc with rows·(bc/4tc) ≤ ${MAX_S}`);
  if (rm * co > MAX_O) throw bad(`rows·(padded d/4tc) must be ≤ ${MAX_O}`);
  if ((dk !== 16 && dk !== 32) || bc % dk !== 0) throw bad('dk must be 16 or 32 and divide bc');
  // Staging items per thread the shader holds in registers (MAX_IT, MAX_N there).
  if ((Math.max(br, bc) / 4) * (dk / 4) > MAX_IT * wg) throw bad(`a transposed staging step needs more than ${MAX_IT} items per thread`);
  if ((dk * dp) / 4 > MAX_N * wg) throw bad(`a natural staging step needs more than ${MAX_N} items per thread`);
  const shared = attentionTileBytes(pass, tile, d);
  if (shared > limits.maxComputeWorkgroupStorageSize) throw bad(`needs ${shared} bytes of workgroup memory, the device has ${limits.maxComputeWorkgroupStorageSize}`);
  if (wg > limits.maxComputeInvocationsPerWorkgroup) throw bad(`the device allows ${limits.maxComputeInvocationsPerWorkgroup} threads per workgroup`);
  return { tile, constants: { WG: wg, TC: tc, BR: br, BC: bc, DP: dp, PAIRS: scorePairs(pass), UNROLL: unrolled(ctx) ? 1 : 0 }, defines: { DK: dk } };
}

function params(a: AttentionArgs, blocks: number, dk = 0): Params {
  const partialAt = attentionGradScratchBytes({ ...a, tk: 0 }) / 4;
  return new Params()
    .u32(a.hq, a.hkv, a.d, a.nSeq, a.tq, a.tk, blocks, a.causal ? 1 : 0)
    .f32(a.scale * Math.LOG2E, a.scale, Infinity)
    .u32(partialAt, dk);
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
    workgroups: [a.nSeq * blocks, a.hq],
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
  if (a.maxSeqlenK > 0) {
    const { tile, constants, defines } = specialise(ctx, label, 'dkdv', a.d);
    const blocks = Math.ceil(a.maxSeqlenK / tile.br);
    ctx.dispatch({
      label: `${label}: dK, dV`,
      shader: 'attention',
      entry: 'attn_bwd_dkdv',
      constants,
      defines,
      bindings: [[a.q, 'read'], [a.k, 'read'], [a.v, 'read'], [a.gOut, 'read'], [a.scratch, 'write']],
      params: params(a, blocks, tile.dk),
      workgroups: [a.nSeq * blocks, a.hq],
    });
  }
  if (a.maxSeqlenQ > 0) {
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
      workgroups: [a.nSeq * blocks, a.hq],
    });
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
