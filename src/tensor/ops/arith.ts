// Broadcasting arithmetic and reductions: add/sub/mul/div, scale, neg, sum/mean, sumTo.
import type { BinaryOp } from '../../backend/kernels.js';
import { record } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import { broadcastShapes, broadcastStrides, normAxis, sameShape, sizeOf, type Shape } from '../shape.js';
import { f32Inputs } from './check.js';
import { unaryOp } from './unary.js';

function binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  f32Inputs(op, a, b);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const rt = a.rt;
  const out = rt.empty(shape, 'f32', op);
  if (out.size) {
    // The kernel takes rank ≤ 6; fold leading dimensions when both operands are contiguous there.
    const [s, sa, sb] = foldLeading(shape, broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape));
    rt.backend.binary({ op, a: a.storage, b: b.storage, out: out.storage, shape: s, aStrides: sa, bStrides: sb });
  }
  return out;
}

function foldLeading(shape: number[], sa: number[], sb: number[]): [number[], number[], number[]] {
  const s = [...shape];
  const a = [...sa];
  const b = [...sb];
  while (s.length > 6) {
    // Merge dims 0 and 1 when that keeps both operands' addressing affine.
    if (a[0] !== a[1] * s[1] || b[0] !== b[1] * s[1]) throw new Error(`broadcast over rank ${shape.length} with non-foldable strides is not supported (at most 6)`);
    s.splice(0, 2, s[0] * s[1]);
    a.splice(0, 2, a[1]);
    b.splice(0, 2, b[1]);
  }
  return [s, a, b];
}

export function add(a: Tensor, b: Tensor): Tensor {
  return record(binary('add', a, b), 'add', [a, b], (g) => [sumTo(g, a.shape), sumTo(g, b.shape)]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return record(binary('sub', a, b), 'sub', [a, b], (g) => [sumTo(g, a.shape), b.requiresGrad ? reduceOwned(neg(g), b.shape) : null]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return record(binary('mul', a, b), 'mul', [a, b], (g) => [
    a.requiresGrad ? reduceOwned(binary('mul', g, b), a.shape) : null,
    b.requiresGrad ? reduceOwned(binary('mul', g, a), b.shape) : null,
  ]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  const out = binary('div', a, b);
  return record(out, 'div', [a, b], (g) => {
    const ga = a.requiresGrad ? reduceOwned(binary('div', g, b), a.shape) : null;
    let gb: Tensor | null = null;
    if (b.requiresGrad) {
      // d(a/b)/db = −(a/b)/b
      const q = binary('div', out, b);
      const t = binary('mul', g, q);
      q.release();
      gb = reduceOwned(neg(t), b.shape);
      t.release();
    }
    return [ga, gb];
  });
}

export function scale(a: Tensor, s: number): Tensor {
  return unaryOp('scale', a, s);
}

export function neg(a: Tensor): Tensor {
  return unaryOp('neg', a);
}

/** Sums g over the axes broadcast to reach it from `shape`. Returns g itself when no reduction is needed. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape) || g.size === sizeOf(shape)) return g;
  let cur = g;
  const lead = g.rank - shape.length;
  const step = (next: Tensor) => {
    if (cur !== g) cur.release();
    cur = next;
  };
  if (lead > 0) {
    const outer = 1;
    const size = g.shape.slice(0, lead).reduce((x, y) => x * y, 1);
    const inner = g.size / size;
    step(reduceRaw(cur, outer, size, inner, 'sum', g.shape.slice(lead)));
  }
  for (let ax = 0; ax < shape.length; ax++) {
    if (shape[ax] === 1 && cur.shape[ax] !== 1) {
      const outer = cur.shape.slice(0, ax).reduce((x, y) => x * y, 1);
      const inner = cur.shape.slice(ax + 1).reduce((x, y) => x * y, 1);
      const keep = [...cur.shape];
      keep[ax] = 1;
      step(reduceRaw(cur, outer, cur.shape[ax], inner, 'sum', keep));
    }
  }
  return cur;
}

/** sumTo for a temporary: releases t when a reduced copy replaces it. */
function reduceOwned(t: Tensor, shape: Shape): Tensor {
  const r = sumTo(t, shape);
  if (r !== t) t.release();
  return r;
}

/** The reduce kernel on x viewed as [outer, size, inner], no gradient recorded. */
export function reduceRaw(x: Tensor, outer: number, size: number, inner: number, op: 'sum' | 'mean', shape: Shape): Tensor {
  const out = x.rt.empty(shape, 'f32', op);
  x.rt.backend.reduce({ op, x: x.storage, out: out.storage, outer, size, inner });
  return out;
}

/** Sum over one axis (or all axes when axis is undefined). */
export function sum(x: Tensor, axis?: number, keepdim = false): Tensor {
  return reduceAxis('sum', x, axis, keepdim);
}

export function mean(x: Tensor, axis?: number, keepdim = false): Tensor {
  return reduceAxis('mean', x, axis, keepdim);
}

function reduceAxis(op: 'sum' | 'mean', x: Tensor, axis: number | undefined, keepdim: boolean): Tensor {
  f32Inputs(op, x);
  let outer: number, size: number, inner: number, kept: number[];
  if (axis === undefined) {
    [outer, size, inner] = [1, x.size, 1];
    kept = x.shape.map(() => 1);
  } else {
    const ax = normAxis(axis, x.rank, op);
    outer = x.shape.slice(0, ax).reduce((a, b) => a * b, 1);
    size = x.shape[ax];
    inner = x.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
    kept = [...x.shape];
    kept[ax] = 1;
  }
  const shape = keepdim ? kept : axis === undefined ? [] : kept.filter((_, i) => i !== normAxis(axis, x.rank, op));
  const out = reduceRaw(x, outer, size, inner, op, shape);
  return record(out, op, [x], (g) => {
    const rt = x.rt;
    const gk = rt.view(g, kept);
    const e = rt.ops.expand(gk, x.shape);
    gk.release();
    if (op === 'sum') return [e];
    const m = scale(e, 1 / size);
    e.release();
    return [m];
  });
}
