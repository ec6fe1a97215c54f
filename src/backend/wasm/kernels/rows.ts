// Row-wise kernel family on wasm (assembly/kernels/rows.ts).
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
import type { WasmContext } from '../context.js';

interface RowsExports {
  softmax(x: number, out: number, rows: number, cols: number, isLog: boolean): void;
  softmaxGrad(y: number, gy: number, gx: number, rows: number, cols: number, isLog: boolean): void;
  rmsNorm(x: number, w: number, out: number, rstd: number, rows: number, cols: number, eps: number): void;
  rmsNormGrad(x: number, w: number, rstd: number, gy: number, gx: number, gw: number, rows: number, cols: number): void;
  layerNorm(x: number, w: number, b: number, out: number, mean: number, rstd: number, rows: number, cols: number, eps: number): void;
  layerNormGrad(x: number, w: number, mean: number, rstd: number, gy: number, gx: number, gw: number, rows: number, cols: number): void;
  crossEntropy(logits: number, labels: number, loss: number, lse: number, rows: number, vocab: number, ignoreIndex: number): void;
  crossEntropyGrad(logits: number, labels: number, lse: number, gLoss: number, gx: number, rows: number, vocab: number, ignoreIndex: number): void;
  gatherRows(table: number, dtype: number, idx: number, out: number, nIdx: number, cols: number): void;
  scatterAddRows(g: number, out: number, rows: number, offsets: number, order: number, nUnique: number, cols: number): void;
}

const TABLE_DTYPE: Record<WeightDType, number> = { f32: 0, bf16: 1, f16: 2 };

export function softmax(ctx: WasmContext, a: SoftmaxArgs): void {
  const l = checkSoftmax(a);
  ctx.k<RowsExports>().softmax(ctx.ptr(a.x, l), ctx.ptr(a.out, l), a.rows, a.cols, a.log);
}

export function softmaxGrad(ctx: WasmContext, a: SoftmaxGradArgs): void {
  const l = checkSoftmaxGrad(a);
  ctx.k<RowsExports>().softmaxGrad(ctx.ptr(a.y, l), ctx.ptr(a.gy, l), ctx.ptr(a.gx, l), a.rows, a.cols, a.log);
}

export function rmsNorm(ctx: WasmContext, a: RmsNormArgs): void {
  const l = checkRmsNorm(a);
  ctx.k<RowsExports>().rmsNorm(ctx.ptr(a.x, l), ctx.ptr(a.weight, l), ctx.ptr(a.out, l), ctx.ptr(a.rstd, l), a.rows, a.cols, a.eps);
}

export function rmsNormGrad(ctx: WasmContext, a: RmsNormGradArgs): void {
  const l = checkRmsNormGrad(a);
  ctx
    .k<RowsExports>()
    .rmsNormGrad(ctx.ptr(a.x, l), ctx.ptr(a.weight, l), ctx.ptr(a.rstd, l), ctx.ptr(a.gy, l), ctx.ptr(a.gx, l), ctx.ptr(a.gwRows, l), a.rows, a.cols);
}

export function layerNorm(ctx: WasmContext, a: LayerNormArgs): void {
  const l = checkLayerNorm(a);
  ctx
    .k<RowsExports>()
    .layerNorm(ctx.ptr(a.x, l), ctx.ptr(a.weight, l), ctx.ptr(a.bias, l), ctx.ptr(a.out, l), ctx.ptr(a.mean, l), ctx.ptr(a.rstd, l), a.rows, a.cols, a.eps);
}

export function layerNormGrad(ctx: WasmContext, a: LayerNormGradArgs): void {
  const l = checkLayerNormGrad(a);
  ctx
    .k<RowsExports>()
    .layerNormGrad(
      ctx.ptr(a.x, l),
      ctx.ptr(a.weight, l),
      ctx.ptr(a.mean, l),
      ctx.ptr(a.rstd, l),
      ctx.ptr(a.gy, l),
      ctx.ptr(a.gx, l),
      ctx.ptr(a.gwRows, l),
      a.rows,
      a.cols,
    );
}

export function crossEntropy(ctx: WasmContext, a: CrossEntropyArgs): void {
  const l = checkCrossEntropy(a);
  ctx.k<RowsExports>().crossEntropy(ctx.ptr(a.logits, l), ctx.ptr(a.labels, l), ctx.ptr(a.loss, l), ctx.ptr(a.lse, l), a.rows, a.vocab, a.ignoreIndex);
}

export function crossEntropyGrad(ctx: WasmContext, a: CrossEntropyGradArgs): void {
  const l = checkCrossEntropyGrad(a);
  ctx
    .k<RowsExports>()
    .crossEntropyGrad(ctx.ptr(a.logits, l), ctx.ptr(a.labels, l), ctx.ptr(a.lse, l), ctx.ptr(a.gLoss, l), ctx.ptr(a.gx, l), a.rows, a.vocab, a.ignoreIndex);
}

export function gatherRows(ctx: WasmContext, a: GatherRowsArgs): void {
  const l = checkGatherRows(a);
  ctx.k<RowsExports>().gatherRows(ctx.ptr(a.table, l), TABLE_DTYPE[a.tableDtype], ctx.ptr(a.idx, l), ctx.ptr(a.out, l), a.nIdx, a.cols);
}

export function scatterAddRows(ctx: WasmContext, a: ScatterAddRowsArgs): void {
  const l = checkScatterAddRows(a);
  ctx
    .k<RowsExports>()
    .scatterAddRows(ctx.ptr(a.g, l), ctx.ptr(a.out, l), ctx.ptr(a.rows, l), ctx.ptr(a.offsets, l), ctx.ptr(a.order, l), a.nUnique, a.cols);
}
