// Elementwise kernel family on wasm (assembly/kernels/basic.ts).
import type {
  BinaryArgs, CopyStridedArgs, FillArgs, ReduceArgs, SwigluArgs, SwigluGradArgs, SwigluStackedArgs, SwigluStackedGradArgs, UnaryArgs, UnaryGradArgs, UnpackArgs,
} from '../../kernels.js';
import {
  checkBinary, checkCopyStrided, checkReduce, checkSwiglu, checkSwigluGrad, checkSwigluStacked, checkSwigluStackedGrad, checkUnary, checkUnaryGrad, checkUnpack,
} from '../../args/basic.js';
import type { StridedLayout } from '../../args/strided.js';
import type { WasmContext } from '../context.js';

interface BasicExports {
  fill(out: number, n: number, bits: number): void;
  unpackBf16(src: number, out: number, n: number): void;
  unpackF16(src: number, out: number, n: number): void;
  binary(op: number, a: number, b: number, out: number, rank: number, dims: number): void;
  copyStrided(src: number, dst: number, rank: number, dims: number): void;
  unary(op: number, x: number, out: number, n: number, alpha: number): void;
  unaryGrad(op: number, x: number, gy: number, gx: number, n: number, alpha: number): void;
  swiglu(gate: number, up: number, out: number, n: number): void;
  swigluGrad(gate: number, up: number, gy: number, gGate: number, gUp: number, n: number): void;
  reduce(x: number, out: number, outer: number, size: number, inner: number, mean: number): void;
}

const f32Bits = (v: number): number => new Uint32Array(new Float32Array([v]).buffer)[0];

export function fill(ctx: WasmContext, a: FillArgs): void {
  ctx.k<BasicExports>().fill(ctx.ptr(a.out, 'fill'), a.n, a.dtype === 'i32' ? a.value | 0 : f32Bits(a.value));
}

export function unpack(ctx: WasmContext, a: UnpackArgs): void {
  const label = checkUnpack(a);
  const k = ctx.k<BasicExports>();
  (a.srcDtype === 'f16' ? k.unpackF16 : k.unpackBf16)(ctx.ptr(a.src, label), ctx.ptr(a.out, label), a.n);
}

/** Runs `kernel` with the layout's [shape, strides₀, strides₁] in scratch memory. */
function withDims(ctx: WasmContext, label: string, layout: StridedLayout, kernel: (rank: number, dims: number) => void): void {
  const dims = ctx.i32Scratch([...layout.shape, ...layout.strides[0], ...layout.strides[1]], label);
  try {
    kernel(layout.shape.length, dims.ptr);
  } finally {
    ctx.free(dims);
  }
}

export function binary(ctx: WasmContext, a: BinaryArgs): void {
  const { label, code, layout } = checkBinary(a);
  if (layout.n === 0) return;
  const [pa, pb, out] = [ctx.ptr(a.a, label), ctx.ptr(a.b, label), ctx.ptr(a.out, label)];
  withDims(ctx, label, layout, (rank, dims) => ctx.k<BasicExports>().binary(code, pa, pb, out, rank, dims));
}

export function copyStrided(ctx: WasmContext, a: CopyStridedArgs): void {
  const { label, layout } = checkCopyStrided(a);
  if (layout.n === 0) return;
  const src = ctx.ptr(a.src, label) + 4 * a.srcOffset;
  const dst = ctx.ptr(a.dst, label) + 4 * a.dstOffset;
  withDims(ctx, label, layout, (rank, dims) => ctx.k<BasicExports>().copyStrided(src, dst, rank, dims));
}

export function unary(ctx: WasmContext, a: UnaryArgs): void {
  const { label, code } = checkUnary(a);
  ctx.k<BasicExports>().unary(code, ctx.ptr(a.x, label), ctx.ptr(a.out, label), a.n, a.alpha);
}

export function unaryGrad(ctx: WasmContext, a: UnaryGradArgs): void {
  const { label, code } = checkUnaryGrad(a);
  ctx.k<BasicExports>().unaryGrad(code, ctx.ptr(a.x, label), ctx.ptr(a.gy, label), ctx.ptr(a.gx, label), a.n, a.alpha);
}

export function swiglu(ctx: WasmContext, a: SwigluArgs): void {
  const label = checkSwiglu(a);
  ctx.k<BasicExports>().swiglu(ctx.ptr(a.gate, label), ctx.ptr(a.up, label), ctx.ptr(a.out, label), a.n);
}

export function swigluGrad(ctx: WasmContext, a: SwigluGradArgs): void {
  const label = checkSwigluGrad(a);
  const p = (s: typeof a.gate): number => ctx.ptr(s, label);
  ctx.k<BasicExports>().swigluGrad(p(a.gate), p(a.up), p(a.gy), p(a.gGate), p(a.gUp), a.n);
}

// The stacked forms run the contiguous kernels row by row: gate and up are the halves of a row.
export function swigluStacked(ctx: WasmContext, a: SwigluStackedArgs): void {
  const label = checkSwigluStacked(a);
  const [x, out, c] = [ctx.ptr(a.x, label), ctx.ptr(a.out, label), a.cols];
  const k = ctx.k<BasicExports>();
  for (let r = 0; r < a.rows; r++) k.swiglu(x + 8 * r * c, x + 4 * (2 * r + 1) * c, out + 4 * r * c, c);
}

export function swigluStackedGrad(ctx: WasmContext, a: SwigluStackedGradArgs): void {
  const label = checkSwigluStackedGrad(a);
  const [x, gy, gx, c] = [ctx.ptr(a.x, label), ctx.ptr(a.gy, label), ctx.ptr(a.gx, label), a.cols];
  const k = ctx.k<BasicExports>();
  for (let r = 0; r < a.rows; r++) k.swigluGrad(x + 8 * r * c, x + 4 * (2 * r + 1) * c, gy + 4 * r * c, gx + 8 * r * c, gx + 4 * (2 * r + 1) * c, c);
}

export function reduce(ctx: WasmContext, a: ReduceArgs): void {
  const label = checkReduce(a);
  ctx.k<BasicExports>().reduce(ctx.ptr(a.x, label), ctx.ptr(a.out, label), a.outer, a.size, a.inner, a.op === 'mean' ? 1 : 0);
}
