// matmul throughput (GFLOP/s = 2·batch·m·n·k / time): square products, and the
// products of a transformer MLP (Qwen2.5-0.5B: hidden 896, intermediate 4864, 2048
// tokens) forward and backward, with the frozen-weight (bf16) and decode (m = 1) forms.
// On WebGPU every kernel variant that could serve a shape is timed too, so the plan
// choice in src/backend/webgpu/kernels/matmul.ts can be checked against measurements.
import type { Backend } from '../src/backend/backend.js';
import type { MatmulArgs, WeightDType } from '../src/backend/kernels.js';
import type { Storage } from '../src/backend/storage.js';
import type { WebGpuBackend } from '../src/backend/webgpu/backend.js';
import { matmulWithPlan, planMatmul, type MatmulPlan } from '../src/backend/webgpu/kernels/matmul.js';
import { f16BitsToF32 } from '../src/tensor/dtype.js';
import type { Row, SuiteOutput } from './suite.js';
import { DEFAULT_TIMING, timeRuns, timerKind } from './timing.js';

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
    { name: `${tag} up dW = dYᵀ·X`, m: inter, n: hidden, k: tokens, transA: true },
  ];
}

export const GPU_SHAPES: MatmulShape[] = [
  ...[256, 512, 1024, 2048, 4096].map(square),
  ...mlp(2048, 896, 4864, '0.5B'),
  { name: '3B up x·Wᵀ', m: 2048, n: 11008, k: 2048, transB: true },
  { name: 'attn scores 14×QKᵀ', m: 1024, n: 1024, k: 64, batch: 14, transB: true },
  { name: 'decode up x·Wᵀ', m: 1, n: 4864, k: 896, transB: true },
  { name: 'decode up bf16 W', m: 1, n: 4864, k: 896, transB: true, bDtype: 'bf16' },
  { name: 'decode down x·Wᵀ', m: 1, n: 896, k: 4864, transB: true },
  { name: 'decode 4 rows dY·W', m: 4, n: 896, k: 4864 },
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

/** Plans worth comparing for a shape on WebGPU (the one planMatmul picks comes first). */
function candidatePlans(a: MatmulArgs): MatmulPlan[] {
  const all: MatmulPlan[] =
    a.m <= 64
      ? [
          { kind: 'skinny', nc: 4 },
          { kind: 'skinny', nc: 8 },
          { kind: 'skinny', nc: 32 },
          { kind: 'tiled', t: 8 },
        ]
      : [
          { kind: 'tiled', t: 16 },
          { kind: 'tiled', t: 8 },
        ];
  const chosen = planMatmul(a);
  return [chosen, ...all.filter((p) => planName(p) !== planName(chosen))];
}

const planName = (p: MatmulPlan): string => (p.kind === 'tiled' ? `tiled${8 * p.t}` : `skinny${p.nc}`);

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

/** Above this sampled error a measurement is reported as wrong (f32 sums over k ≤ 4864 stay near 1e-6). */
const MAX_ERROR = 1e-4;

export async function matmulSuite(backend: Backend): Promise<SuiteOutput> {
  const gpu = backend.info.kind === 'webgpu' ? (backend as WebGpuBackend) : null;
  // A software adapter (lavapipe) gets only the small products: enough to check the suite runs.
  const shapes = !gpu ? WASM_SHAPES : backend.info.software ? GPU_SHAPES.filter(smallEnough) : GPU_SHAPES;
  const rows: Row[] = [];
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
    let maxErr = 0;
    if (gpu) {
      const plans = candidatePlans(args);
      for (const [i, plan] of plans.entries()) {
        const name = planName(plan);
        if (i === 0) row.plan = name;
        try {
          const t = await timeRuns(backend, () => matmulWithPlan(gpu.ctx, args, plan));
          maxErr = Math.max(maxErr, await sampledError(backend, o));
          if (i === 0) Object.assign(row, { ms: t.seconds * 1e3, gflops: flop / t.seconds / 1e9, wallMs: t.wallSeconds * 1e3 });
          else row[`${name} gflops`] = flop / t.seconds / 1e9;
        } catch (e) {
          // One variant failing on an adapter (a limit, a driver bug) must not lose the rest.
          row[`${name} error`] = (e as Error).message.slice(0, 300);
          console.warn(`matmul bench: ${s.name} with ${name}: ${(e as Error).message}`);
          await backend.sync().catch(() => undefined);
        }
      }
    } else {
      const t = await timeRuns(backend, () => backend.matmul(args), { ...DEFAULT_TIMING, warmup: 1, repeats: 3, minBatchSeconds: 0.2 });
      maxErr = await sampledError(backend, o);
      Object.assign(row, { ms: t.seconds * 1e3, gflops: flop / t.seconds / 1e9 });
    }
    row.sampledErr = maxErr;
    if (!(maxErr <= MAX_ERROR)) {
      row.wrong = true;
      console.warn(`matmul bench: ${s.name} gives wrong results on ${backend.info.description} (sampled error ${maxErr})`);
    }
    o.free();
    rows.push(row);
    console.log(`  ${JSON.stringify(row)}`); // progress, and what survives a crash later in the suite
  }
  return { timing: `${timerKind(backend)}; median of ${gpu ? DEFAULT_TIMING.repeats : 3} batches, each ≥ ${gpu ? DEFAULT_TIMING.minBatchSeconds : 0.2} s of back-to-back runs, after warm-up`, rows };
}
