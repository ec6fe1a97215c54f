// Optimizer kernel family on wasm (assembly/kernels/optim.ts): a group is run one tensor at a time.
import { sumSquaresChunk, type AdamWArgs, type ClipScaleArgs, type SumSquaresArgs } from '../../kernels.js';
import { checkAdamW, checkClipScale, checkSumSquares } from '../../args/optim.js';
import type { WasmContext } from '../context.js';

interface OptimExports {
  sumSquares(x: number, n: number, out: number, slot: number, chunk: number): void;
  clipScale(sumsq: number, count: number, maxNorm: number, out: number): void;
  adamw(
    param: number, grad: number, m: number, v: number, scale: number, n: number,
    decay: number, w1: number, beta2: number, w2: number, stepSize: number, bc2Sqrt: number, eps: number,
  ): void;
}

export function sumSquares(ctx: WasmContext, a: SumSquaresArgs): void {
  const l = checkSumSquares(a);
  for (const e of a.xs) ctx.k<OptimExports>().sumSquares(ctx.ptr(e.x, l), e.n, ctx.ptr(a.out, l), e.slot, sumSquaresChunk(e.n));
}

export function clipScale(ctx: WasmContext, a: ClipScaleArgs): void {
  const l = checkClipScale(a);
  ctx.k<OptimExports>().clipScale(ctx.ptr(a.sumsq, l), a.count, a.maxNorm, ctx.ptr(a.out, l));
}

export function adamw(ctx: WasmContext, a: AdamWArgs): void {
  const { label: l, scalars: s } = checkAdamW(a);
  for (const t of a.tensors)
    ctx
      .k<OptimExports>()
      .adamw(ctx.ptr(t.param, l), ctx.ptr(t.grad, l), ctx.ptr(a.m, l) + 4 * t.at, ctx.ptr(a.v, l) + 4 * t.at, ctx.ptr(a.scale, l), t.n, s.decay, s.w1, s.beta2, s.w2, s.stepSize, s.bc2Sqrt, s.eps);
}
