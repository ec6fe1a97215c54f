// Row-wise kernel family on WebGPU (shaders/rows.wgsl, shaders/embedding.wgsl): one
// workgroup per row for the reductions, one thread per element for the rest.
import type {
  CrossEntropyArgs,
  CrossEntropyGradArgs,
  GatherRowsArgs,
  LayerNormArgs,
  LayerNormGradArgs,
  RmsNormArgs,
  RmsNormGradArgs,
  ScatterAddRowsArgs,
  SoftmaxArgs,
  SoftmaxGradArgs,
  WeightDType,
} from '../../kernels.js';
import {
  checkCrossEntropy,
  checkCrossEntropyGrad,
  checkGatherRows,
  checkLayerNorm,
  checkLayerNormGrad,
  checkRmsNorm,
  checkRmsNormGrad,
  checkScatterAddRows,
  checkSoftmax,
  checkSoftmaxGrad,
} from '../../args/rows.js';
import type { GpuContext } from '../context.js';
import { Params } from '../params.js';

/** Quiet NaN's bits: WGSL has no NaN literal, so cross_entropy gets it as a parameter. */
const NAN_BITS = 0x7fc00000;
const TABLE_DTYPE: Record<WeightDType, number> = { f32: 0, bf16: 1, f16: 2 };

/** One workgroup per row, folded into 2-D when rows exceed the per-dimension limit. */
const perRow = (ctx: GpuContext, rows: number) => ctx.grid(rows, 1);

export function softmax(ctx: GpuContext, a: SoftmaxArgs): void {
  ctx.dispatch({
    label: checkSoftmax(a),
    shader: 'rows',
    entry: 'softmax',
    bindings: [[a.x, 'read'], [a.out, 'write']],
    params: new Params().u32(a.rows, a.cols, a.log ? 1 : 0),
    workgroups: perRow(ctx, a.rows),
  });
}

export function softmaxGrad(ctx: GpuContext, a: SoftmaxGradArgs): void {
  ctx.dispatch({
    label: checkSoftmaxGrad(a),
    shader: 'rows',
    entry: 'softmax_grad',
    bindings: [[a.y, 'read'], [a.gy, 'read'], [a.gx, 'write']],
    params: new Params().u32(a.rows, a.cols, a.log ? 1 : 0),
    workgroups: perRow(ctx, a.rows),
  });
}

export function rmsNorm(ctx: GpuContext, a: RmsNormArgs): void {
  ctx.dispatch({
    label: checkRmsNorm(a),
    shader: 'rows',
    entry: 'rms_norm',
    bindings: [[a.x, 'read'], [a.weight, 'read'], [a.out, 'write'], [a.rstd, 'write']],
    params: new Params().u32(a.rows, a.cols).f32(a.eps),
    workgroups: perRow(ctx, a.rows),
  });
}

export function rmsNormGrad(ctx: GpuContext, a: RmsNormGradArgs): void {
  ctx.dispatch({
    label: checkRmsNormGrad(a),
    shader: 'rows',
    entry: 'rms_norm_grad',
    bindings: [[a.x, 'read'], [a.weight, 'read'], [a.rstd, 'read'], [a.gy, 'read'], [a.gx, 'write'], [a.gwRows, 'write']],
    params: new Params().u32(a.rows, a.cols),
    workgroups: perRow(ctx, a.rows),
  });
}

export function layerNorm(ctx: GpuContext, a: LayerNormArgs): void {
  ctx.dispatch({
    label: checkLayerNorm(a),
    shader: 'rows',
    entry: 'layer_norm',
    bindings: [[a.x, 'read'], [a.weight, 'read'], [a.bias, 'read'], [a.out, 'write'], [a.mean, 'write'], [a.rstd, 'write']],
    params: new Params().u32(a.rows, a.cols).f32(a.eps),
    workgroups: perRow(ctx, a.rows),
  });
}

export function layerNormGrad(ctx: GpuContext, a: LayerNormGradArgs): void {
  ctx.dispatch({
    label: checkLayerNormGrad(a),
    shader: 'rows',
    entry: 'layer_norm_grad',
    bindings: [[a.x, 'read'], [a.weight, 'read'], [a.mean, 'read'], [a.rstd, 'read'], [a.gy, 'read'], [a.gx, 'write'], [a.gwRows, 'write']],
    params: new Params().u32(a.rows, a.cols),
    workgroups: perRow(ctx, a.rows),
  });
}

export function crossEntropy(ctx: GpuContext, a: CrossEntropyArgs): void {
  ctx.dispatch({
    label: checkCrossEntropy(a),
    shader: 'rows',
    entry: 'cross_entropy',
    bindings: [[a.logits, 'read'], [a.labels, 'read'], [a.loss, 'write'], [a.lse, 'write']],
    params: new Params().u32(a.rows, a.vocab).i32(a.ignoreIndex).u32(NAN_BITS),
    workgroups: perRow(ctx, a.rows),
  });
}

export function crossEntropyGrad(ctx: GpuContext, a: CrossEntropyGradArgs): void {
  ctx.dispatch({
    label: checkCrossEntropyGrad(a),
    shader: 'rows',
    entry: 'cross_entropy_grad',
    bindings: [[a.logits, 'read'], [a.labels, 'read'], [a.lse, 'read'], [a.gLoss, 'read'], [a.gx, 'write']],
    params: new Params().u32(a.rows, a.vocab).i32(a.ignoreIndex),
    workgroups: ctx.grid(a.rows * a.vocab, 256),
  });
}

export function gatherRows(ctx: GpuContext, a: GatherRowsArgs): void {
  ctx.dispatch({
    label: checkGatherRows(a),
    shader: 'embedding',
    entry: 'gather_rows',
    constants: { TABLE_DTYPE: TABLE_DTYPE[a.tableDtype] },
    bindings: [[a.table, 'read'], [a.idx, 'read'], [a.out, 'write']],
    params: new Params().u32(a.nIdx, a.cols),
    workgroups: ctx.grid(a.nIdx * a.cols, 256),
  });
}

export function scatterAddRows(ctx: GpuContext, a: ScatterAddRowsArgs): void {
  ctx.dispatch({
    label: checkScatterAddRows(a),
    shader: 'embedding',
    entry: 'scatter_add_rows',
    bindings: [[a.g, 'read'], [a.rows, 'read'], [a.offsets, 'read'], [a.order, 'read'], [a.out, 'write']],
    params: new Params().u32(a.nUnique, a.cols),
    workgroups: perRow(ctx, a.nUnique),
  });
}
