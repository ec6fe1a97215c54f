// Argument checks for the elementwise family, shared by the WebGPU and wasm wrappers. Each
// returns the label the op's errors carry, plus what the kernels need (op codes, strides).
import type {
  BinaryArgs, BinaryOp, CopyStridedArgs, ReduceArgs, SwigluArgs, SwigluGradArgs, SwigluStackedArgs, SwigluStackedGradArgs, UnaryArgs, UnaryGradArgs, UnaryOp, UnpackArgs,
} from '../kernels.js';
import type { Storage } from '../storage.js';
import { requireDims, requireElems, requirePacked } from './operands.js';
import { fmtShape, stridedExtent, stridedLayout, type StridedLayout } from './strided.js';

/** Op codes shared with shaders/basic.wgsl and assembly/kernels/basic.ts (index = code). */
export const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div'];
export const UNARY_OPS: readonly UnaryOp[] = [
  'scale', 'neg', 'exp', 'log', 'sqrt', 'rsqrt', 'square',
  'relu', 'sigmoid', 'tanh', 'silu', 'gelu_tanh', 'gelu_erf', 'quick_gelu',
];

function opCode<T extends string>(label: string, ops: readonly T[], op: T): number {
  const code = ops.indexOf(op);
  if (code < 0) throw new Error(`${label}: unknown op '${op}' (expected one of ${ops.join(', ')})`);
  return code;
}

/** Outputs may not alias another operand: WebGPU cannot bind one buffer for reading and writing in a dispatch. */
function requireNoAlias(label: string, outputs: Record<string, Storage>, inputs: Record<string, Storage>): void {
  const all = Object.entries({ ...inputs, ...outputs });
  for (const [out, s] of Object.entries(outputs))
    for (const [name, t] of all)
      if (name !== out && s === t) throw new Error(`${label}: output '${out}' is the same storage as '${name}'; write to a separate storage`);
}

export function checkUnpack(a: UnpackArgs): string {
  const label = `unpack ${a.srcDtype} [${a.n}]`;
  if (a.srcDtype !== 'bf16' && a.srcDtype !== 'f16') throw new Error(`${label}: srcDtype must be bf16 or f16`);
  requireDims(label, { n: a.n });
  requirePacked(label, 'src', a.src, a.n, 'n');
  requireElems(label, 'out', a.out, a.n, 'n');
  requireNoAlias(label, { out: a.out }, { src: a.src });
  return label;
}

export interface StridedPlan {
  label: string;
  /** For binary: strides[0] of a, strides[1] of b. For copyStrided: src, then dst. */
  layout: StridedLayout;
}

export function checkBinary(a: BinaryArgs): StridedPlan & { code: number } {
  const label = `binary ${a.op} ${fmtShape(a.shape)}`;
  const code = opCode(label, BINARY_OPS, a.op);
  const layout = stridedLayout(label, a.shape, { aStrides: a.aStrides, bStrides: a.bStrides });
  requireElems(label, 'a', a.a, stridedExtent(a.shape, a.aStrides), `extent of strides ${fmtShape(a.aStrides)}`);
  requireElems(label, 'b', a.b, stridedExtent(a.shape, a.bStrides), `extent of strides ${fmtShape(a.bStrides)}`);
  requireElems(label, 'out', a.out, layout.n, 'shape size');
  requireNoAlias(label, { out: a.out }, { a: a.a, b: a.b });
  return { label, code, layout };
}

export function checkCopyStrided(a: CopyStridedArgs): StridedPlan {
  const label = `copyStrided ${fmtShape(a.shape)}`;
  const layout = stridedLayout(label, a.shape, { srcStrides: a.srcStrides, dstStrides: a.dstStrides });
  requireDims(label, { srcOffset: a.srcOffset, dstOffset: a.dstOffset });
  if (layout.n > 0) {
    const src = a.srcOffset + stridedExtent(a.shape, a.srcStrides);
    const dst = a.dstOffset + stridedExtent(a.shape, a.dstStrides);
    requireElems(label, 'src', a.src, src, `srcOffset ${a.srcOffset} + extent of strides ${fmtShape(a.srcStrides)}`);
    requireElems(label, 'dst', a.dst, dst, `dstOffset ${a.dstOffset} + extent of strides ${fmtShape(a.dstStrides)}`);
  }
  requireNoAlias(label, { dst: a.dst }, { src: a.src });
  return { label, layout };
}

export interface UnaryPlan {
  label: string;
  code: number;
}

export function checkUnary(a: UnaryArgs): UnaryPlan {
  const label = `unary ${a.op} [${a.n}]`;
  const code = opCode(label, UNARY_OPS, a.op);
  requireDims(label, { n: a.n });
  requireElems(label, 'x', a.x, a.n, 'n');
  requireElems(label, 'out', a.out, a.n, 'n');
  requireNoAlias(label, { out: a.out }, { x: a.x });
  return { label, code };
}

export function checkUnaryGrad(a: UnaryGradArgs): UnaryPlan {
  const label = `unaryGrad ${a.op} [${a.n}]`;
  const code = opCode(label, UNARY_OPS, a.op);
  requireDims(label, { n: a.n });
  for (const [name, s] of Object.entries({ x: a.x, gy: a.gy, gx: a.gx })) requireElems(label, name, s, a.n, 'n');
  requireNoAlias(label, { gx: a.gx }, { x: a.x, gy: a.gy });
  return { label, code };
}

export function checkReduce(a: ReduceArgs): string {
  const label = `reduce ${a.op} [${a.outer},${a.size},${a.inner}]`;
  if (a.op !== 'sum' && a.op !== 'mean') throw new Error(`${label}: op must be sum or mean`);
  requireDims(label, { outer: a.outer, size: a.size, inner: a.inner });
  requireElems(label, 'x', a.x, a.outer * a.size * a.inner, 'outer·size·inner');
  requireElems(label, 'out', a.out, a.outer * a.inner, 'outer·inner');
  requireNoAlias(label, { out: a.out }, { x: a.x });
  return label;
}

export function checkSwiglu(a: SwigluArgs): string {
  const label = `swiglu [${a.n}]`;
  requireDims(label, { n: a.n });
  for (const [name, s] of Object.entries({ gate: a.gate, up: a.up, out: a.out })) requireElems(label, name, s, a.n, 'n');
  requireNoAlias(label, { out: a.out }, { gate: a.gate, up: a.up });
  return label;
}

export function checkSwigluStacked(a: SwigluStackedArgs): string {
  const label = `swigluStacked [${a.rows}×2·${a.cols}]`;
  requireDims(label, { rows: a.rows, cols: a.cols });
  requireElems(label, 'x', a.x, a.rows * 2 * a.cols, 'rows·2·cols');
  requireElems(label, 'out', a.out, a.rows * a.cols, 'rows·cols');
  requireNoAlias(label, { out: a.out }, { x: a.x });
  return label;
}

export function checkSwigluStackedGrad(a: SwigluStackedGradArgs): string {
  const label = `swigluStackedGrad [${a.rows}×2·${a.cols}]`;
  requireDims(label, { rows: a.rows, cols: a.cols });
  requireElems(label, 'x', a.x, a.rows * 2 * a.cols, 'rows·2·cols');
  requireElems(label, 'gy', a.gy, a.rows * a.cols, 'rows·cols');
  requireElems(label, 'gx', a.gx, a.rows * 2 * a.cols, 'rows·2·cols');
  requireNoAlias(label, { gx: a.gx }, { x: a.x, gy: a.gy });
  return label;
}

export function checkSwigluGrad(a: SwigluGradArgs): string {
  const label = `swigluGrad [${a.n}]`;
  requireDims(label, { n: a.n });
  const all = { gate: a.gate, up: a.up, gy: a.gy, gGate: a.gGate, gUp: a.gUp };
  for (const [name, s] of Object.entries(all)) requireElems(label, name, s, a.n, 'n');
  requireNoAlias(label, { gGate: a.gGate, gUp: a.gUp }, { gate: a.gate, up: a.up, gy: a.gy });
  return label;
}
