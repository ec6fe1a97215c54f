// Matrix product on WebGPU (shaders/matmul.wgsl): a register-blocked tiled kernel, and a
// split-k kernel for the few-row products of decoding, where tiles would idle.
import type { MatmulArgs, WeightDType } from '../../kernels.js';
import { checkMatmul } from '../../args/matmul.js';
import type { GpuContext } from '../context.js';
import { Params } from '../params.js';

/**
 * How one product runs. `tiled` with t threads a side computes 8t×8t outputs per
 * workgroup (t = 16: 128×128 tiles; t = 8: 64×64 for tiny outputs); `skinny` computes
 * 4 rows × nc columns per workgroup, splitting k over 256/nc threads per column.
 */
export type MatmulPlan = { kind: 'tiled'; t: 8 | 16 } | { kind: 'skinny'; nc: 4 | 8 | 32 };

/** Rows up to which the split-k kernel beats tiles (it re-reads B once per 4 rows). */
const SKINNY_MAX_M = 16;
/** Workgroups that keep every SM of a big GPU busy (H100: 132 SMs). */
const FULL_GPU = 256;

const B_DTYPE: Record<WeightDType, number> = { f32: 0, bf16: 1, f16: 2 };

// The thresholds below follow bench/results/matmul-h100.json (H100, Dawn on Vulkan).
export function planMatmul(a: MatmulArgs): MatmulPlan {
  const groups = (rows: number, cols: number) => Math.ceil(a.m / rows) * Math.ceil(a.n / cols) * a.batch;
  if (a.m <= SKINNY_MAX_M) {
    // Very wide outputs (an lm_head: 152k columns) run best with 32 columns per
    // workgroup; otherwise 8, or 4 when that still leaves SMs idle (n ≈ 900).
    if (groups(4, 32) >= 4 * FULL_GPU) return { kind: 'skinny', nc: 32 };
    return { kind: 'skinny', nc: groups(4, 8) >= FULL_GPU ? 8 : 4 };
  }
  // 128×128 tiles run 2–4× faster than 64×64 ones from 1024² outputs up, even when they
  // leave SMs idle (2048×896: 112 tiles); 64×64 wins by a few percent only on tiny outputs.
  return { kind: 'tiled', t: groups(128, 128) > 16 ? 16 : 8 };
}

export function matmul(ctx: GpuContext, a: MatmulArgs): void {
  matmulWithPlan(ctx, a, planMatmul(a));
}

/** Runs a product with the given plan (benchmarks compare plans; code calls `matmul`). */
export function matmulWithPlan(ctx: GpuContext, a: MatmulArgs, plan: MatmulPlan): void {
  const label = checkMatmul(a);
  if (a.batch === 0 || a.m === 0 || a.n === 0) return;
  const layout = { TRANS_A: a.transA ? 1 : 0, TRANS_B: a.transB ? 1 : 0, B_DTYPE: B_DTYPE[a.bDtype] };
  const rows = plan.kind === 'skinny' ? 4 : 8 * plan.t;
  const cols = plan.kind === 'skinny' ? plan.nc : 8 * plan.t;
  ctx.dispatch({
    label,
    shader: 'matmul',
    entry: plan.kind,
    constants: plan.kind === 'skinny' ? { ...layout, NC: plan.nc } : { ...layout, T: plan.t },
    bindings: [
      [a.a, 'read'],
      [a.b, 'read'],
      [a.out, 'write'],
    ],
    params: new Params().u32(a.m, a.n, a.k, a.strideA, a.strideB, a.strideOut),
    workgroups: [Math.ceil(a.n / cols), Math.ceil(a.m / rows), a.batch],
  });
}
