// Matrix product on wasm (assembly/kernels/matmul.ts).
import type { MatmulArgs, WeightDType } from '../../kernels.js';
import type { Storage } from '../../storage.js';
import { checkMatmul } from '../../args/matmul.js';
import type { WasmContext } from '../context.js';

interface MatmulExports {
  matmul(
    a: number,
    b: number,
    out: number,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    strideA: number,
    strideB: number,
    strideOut: number,
    bDtype: number,
  ): void;
  finish(out: number, hasBias: boolean, bias: number, hasResidual: boolean, residual: number, batch: number, m: number, n: number, strideOut: number): void;
}

const B_DTYPE: Record<WeightDType, number> = { f32: 0, bf16: 1, f16: 2 };

export function matmul(ctx: WasmContext, a: MatmulArgs): void {
  const label = checkMatmul(a);
  if (a.batch === 0 || a.m === 0 || a.n === 0) return;
  ctx
    .k<MatmulExports>()
    .matmul(ctx.ptr(a.a, label), ctx.ptr(a.b, label), ctx.ptr(a.out, label), a.batch, a.m, a.n, a.k, a.transA, a.transB, a.strideA, a.strideB, a.strideOut, B_DTYPE[a.bDtype]);
  // The epilogue: bias, then residual, in one pass over the outputs (0 stands for an absent operand: never read).
  if (a.bias || a.residual) {
    const at = (s: Storage | undefined) => (s ? ctx.ptr(s, label) : 0);
    ctx.k<MatmulExports>().finish(ctx.ptr(a.out, label), !!a.bias, at(a.bias), !!a.residual, at(a.residual), a.batch, a.m, a.n, a.strideOut);
  }
}
