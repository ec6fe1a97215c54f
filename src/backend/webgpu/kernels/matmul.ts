// Matrix product on WebGPU (shaders/matmul.wgsl): a register-blocked tiled kernel, and a
// split-k kernel for the few-row products of decoding, where tiles would idle.
import type { MatmulArgs, WeightDType } from '../../kernels.js';
import { checkMatmul } from '../../args/matmul.js';
import type { GpuContext } from '../context.js';
import { Params } from '../params.js';

/**
 * How one product runs. `tiled` with t threads a side computes 8t×8t outputs per
 * workgroup (t = 16: 128×128 tiles; t = 8: 64×64 for outputs too small to fill the GPU
 * with the large tiles); `skinny` computes 4 rows × nc columns per workgroup.
 */
export type MatmulPlan = { kind: 'tiled'; t: 8 | 16 } | { kind: 'skinny'; nc: 8 | 32 };

/** Rows up to which the split-k kernel beats tiles (it re-reads B once per 4 rows). */
const SKINNY_MAX_M = 16;
/** Large-tile workgroups needed to keep every SM of a big GPU busy (H100: 132 SMs, 2 tiles each). */
const LARGE_TILES_MIN = 256;

const B_DTYPE: Record<WeightDType, number> = { f32: 0, bf16: 1, f16: 2 };

export function planMatmul(a: MatmulArgs): MatmulPlan {
  if (a.m <= SKINNY_MAX_M) {
    // Split-k along contiguous k needs few columns per workgroup; along n, 32 columns
    // give full 128-byte rows unless that leaves too few workgroups.
    const wide = !a.transB && Math.ceil(a.n / 32) * Math.ceil(a.m / 4) * a.batch >= 128;
    return { kind: 'skinny', nc: wide ? 32 : 8 };
  }
  const large = Math.ceil(a.m / 128) * Math.ceil(a.n / 128) * a.batch;
  return { kind: 'tiled', t: large >= LARGE_TILES_MIN ? 16 : 8 };
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
