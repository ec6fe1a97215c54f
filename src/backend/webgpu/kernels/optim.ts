// Optimizer kernel family on WebGPU (shaders/optim.wgsl). sumSquares runs one workgroup per
// chunk (kernels.ts fixes the cut), clipScale one workgroup: deterministic without scratch.
// sumSquares and adamw serve a group of tensors per dispatch; slots the group leaves empty are
// bound to stand-ins the kernel never touches (a repeated read operand, or a scratch word for a
// written one: WebGPU forbids binding a written buffer twice).
import { ADAMW_GROUP, SUM_SQUARES_GROUP, sumSquaresChunk, sumSquaresParts, type AdamWArgs, type ClipScaleArgs, type SumSquaresArgs } from '../../kernels.js';
import { checkAdamW, checkClipScale, checkSumSquares } from '../../args/optim.js';
import type { Access, GpuContext } from '../context.js';
import { Params } from '../params.js';
import type { Storage } from '../../storage.js';

export function sumSquares(ctx: GpuContext, a: SumSquaresArgs): void {
  const label = checkSumSquares(a);
  const params = new Params().u32(a.xs.length).align16();
  let workgroups = 0;
  for (let j = 0; j < SUM_SQUARES_GROUP; j++) {
    const e = a.xs[j];
    params.u32(e?.n ?? 0, e?.slot ?? 0, e ? sumSquaresChunk(e.n) : 1, workgroups);
    if (e) workgroups += sumSquaresParts(e.n);
  }
  const xs: [Storage, Access][] = Array.from({ length: SUM_SQUARES_GROUP }, (_, j) => [(a.xs[j] ?? a.xs[0]).x, 'read']);
  ctx.dispatch({ label, shader: 'optim', entry: 'sum_squares', bindings: [[a.out, 'write'], ...xs], params, workgroups: [workgroups] });
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
  const params = new Params().f32(s.decay, s.w1, s.beta2, s.w2, s.stepSize, s.bc2Sqrt, s.eps).u32(a.tensors.length).align16();
  const slots: [Storage, Access][] = [];
  let workgroups = 0;
  const standIn = a.tensors.length < ADAMW_GROUP ? ctx.pool.alloc(4, `${label}: empty slot`) : null;
  for (let j = 0; j < ADAMW_GROUP; j++) {
    const t = a.tensors[j];
    params.u32(t?.n ?? 0, t?.at ?? 0, workgroups, 0);
    if (t) workgroups += Math.ceil(t.n / 256);
    slots.push([t?.param ?? standIn!, 'write'], [(t ?? a.tensors[0]).grad, 'read']);
  }
  ctx.dispatch({
    label,
    shader: 'optim',
    entry: 'adamw',
    bindings: [[a.scale, 'read'], [a.m, 'write'], [a.v, 'write'], ...slots],
    params,
    workgroups: ctx.grid(workgroups * 256, 256),
  });
  if (standIn) ctx.pool.release(standIn);
}
