// Argument checks for matmul, shared by the WebGPU and wasm wrappers: every operand must
// hold its last batch's matrix, so a kernel never reads or writes past a storage.
import type { MatmulArgs } from '../kernels.js';
import { requireDims, requireElems, requirePacked } from './operands.js';

/** Elements spanned by `batch` matrices of `size` elements placed `stride` apart. */
const span = (batch: number, stride: number, size: number): number => (batch === 0 || size === 0 ? 0 : (batch - 1) * stride + size);

/** Validates a matmul call; returns the label its errors carry, e.g. "matmul 3×[7×5ᵀ]·[5×33 bf16]". */
export function checkMatmul(a: MatmulArgs): string {
  const shapeA = a.transA ? `${a.k}×${a.m}ᵀ` : `${a.m}×${a.k}`;
  const shapeB = `${a.transB ? `${a.n}×${a.k}ᵀ` : `${a.k}×${a.n}`}${a.bDtype === 'f32' ? '' : ` ${a.bDtype}`}`;
  const label = `matmul ${a.batch === 1 ? '' : `${a.batch}×`}[${shapeA}]·[${shapeB}]`;
  requireDims(label, { batch: a.batch, m: a.m, n: a.n, k: a.k, strideA: a.strideA, strideB: a.strideB, strideOut: a.strideOut });
  if (a.bDtype !== 'f32' && a.bDtype !== 'bf16' && a.bDtype !== 'f16') throw new Error(`${label}: bDtype must be f32, bf16 or f16, got ${String(a.bDtype)}`);
  const sizes = `${a.batch} matrices, strides A ${a.strideA}, B ${a.strideB}, out ${a.strideOut}`;
  requireElems(label, 'a', a.a, span(a.batch, a.strideA, a.m * a.k), `${sizes}: (batch−1)·strideA + m·k`);
  const bElems = span(a.batch, a.strideB, a.k * a.n);
  if (a.bDtype === 'f32') requireElems(label, 'b', a.b, bElems, `${sizes}: (batch−1)·strideB + k·n`);
  else requirePacked(label, 'b', a.b, bElems, `${sizes}: (batch−1)·strideB + k·n`);
  requireElems(label, 'out', a.out, span(a.batch, a.strideOut, a.m * a.n), `${sizes}: (batch−1)·strideOut + m·n`);
  if (a.bias) {
    requireElems(label, 'bias', a.bias, a.n, 'n');
    if (a.bias === a.out) throw new Error(`${label}: output 'out' is the same storage as 'bias'; write to a separate storage`);
  }
  if (a.residual) {
    requireElems(label, 'residual', a.residual, span(a.batch, a.strideOut, a.m * a.n), `${sizes}: laid out as out, (batch−1)·strideOut + m·n`);
    if (a.residual === a.out) throw new Error(`${label}: output 'out' is the same storage as 'residual'; write to a separate storage`);
  }
  return label;
}
