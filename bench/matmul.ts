// matmul throughput (GFLOP/s = 2·batch·m·n·k / time): square products, and the
// products of a transformer MLP (Qwen2.5-0.5B: hidden 896, intermediate 4864, 2048
// tokens) forward and backward, with the frozen-weight (bf16) and decode (m = 1) forms.
// On WebGPU, `--variants all` times every kernel variant that could serve a shape and
// names the fastest per shape; with `--tuning FILE` the winners become a table planMatmul reads:
// FILE.json for useMatmulTuning / MEDE2_MATMUL_TUNING, or src/backend/webgpu/kernels/matmul-tuning.ts
// (the built-in table).
import type { Backend } from '../src/backend/backend.js';
import type { MatmulArgs, WeightDType } from '../src/backend/kernels.js';
import type { Storage } from '../src/backend/storage.js';
import type { WebGpuBackend } from '../src/backend/webgpu/backend.js';
import {
  matmulWithPlan,
  outputTiles,
  planMatmul,
  tuningFor,
  skinnyVecFits,
  TILED_VARIANTS,
  type MatmulPlan,
  type MatmulTuning,
  type TiledVariant,
  type TunedShape,
} from '../src/backend/webgpu/kernels/matmul.js';
import { f16BitsToF32 } from '../src/tensor/dtype.js';
import { platform } from '../src/platform/platform.js';
import type { Row, SuiteOutput } from './suite.js';
import { DEFAULT_TIMING, timeRuns, timerKind, type TimingOptions } from './timing.js';

export interface MatmulShape {
  name: string;
  m: number;
  n: number;
  k: number;
  batch?: number;
  transA?: boolean;
  transB?: boolean;
  bDtype?: WeightDType;
}

const square = (s: number): MatmulShape => ({ name: `square ${s}`, m: s, n: s, k: s });

/** tokens × hidden × intermediate MLP products: y = x·Wᵀ forward, then both gradients of W_up. */
function mlp(tokens: number, hidden: number, inter: number, tag: string): MatmulShape[] {
  return [
    { name: `${tag} up x·Wᵀ`, m: tokens, n: inter, k: hidden, transB: true },
    { name: `${tag} up x·Wᵀ bf16 W`, m: tokens, n: inter, k: hidden, transB: true, bDtype: 'bf16' },
    { name: `${tag} down x·Wᵀ`, m: tokens, n: hidden, k: inter, transB: true },
    { name: `${tag} up dX = dY·W`, m: tokens, n: hidden, k: inter },
    { name: `${tag} down dX = dY·W`, m: tokens, n: inter, k: hidden },
    { name: `${tag} up dW = dYᵀ·X`, m: inter, n: hidden, k: tokens, transA: true },
    { name: `${tag} down dW = dYᵀ·X`, m: hidden, n: inter, k: tokens, transA: true },
  ];
}

/** The attention projections of one layer (q and o: hidden × hidden; k and v: kvDim × hidden). */
function projections(tokens: number, hidden: number, kvDim: number, tag: string): MatmulShape[] {
  return [
    { name: `${tag} q/o x·Wᵀ`, m: tokens, n: hidden, k: hidden, transB: true },
    { name: `${tag} q/o dX = dY·W`, m: tokens, n: hidden, k: hidden },
    { name: `${tag} q/o dW = dYᵀ·X`, m: hidden, n: hidden, k: tokens, transA: true },
    { name: `${tag} k/v x·Wᵀ`, m: tokens, n: kvDim, k: hidden, transB: true },
    { name: `${tag} k/v dX = dY·W`, m: tokens, n: hidden, k: kvDim },
    { name: `${tag} k/v dW = dYᵀ·X`, m: kvDim, n: hidden, k: tokens, transA: true },
  ];
}

/** One layer's q, k and v projections as one product ([Wq; Wk; Wv]: hidden + 2·kvDim outputs), forward and backward. */
function stackedQkv(tokens: number, hidden: number, kvDim: number, tag: string): MatmulShape[] {
  const n = hidden + 2 * kvDim;
  return [
    { name: `${tag} q/k/v x·Wᵀ`, m: tokens, n, k: hidden, transB: true },
    { name: `${tag} q/k/v dX = dY·W`, m: tokens, n: hidden, k: n },
    { name: `${tag} q/k/v dW = dYᵀ·X`, m: n, n: hidden, k: tokens, transA: true },
  ];
}

/** The MLP's gate and up projections as one product ([Wgate; Wup]: 2·intermediate outputs), forward and backward. */
function stackedGateUp(tokens: number, hidden: number, inter: number, tag: string): MatmulShape[] {
  return [
    { name: `${tag} gate/up x·Wᵀ`, m: tokens, n: 2 * inter, k: hidden, transB: true },
    { name: `${tag} gate/up dX = dY·W`, m: tokens, n: hidden, k: 2 * inter },
    { name: `${tag} gate/up dW = dYᵀ·X`, m: 2 * inter, n: hidden, k: tokens, transA: true },
  ];
}

/** The tied LM head on a chunk of `rows` tokens: logits, dh and the embedding's dW. */
function lmHead(rows: number, hidden: number, vocab: number): MatmulShape[] {
  return [
    { name: `LM head logits, ${rows} rows`, m: rows, n: vocab, k: hidden, transB: true },
    { name: `LM head dh, ${rows} rows`, m: rows, n: hidden, k: vocab },
    { name: `LM head dW, ${rows} rows`, m: vocab, n: hidden, k: rows, transA: true },
  ];
}

export const GPU_SHAPES: MatmulShape[] = [
  ...[256, 512, 1024, 2048, 4096].map(square),
  ...mlp(2048, 896, 4864, '0.5B'),
  { name: '3B up x·Wᵀ', m: 2048, n: 11008, k: 2048, transB: true },
  ...projections(2048, 896, 128, '0.5B'),
  ...stackedQkv(2048, 896, 128, '0.5B'),
  ...stackedGateUp(2048, 896, 4864, '0.5B'),
  ...lmHead(1024, 896, 151936),
  { name: 'attn scores 14×QKᵀ', m: 1024, n: 1024, k: 64, batch: 14, transB: true },
  { name: 'decode up x·Wᵀ', m: 1, n: 4864, k: 896, transB: true },
  { name: 'decode up bf16 W', m: 1, n: 4864, k: 896, transB: true, bDtype: 'bf16' },
  { name: 'decode down x·Wᵀ', m: 1, n: 896, k: 4864, transB: true },
  { name: 'decode 4 rows dY·W', m: 4, n: 896, k: 4864 },
  { name: 'decode lm_head f32', m: 1, n: 151936, k: 896, transB: true },
  { name: 'decode lm_head bf16', m: 1, n: 151936, k: 896, transB: true, bDtype: 'bf16' },
];

export const WASM_SHAPES: MatmulShape[] = [
  ...[256, 512, 1024].map(square),
  ...mlp(128, 896, 4864, '128 tok'),
  { name: 'decode up x·Wᵀ', m: 1, n: 4864, k: 896, transB: true },
  { name: 'decode up bf16 W', m: 1, n: 4864, k: 896, transB: true, bDtype: 'bf16' },
];

const flopOf = (s: MatmulShape): number => 2 * (s.batch ?? 1) * s.m * s.n * s.k;
const bytesOf = (s: MatmulShape): number => 4 * (s.batch ?? 1) * (s.m * s.k + s.k * s.n + s.m * s.n);
const smallEnough = (s: MatmulShape): boolean => flopOf(s) <= 3e8 && bytesOf(s) <= 64 * 2 ** 20;

/** Readable plan names: "128x128k8t256+vec" (vector loads where aligned), "skinny8". */
export const planName = (p: MatmulPlan): string =>
  p.kind === 'tiled'
    ? `${p.variant}${p.vec ? '+vec' : ''}${(p.splits ?? 1) > 1 ? `/k${p.splits}${p.whole ? ` after ${p.whole}` : ''}` : ''}`
    : `skinny${p.nc}${p.vec ? '+vec' : ''}`;

/**
 * Workgroups a GPU may run at once, guessed as SMs × workgroups per SM (WebGPU does not say):
 * SM counts of common large GPUs (A100 108, 128, H100 132), 1 to 4 workgroups each.
 */
const WAVE_SLOTS = [108, 128, 132].flatMap((sms) => [1, 2, 3, 4].map((w) => sms * w));

/** The variants split plans are timed with: the two tile sizes, staged and in the ring. */
const SPLIT_VARIANTS = ['128x128k8t256', '128x128k8t256r', '64x128k8t256', '64x128k8t256r'] as const;

/**
 * Plans splitting every tile of one matrix over k: 2, 4, 8 and 16 slices, and for the big tiles
 * also the counts that fill c = 1 … 4 waves of each guess S of the workgroups that run at once
 * (⌊c·S / tiles⌋, 2 to 32), slices at least 32 deep.
 */
function splitPlans(a: MatmulArgs): MatmulPlan[] {
  const plans = new Map<string, MatmulPlan>();
  const add = (variant: TiledVariant, splits: number) => {
    if (splits < 2 || splits > 32 || a.k / splits < 32) return;
    const plan: MatmulPlan = { kind: 'tiled', variant, vec: true, splits };
    plans.set(planName(plan), plan);
  };
  for (const variant of SPLIT_VARIANTS) for (const splits of [2, 4, 8, 16]) add(variant, splits);
  const { tiles } = outputTiles(a, '128x128k8t256');
  for (const variant of ['128x128k8t256', '128x128k8t256r'] as const)
    for (const slots of WAVE_SLOTS) for (let waves = 1; waves <= 4; waves++) add(variant, Math.floor((waves * slots) / tiles));
  return [...plans.values()];
}

/**
 * Split-tail plans for one matrix: for each guess S of the workgroups that run at once, the tiles
 * of the last, partial wave (tiles mod S) are split over k into as many slices as that wave has
 * room for (2 to 16, slices at least 64 deep), the earlier ones run whole.
 */
function splitTailPlans(a: MatmulArgs): MatmulPlan[] {
  const plans = new Map<string, MatmulPlan>();
  for (const variant of SPLIT_VARIANTS) {
    const { tiles } = outputTiles(a, variant);
    for (const slots of WAVE_SLOTS) {
      const tail = tiles % slots;
      if (tiles <= slots || tail === 0) continue;
      const splits = Math.min(16, Math.floor(slots / tail), Math.floor(a.k / 64));
      if (splits < 2) continue;
      const plan: MatmulPlan = { kind: 'tiled', variant, vec: true, splits, whole: tiles - tail };
      plans.set(planName(plan), plan);
    }
  }
  return [...plans.values()];
}

/**
 * Plans to time for a shape on WebGPU, the one planMatmul picks first. With `all`: every
 * tiled variant with vector loads, and the 128×128 ones without (to measure what vector
 * loads give); few-row products add the split-k kernel's column counts; one matrix with
 * k ≥ 128 and fewer than 1024 output tiles of 128² (a few waves over the SMs at most) adds
 * plans split over k (splitPlans), and any one matrix the split-tail plans (splitTailPlans).
 */
function candidatePlans(a: MatmulArgs, chosen: MatmulPlan, variants: VariantChoice): MatmulPlan[] {
  if (variants === 'chosen') return [chosen];
  const tiled: MatmulPlan[] = (Object.keys(TILED_VARIANTS) as TiledVariant[]).map((variant) => ({ kind: 'tiled', variant, vec: true }));
  tiled.push({ kind: 'tiled', variant: '128x128k16t256', vec: false }, { kind: 'tiled', variant: '128x128k8t256', vec: false });
  const all: MatmulPlan[] =
    a.m <= 64
      ? [
          ...([4, 8, 32] as const).map((nc): MatmulPlan => ({ kind: 'skinny', nc })),
          ...(skinnyVecFits(a) ? ([4, 8, 16, 32] as const).map((nc): MatmulPlan => ({ kind: 'skinny', nc, vec: true })) : []),
          { kind: 'tiled', variant: '64x64k8t64', vec: true },
        ]
      : tiled;
  if (a.m > 64 && a.batch === 1 && a.k >= 128 && outputTiles(a, '128x128k8t256').tiles < 1024) all.push(...splitPlans(a));
  if (a.m > 64 && a.batch === 1) all.push(...splitTailPlans(a));
  return [chosen, ...all.filter((p) => planName(p) !== planName(chosen))];
}

/** Uniform values in [-1, 1) from a fixed LCG (content does not matter, only that it is not all zeros). */
function filler(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

interface Operands {
  args: MatmulArgs;
  /** Host copies of A and of B's values as the kernel sees them (packed ones decoded). */
  aHost: Float32Array;
  bHost: Float32Array;
  free: () => void;
}

function operands(backend: Backend, s: MatmulShape): Operands {
  const batch = s.batch ?? 1;
  const bDtype = s.bDtype ?? 'f32';
  const aHost = filler(batch * s.m * s.k, 1);
  const a = backend.alloc(aHost.byteLength, 'bench a');
  backend.write(a, aHost);
  let bHost = filler(batch * s.k * s.n + 1, 2);
  const b = backend.alloc(bDtype === 'f32' ? bHost.byteLength : Math.ceil(bHost.length / 2) * 4, 'bench b');
  if (bDtype === 'f32') backend.write(b, bHost);
  else {
    // Packed weights: the high half of each f32 is its (truncated) bf16, and a finite f16 too.
    const words = new Uint32Array(bHost.buffer);
    const halves = new Uint16Array(words.length);
    for (let i = 0; i < words.length; i++) halves[i] = words[i] >>> 16;
    backend.write(b, halves);
    // Loops, not TypedArray.from (which lists its source first: too long for lm_head's B).
    bHost = new Float32Array(halves.length);
    if (bDtype === 'bf16') new Uint32Array(bHost.buffer).forEach((_, i, bits) => (bits[i] = halves[i] << 16));
    else bHost.forEach((_, i, vals) => (vals[i] = f16BitsToF32(halves[i])));
  }
  const out = backend.alloc(batch * s.m * s.n * 4, 'bench out');
  const storages: Storage[] = [a, b, out];
  const args: MatmulArgs = {
    a,
    b,
    out,
    batch,
    m: s.m,
    n: s.n,
    k: s.k,
    transA: s.transA ?? false,
    transB: s.transB ?? false,
    strideA: s.m * s.k,
    strideB: s.k * s.n,
    strideOut: s.m * s.n,
    bDtype,
  };
  return { args, aHost, bHost, free: () => storages.forEach((x) => backend.free(x)) };
}

/**
 * Checks 256 sampled outputs (corners included) against float64 dot products: a fast
 * kernel that is wrong on this adapter must not go unnoticed. Returns max |error| over
 * the samples divided by the largest sampled |reference|.
 */
async function sampledError(backend: Backend, o: Operands): Promise<number> {
  const { args: x, aHost, bHost } = o;
  const got = new Float32Array(await backend.read(x.out, 0, x.batch * x.m * x.n * 4));
  let seed = 12345;
  let maxDiff = 0;
  let maxRef = 1e-30;
  for (let t = 0; t < 256; t++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const z = t === 0 ? 0 : t === 1 ? x.batch - 1 : seed % x.batch;
    const i = t === 0 ? 0 : t === 1 ? x.m - 1 : (seed >>> 8) % x.m;
    const j = t === 0 ? 0 : t === 1 ? x.n - 1 : Math.floor((seed / 7) % x.n);
    let ref = 0;
    for (let kk = 0; kk < x.k; kk++) {
      const av = aHost[z * x.strideA + (x.transA ? kk * x.m + i : i * x.k + kk)];
      const bv = bHost[z * x.strideB + (x.transB ? j * x.k + kk : kk * x.n + j)];
      ref += av * bv;
    }
    const diff = Math.abs(got[z * x.strideOut + i * x.n + j] - ref);
    maxDiff = Number.isNaN(diff) ? Infinity : Math.max(maxDiff, diff);
    maxRef = Math.max(maxRef, Math.abs(ref));
  }
  return maxDiff / maxRef;
}

/** Above this sampled error a plan is reported as wrong and never wins (f32 sums over k ≤ 4864 stay near 1e-6). */
const MAX_ERROR = 1e-4;

/** One timed plan: GFLOP/s, or why it could not run; `wrong` when its sampled error exceeds MAX_ERROR. */
interface PlanResult {
  plan: MatmulPlan;
  gflops?: number;
  ms?: number;
  wallMs?: number;
  error?: string;
  sampledErr?: number;
  wrong?: boolean;
}

/** Times every candidate plan of one shape on WebGPU. */
async function timePlans(gpu: WebGpuBackend, o: Operands, flop: number, plans: MatmulPlan[], timing: TimingOptions, label: string): Promise<PlanResult[]> {
  const results: PlanResult[] = [];
  for (const plan of plans) {
    try {
      const t = await timeRuns(gpu, () => matmulWithPlan(gpu.ctx, o.args, plan), timing);
      const sampledErr = await sampledError(gpu, o);
      results.push({ plan, gflops: flop / t.seconds / 1e9, ms: t.seconds * 1e3, wallMs: t.wallSeconds * 1e3, sampledErr, wrong: !(sampledErr <= MAX_ERROR) });
    } catch (e) {
      // One variant failing on an adapter (a limit, a driver bug) must not lose the rest.
      results.push({ plan, error: (e as Error).message.slice(0, 300) });
      console.warn(`matmul bench: ${label} with ${planName(plan)}: ${(e as Error).message}`);
      await gpu.sync().catch(() => undefined);
    }
  }
  return results;
}

/** Row fields for the plans of one shape: the chosen plan's time, every other plan's GFLOP/s, and the fastest correct one. */
function planFields(results: PlanResult[]): Row {
  const [chosen] = results;
  const row: Row = { plan: planName(chosen.plan), ms: chosen.ms ?? null, gflops: chosen.gflops ?? null, wallMs: chosen.wallMs ?? null };
  for (const r of results.slice(1)) row[`${planName(r.plan)} gflops`] = r.gflops ?? null;
  for (const r of results) if (r.error) row[`${planName(r.plan)} error`] = r.error;
  const right = results.filter((r) => r.gflops !== undefined && !r.wrong);
  const best = right.reduce<PlanResult | undefined>((b, r) => (!b || r.gflops! > b.gflops! ? r : b), undefined);
  const bestTiled = right.filter((r) => r.plan.kind === 'tiled').reduce<PlanResult | undefined>((b, r) => (!b || r.gflops! > b.gflops! ? r : b), undefined);
  row.best = best ? planName(best.plan) : null;
  row.bestGflops = best?.gflops ?? null;
  row.bestTiled = bestTiled ? planName(bestTiled.plan) : null;
  row.bestTiledGflops = bestTiled?.gflops ?? null;
  row.sampledErr = Math.max(0, ...results.map((r) => r.sampledErr ?? 0));
  const wrong = results.filter((r) => r.wrong).map((r) => planName(r.plan));
  if (wrong.length) row.wrong = wrong.join(', ');
  return row;
}

export interface MatmulSuiteOptions {
  /** Time only the plan planMatmul picks, or every variant that could serve the shape. */
  variants: VariantChoice;
  /** With `variants: 'all'` on WebGPU: write the per-shape winners here, as JSON for useMatmulTuning (a .json path) or as matmul-tuning.ts. */
  tuning?: string;
  /** Only the shapes whose name contains one of these (e.g. to tune the products of one model). */
  shapes?: string[];
}

export type VariantChoice = 'chosen' | 'all';

/** Timing every variant (~300 plans over the shapes) uses shorter batches, to fit one short GPU session. */
const ALL_VARIANTS_TIMING: TimingOptions = { ...DEFAULT_TIMING, minBatchSeconds: 0.03, repeats: 3 };

export async function matmulSuite(backend: Backend, opts: MatmulSuiteOptions = { variants: 'chosen' }): Promise<SuiteOutput> {
  const gpu = backend.info.kind === 'webgpu' ? (backend as WebGpuBackend) : null;
  // A software adapter (lavapipe) gets only the small products: enough to check the suite runs.
  const all = !gpu ? WASM_SHAPES : backend.info.software ? GPU_SHAPES.filter(smallEnough) : GPU_SHAPES;
  const shapes = opts.shapes ? all.filter((s) => opts.shapes!.some((part) => s.name.includes(part))) : all;
  if (!shapes.length) throw new Error(`matmul bench: --shapes ${opts.shapes!.join(',')} names none of this backend's shapes (${all.map((s) => s.name).join('; ')})`);
  const timing = gpu && opts.variants === 'all' ? ALL_VARIANTS_TIMING : gpu ? DEFAULT_TIMING : { ...DEFAULT_TIMING, warmup: 1, repeats: 3, minBatchSeconds: 0.2 };
  const rows: Row[] = [];
  const tuned: TunedShape[] = [];
  for (const s of shapes) {
    const o = operands(backend, s);
    const { args } = o;
    const flop = flopOf(s);
    const row: Row = {
      shape: s.name,
      batch: args.batch,
      m: s.m,
      n: s.n,
      k: s.k,
      transA: args.transA,
      transB: args.transB,
      bDtype: args.bDtype,
    };
    if (gpu) {
      const chosen = planMatmul(args, gpu.ctx.device.limits, tuningFor(gpu.ctx.adapter));
      const results = await timePlans(gpu, o, flop, candidatePlans(args, chosen, opts.variants), timing, s.name);
      Object.assign(row, planFields(results));
      const winner = results.find((r) => planName(r.plan) === row.bestTiled);
      if (chosen.kind === 'tiled' && winner?.plan.kind === 'tiled') {
        const { variant, vec, splits = 1, whole = 0 } = winner.plan;
        const layout = { batch: args.batch, transA: args.transA, transB: args.transB, bDtype: args.bDtype };
        const split = splits > 1 ? { splits, ...(whole ? { whole } : {}) } : {};
        tuned.push({ m: s.m, n: s.n, k: s.k, ...layout, variant, vec, ...split, gflops: Math.round(winner.gflops!) });
      }
    } else {
      const t = await timeRuns(backend, () => backend.matmul(args), timing);
      const sampledErr = await sampledError(backend, o);
      Object.assign(row, { ms: t.seconds * 1e3, gflops: flop / t.seconds / 1e9, sampledErr });
      if (!(sampledErr <= MAX_ERROR)) row.wrong = 'wasm';
    }
    if (row.wrong) console.warn(`matmul bench: ${s.name} gives wrong results on ${backend.info.description} with ${row.wrong} (sampled error ${row.sampledErr})`);
    o.free();
    rows.push(row);
    console.log(`  ${JSON.stringify(row)}`); // progress, and what survives a crash later in the suite
  }
  if (gpu && opts.tuning && opts.variants === 'all') {
    const table: MatmulTuning = { adapter: backend.info.description, date: new Date().toISOString(), source: 'node dist/node/bench.js matmul --variants all', shapes: tuned };
    // JSON for useMatmulTuning (any adapter, loaded at run time); otherwise the built-in table's source.
    await platform().writeFileAtomic!(opts.tuning, new TextEncoder().encode(opts.tuning.endsWith('.json') ? `${JSON.stringify(table, null, 1)}\n` : renderTuning(table)));
    console.log(`matmul bench: per-shape winners → ${opts.tuning}`);
  }
  return { timing: `${timerKind(backend)}; median of ${timing.repeats} batches, each ≥ ${timing.minBatchSeconds} s of back-to-back runs, after warm-up`, rows };
}

/** The source text of src/backend/webgpu/kernels/matmul-tuning.ts for a table. */
export function renderTuning(t: MatmulTuning): string {
  const str = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const entry = (s: TunedShape) =>
    `    { m: ${s.m}, n: ${s.n}, k: ${s.k}, batch: ${s.batch}, transA: ${s.transA}, transB: ${s.transB}, bDtype: ${str(s.bDtype)}, variant: ${str(s.variant)}, vec: ${s.vec}, ${s.splits ? `splits: ${s.splits}, ` : ''}${s.whole ? `whole: ${s.whole}, ` : ''}gflops: ${s.gflops} },`;
  return [
    '// Which variant of the tiled matmul kernel runs which shape: per measured shape, the',
    '// fastest correct one (planMatmul takes the nearest measured shape). Written by the',
    '// matmul benchmark: `node dist/node/bench.js matmul --device webgpu --variants all --tuning',
    '// src/backend/webgpu/kernels/matmul-tuning.ts` on the GPU to tune for.',
    "import type { MatmulTuning } from './matmul.js';",
    '',
    'export const MATMUL_TUNING: MatmulTuning = {',
    `  adapter: ${str(t.adapter)},`,
    `  date: ${str(t.date)},`,
    `  source: ${str(t.source)},`,
    '  shapes: [',
    ...t.shapes.map(entry),
    '  ],',
    '};',
    '',
  ].join('\n');
}
