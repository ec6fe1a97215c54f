// Elementwise kernel family on WebGPU (shaders/basic.wgsl).
import type {
  BinaryArgs, CopyStridedArgs, FillArgs, ReduceArgs, SwigluArgs, SwigluGradArgs, SwigluStackedArgs, SwigluStackedGradArgs, UnaryArgs, UnaryGradArgs, UnpackArgs,
} from '../../kernels.js';
import {
  checkBinary, checkCopyStrided, checkReduce, checkSwiglu, checkSwigluGrad, checkSwigluStacked, checkSwigluStackedGrad, checkUnary, checkUnaryGrad, checkUnpack,
} from '../../args/basic.js';
import type { StridedLayout } from '../../args/strided.js';
import type { GpuContext } from '../context.js';
import { Params } from '../params.js';

/** Slots per shape/stride array in the WGSL `StridedParams` struct (two vec4s). */
const STRIDED_SLOTS = 8;

export function fill(ctx: GpuContext, a: FillArgs): void {
  const bits = a.dtype === 'i32' ? a.value | 0 : new Uint32Array(new Float32Array([a.value]).buffer)[0];
  ctx.dispatch({
    label: `fill [${a.n}]`,
    shader: 'basic',
    entry: 'fill',
    bindings: [[a.out, 'write']],
    params: new Params().u32(a.n, bits),
    workgroups: ctx.grid(a.n, 256),
  });
}

export function unpack(ctx: GpuContext, a: UnpackArgs): void {
  const label = checkUnpack(a);
  ctx.dispatch({
    label,
    shader: 'basic',
    entry: 'unpack',
    constants: { UNPACK_F16: a.srcDtype === 'f16' ? 1 : 0 },
    bindings: [[a.src, 'read'], [a.out, 'write']],
    params: new Params().u32(a.n),
    workgroups: ctx.grid(Math.ceil(a.n / 2), 256),
  });
}

/** The WGSL `StridedParams`: count, base offsets, then shape and both stride sets padded to STRIDED_SLOTS. */
function stridedParams(layout: StridedLayout, offset0: number, offset1: number): Params {
  return new Params()
    .u32(layout.n, offset0, offset1)
    .u32Array(layout.shape, STRIDED_SLOTS)
    .u32Array(layout.strides[0], STRIDED_SLOTS)
    .u32Array(layout.strides[1], STRIDED_SLOTS);
}

export function binary(ctx: GpuContext, a: BinaryArgs): void {
  const { label, code, layout } = checkBinary(a);
  // Contiguous operands of one shape (strides merged to [1]) go four elements a thread.
  const contiguous = layout.shape.length === 1 && layout.strides.every((s) => s[0] === 1);
  const quads = contiguous && layout.n > 0 && layout.n % 4 === 0;
  ctx.dispatch({
    label,
    shader: 'basic',
    entry: quads ? 'binary4' : 'binary',
    constants: { BINARY_OP: code, RANK: layout.shape.length },
    bindings: [[a.a, 'read'], [a.b, 'read'], [a.out, 'write']],
    params: stridedParams(layout, 0, 0),
    workgroups: ctx.grid(quads ? layout.n / 4 : layout.n, 256),
  });
}

export function copyStrided(ctx: GpuContext, a: CopyStridedArgs): void {
  const { label, layout } = checkCopyStrided(a);
  ctx.dispatch({
    label,
    shader: 'basic',
    entry: 'copy_strided',
    constants: { RANK: layout.shape.length },
    bindings: [[a.src, 'read'], [a.dst, 'write']],
    params: stridedParams(layout, a.srcOffset, a.dstOffset),
    workgroups: ctx.grid(layout.n, 256),
  });
}

export function unary(ctx: GpuContext, a: UnaryArgs): void {
  const { label, code } = checkUnary(a);
  ctx.dispatch({
    label,
    shader: 'basic',
    entry: 'unary',
    constants: { UNARY_OP: code },
    bindings: [[a.x, 'read'], [a.out, 'write']],
    params: new Params().u32(a.n).f32(a.alpha),
    workgroups: ctx.grid(a.n, 256),
  });
}

export function unaryGrad(ctx: GpuContext, a: UnaryGradArgs): void {
  const { label, code } = checkUnaryGrad(a);
  ctx.dispatch({
    label,
    shader: 'basic',
    entry: 'unary_grad',
    constants: { UNARY_OP: code },
    bindings: [[a.x, 'read'], [a.gy, 'read'], [a.gx, 'write']],
    params: new Params().u32(a.n).f32(a.alpha),
    workgroups: ctx.grid(a.n, 256),
  });
}

export function swiglu(ctx: GpuContext, a: SwigluArgs): void {
  const label = checkSwiglu(a);
  ctx.dispatch({
    label,
    shader: 'basic',
    entry: 'swiglu',
    bindings: [[a.gate, 'read'], [a.up, 'read'], [a.out, 'write']],
    params: new Params().u32(a.n),
    workgroups: ctx.grid(a.n, 256),
  });
}

export function swigluGrad(ctx: GpuContext, a: SwigluGradArgs): void {
  const label = checkSwigluGrad(a);
  ctx.dispatch({
    label,
    shader: 'basic',
    entry: 'swiglu_grad',
    bindings: [[a.gate, 'read'], [a.up, 'read'], [a.gy, 'read'], [a.gGate, 'write'], [a.gUp, 'write']],
    params: new Params().u32(a.n),
    workgroups: ctx.grid(a.n, 256),
  });
}

export function swigluStacked(ctx: GpuContext, a: SwigluStackedArgs): void {
  const label = checkSwigluStacked(a);
  const n = a.rows * a.cols;
  ctx.dispatch({
    label,
    shader: 'basic',
    entry: 'swiglu_stacked',
    bindings: [[a.x, 'read'], [a.out, 'write']],
    params: new Params().u32(n).u32(a.cols),
    workgroups: ctx.grid(n, 256),
  });
}

export function swigluStackedGrad(ctx: GpuContext, a: SwigluStackedGradArgs): void {
  const label = checkSwigluStackedGrad(a);
  const n = a.rows * a.cols;
  ctx.dispatch({
    label,
    shader: 'basic',
    entry: 'swiglu_stacked_grad',
    bindings: [[a.x, 'read'], [a.gy, 'read'], [a.gx, 'write']],
    params: new Params().u32(n).u32(a.cols),
    workgroups: ctx.grid(n, 256),
  });
}

const nextPow2 = (v: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, v)));

/**
 * Outputs per 256-thread workgroup (the rest, lanes, split each sum): about 8 elements per lane
 * (a lane keeps 4 loads in flight, so fewer leaves lanes idle and more leaves too few lanes
 * loading), packing short rows several per workgroup, and at least 8 adjacent columns of a
 * column sum (one 32-byte memory sector per row). On the H100 (bench/results/basic-h100.json)
 * this picks the fastest tile or one within 6% of it, except for the k/v-bias column sum
 * (146 vs 186 GB/s at 2 columns; 32 columns, the earlier rule, ran at 65).
 */
export function reduceTile(size: number, inner: number): number {
  const lanes = Math.min(256, nextPow2(Math.ceil(size / 8)));
  return Math.max(Math.min(nextPow2(inner), 8), 256 / lanes);
}

export function reduce(ctx: GpuContext, a: ReduceArgs): void {
  reduceWithTile(ctx, a, reduceTile(a.size, a.inner));
}

/** reduce with an explicit tile (a power of two ≤ 256), so bench/basic.ts can check reduceTile's choice. */
export function reduceWithTile(ctx: GpuContext, a: ReduceArgs, tx: number): void {
  const label = checkReduce(a);
  if (!(tx >= 1 && tx <= 256 && Number.isInteger(Math.log2(tx)))) throw new Error(`${label}: tile ${tx} must be a power of two ≤ 256`);
  const outputs = a.outer * a.inner;
  ctx.dispatch({
    label,
    shader: 'basic',
    entry: 'reduce',
    constants: { REDUCE_TX: tx, REDUCE_MEAN: a.op === 'mean' ? 1 : 0 },
    bindings: [[a.x, 'read'], [a.out, 'write']],
    params: new Params().u32(outputs, a.size, a.inner),
    workgroups: ctx.grid(outputs, tx),
  });
}
