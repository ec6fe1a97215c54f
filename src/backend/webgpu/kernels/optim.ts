// Optimizer kernel family on WebGPU (shaders/optim.wgsl). sumSquares runs one workgroup per
// chunk (kernels.ts fixes the cut), clipScale one workgroup: deterministic without scratch.
import { sumSquaresChunk, sumSquaresParts, type AdamWArgs, type ClipScaleArgs, type SumSquaresArgs } from '../../kernels.js';
import { checkAdamW, checkClipScale, checkSumSquares } from '../../args/optim.js';
import type { GpuContext } from '../context.js';
import { Params } from '../params.js';

export function sumSquares(ctx: GpuContext, a: SumSquaresArgs): void {
  ctx.dispatch({
    label: checkSumSquares(a),
    shader: 'optim',
    entry: 'sum_squares',
    bindings: [[a.x, 'read'], [a.out, 'write']],
    params: new Params().u32(a.n, a.slot, sumSquaresChunk(a.n)),
    workgroups: [sumSquaresParts(a.n)],
  });
}

export function clipScale(ctx: GpuContext, a: ClipScaleArgs): void {
  ctx.dispatch({
    label: checkClipScale(a),
    shader: 'optim',
    entry: 'clip_scale',
    bindings: [[a.sumsq, 'read'], [a.out, 'write']],
    params: new Params().u32(a.count).f32(a.maxNorm),
    workgroups: [1],
  });
}

export function adamw(ctx: GpuContext, a: AdamWArgs): void {
  const { label, scalars: s } = checkAdamW(a);
  ctx.dispatch({
    label,
    shader: 'optim',
    entry: 'adamw',
    bindings: [[a.param, 'write'], [a.grad, 'read'], [a.m, 'write'], [a.v, 'write'], [a.scale, 'read']],
    params: new Params().u32(a.n).f32(s.decay, s.w1, s.beta2, s.w2, s.stepSize, s.bc2Sqrt, s.eps),
    workgroups: ctx.grid(a.n, 256),
  });
}
