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

const SOFTWARE_MAX_FLOP = 3e8;
const flopOf = (s: MatmulShape): number => 2 * (s.batch ?? 1) * s.m * s.n * s.k;

/** Plans worth comparing for a shape on WebGPU (the one planMatmul picks comes first). */
function candidatePlans(a: MatmulArgs): MatmulPlan[] {
  const all: MatmulPlan[] =
    a.m <= 64
      ? [
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

function operands(backend: Backend, s: MatmulShape): { args: MatmulArgs; free: () => void } {
  const batch = s.batch ?? 1;
  const bDtype = s.bDtype ?? 'f32';
  const a = backend.alloc(batch * s.m * s.k * 4, 'bench a');
  backend.write(a, filler(batch * s.m * s.k, 1));
  const bVals = filler(batch * s.k * s.n + 1, 2);
  const b = backend.alloc(bDtype === 'f32' ? bVals.byteLength : Math.ceil(bVals.length / 2) * 4, 'bench b');
  // Packed weights: the high half of each f32 is its (truncated) bf16, and a finite f16 too.
  backend.write(b, bDtype === 'f32' ? bVals : Uint16Array.from(new Uint32Array(bVals.buffer), (v) => v >>> 16));
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
  return { args, free: () => storages.forEach((x) => backend.free(x)) };
}

export async function matmulSuite(backend: Backend): Promise<SuiteOutput> {
  const gpu = backend.info.kind === 'webgpu' ? (backend as WebGpuBackend) : null;
  // A software adapter (lavapipe) gets only the small products: enough to check the suite runs.
  const shapes = !gpu ? WASM_SHAPES : backend.info.software ? GPU_SHAPES.filter((s) => flopOf(s) <= SOFTWARE_MAX_FLOP) : GPU_SHAPES;
  const rows: Row[] = [];
  for (const s of shapes) {
    const { args, free } = operands(backend, s);
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
      const plans = candidatePlans(args);
      for (const [i, plan] of plans.entries()) {
        const t = await timeRuns(backend, () => matmulWithPlan(gpu.ctx, args, plan));
        if (i === 0) Object.assign(row, { plan: planName(plan), ms: t.seconds * 1e3, gflops: flop / t.seconds / 1e9, wallMs: t.wallSeconds * 1e3 });
        else row[`${planName(plan)} gflops`] = flop / t.seconds / 1e9;
      }
    } else {
      const t = await timeRuns(backend, () => backend.matmul(args), { ...DEFAULT_TIMING, warmup: 1, repeats: 3, minBatchSeconds: 0.2 });
      Object.assign(row, { ms: t.seconds * 1e3, gflops: flop / t.seconds / 1e9 });
    }
    free();
    rows.push(row);
  }
  return { timing: `${timerKind(backend)}; median of ${gpu ? DEFAULT_TIMING.repeats : 3} batches, each ≥ ${gpu ? DEFAULT_TIMING.minBatchSeconds : 0.2} s of back-to-back runs, after warm-up`, rows };
}
