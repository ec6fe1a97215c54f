// Argument checks for the row-wise kernels (softmax, norms, cross-entropy, embedding),
// shared by the WebGPU and wasm wrappers. Each returns the label the op's errors carry.
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
} from '../kernels.js';
import { requireDims, requireElems, requirePacked } from './operands.js';

function requireEps(label: string, eps: number): void {
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new Error(`${label}: eps must be a finite number ≥ 0, got ${eps}`);
}

export function checkSoftmax(a: SoftmaxArgs): string {
  const label = `${a.log ? 'logSoftmax' : 'softmax'} [${a.rows}×${a.cols}]`;
  requireDims(label, { rows: a.rows, cols: a.cols });
  const n = a.rows * a.cols;
  requireElems(label, 'x', a.x, n, 'rows·cols');
  requireElems(label, 'out', a.out, n, 'rows·cols');
  return label;
}

export function checkSoftmaxGrad(a: SoftmaxGradArgs): string {
  const label = `${a.log ? 'logSoftmax' : 'softmax'} backward [${a.rows}×${a.cols}]`;
  requireDims(label, { rows: a.rows, cols: a.cols });
  const n = a.rows * a.cols;
  requireElems(label, 'y', a.y, n, 'rows·cols');
  requireElems(label, 'gy', a.gy, n, 'rows·cols');
  requireElems(label, 'gx', a.gx, n, 'rows·cols');
  return label;
}

export function checkRmsNorm(a: RmsNormArgs): string {
  const label = `rmsNorm [${a.rows}×${a.cols}]`;
  requireDims(label, { rows: a.rows, cols: a.cols });
  requireEps(label, a.eps);
  const n = a.rows * a.cols;
  requireElems(label, 'x', a.x, n, 'rows·cols');
  requireElems(label, 'weight', a.weight, a.cols, 'cols');
  requireElems(label, 'out', a.out, n, 'rows·cols');
  requireElems(label, 'rstd', a.rstd, a.rows, 'rows');
  return label;
}

export function checkRmsNormGrad(a: RmsNormGradArgs): string {
  const label = `rmsNorm backward [${a.rows}×${a.cols}]`;
  requireDims(label, { rows: a.rows, cols: a.cols });
  const n = a.rows * a.cols;
  requireElems(label, 'x', a.x, n, 'rows·cols');
  requireElems(label, 'weight', a.weight, a.cols, 'cols');
  requireElems(label, 'rstd', a.rstd, a.rows, 'rows');
  requireElems(label, 'gy', a.gy, n, 'rows·cols');
  requireElems(label, 'gx', a.gx, n, 'rows·cols');
  requireElems(label, 'gwRows', a.gwRows, n, 'rows·cols');
  return label;
}

export function checkLayerNorm(a: LayerNormArgs): string {
  const label = `layerNorm [${a.rows}×${a.cols}]`;
  requireDims(label, { rows: a.rows, cols: a.cols });
  requireEps(label, a.eps);
  const n = a.rows * a.cols;
  requireElems(label, 'x', a.x, n, 'rows·cols');
  requireElems(label, 'weight', a.weight, a.cols, 'cols');
  requireElems(label, 'bias', a.bias, a.cols, 'cols');
  requireElems(label, 'out', a.out, n, 'rows·cols');
  requireElems(label, 'mean', a.mean, a.rows, 'rows');
  requireElems(label, 'rstd', a.rstd, a.rows, 'rows');
  return label;
}

export function checkLayerNormGrad(a: LayerNormGradArgs): string {
  const label = `layerNorm backward [${a.rows}×${a.cols}]`;
  requireDims(label, { rows: a.rows, cols: a.cols });
  const n = a.rows * a.cols;
  requireElems(label, 'x', a.x, n, 'rows·cols');
  requireElems(label, 'weight', a.weight, a.cols, 'cols');
  requireElems(label, 'mean', a.mean, a.rows, 'rows');
  requireElems(label, 'rstd', a.rstd, a.rows, 'rows');
  requireElems(label, 'gy', a.gy, n, 'rows·cols');
  requireElems(label, 'gx', a.gx, n, 'rows·cols');
  requireElems(label, 'gwRows', a.gwRows, n, 'rows·cols');
  return label;
}

function requireIgnoreIndex(label: string, v: number): void {
  if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new Error(`${label}: ignoreIndex must be an i32, got ${v}`);
}

export function checkCrossEntropy(a: CrossEntropyArgs): string {
  const label = `crossEntropy [${a.rows}×${a.vocab}]`;
  requireDims(label, { rows: a.rows, vocab: a.vocab });
  requireIgnoreIndex(label, a.ignoreIndex);
  requireElems(label, 'logits', a.logits, a.rows * a.vocab, 'rows·vocab');
  requireElems(label, 'labels', a.labels, a.rows, 'rows');
  requireElems(label, 'loss', a.loss, a.rows, 'rows');
  requireElems(label, 'lse', a.lse, a.rows, 'rows');
  return label;
}

export function checkCrossEntropyGrad(a: CrossEntropyGradArgs): string {
  const label = `crossEntropy backward [${a.rows}×${a.vocab}]`;
  requireDims(label, { rows: a.rows, vocab: a.vocab });
  requireIgnoreIndex(label, a.ignoreIndex);
  requireElems(label, 'logits', a.logits, a.rows * a.vocab, 'rows·vocab');
  requireElems(label, 'labels', a.labels, a.rows, 'rows');
  requireElems(label, 'lse', a.lse, a.rows, 'rows');
  requireElems(label, 'gLoss', a.gLoss, a.rows, 'rows');
  requireElems(label, 'gx', a.gx, a.rows * a.vocab, 'rows·vocab');
  return label;
}

/** The table's row count is not an argument (indices are validated by the caller), so it must hold at least one row. */
export function checkGatherRows(a: GatherRowsArgs): string {
  const label = `gatherRows [${a.nIdx} of ${a.tableDtype} ×${a.cols}]`;
  requireDims(label, { nIdx: a.nIdx, cols: a.cols });
  if (a.tableDtype === 'f32') requireElems(label, 'table', a.table, a.cols, 'one row: cols');
  else requirePacked(label, 'table', a.table, a.cols, 'one row: cols');
  requireElems(label, 'idx', a.idx, a.nIdx, 'nIdx');
  requireElems(label, 'out', a.out, a.nIdx * a.cols, 'nIdx·cols');
  return label;
}

/** Every unique row has at least one contribution, so order and g hold at least nUnique entries / rows. */
export function checkScatterAddRows(a: ScatterAddRowsArgs): string {
  const label = `scatterAddRows [${a.nUnique} rows ×${a.cols}]`;
  requireDims(label, { nUnique: a.nUnique, cols: a.cols });
  requireElems(label, 'rows', a.rows, a.nUnique, 'nUnique');
  requireElems(label, 'offsets', a.offsets, a.nUnique + 1, 'nUnique + 1');
  requireElems(label, 'order', a.order, a.nUnique, 'at least nUnique');
  requireElems(label, 'g', a.g, a.nUnique * a.cols, 'at least nUnique·cols');
  requireElems(label, 'out', a.out, a.nUnique * a.cols, 'at least nUnique·cols');
  return label;
}
