// Data movement: copy, reshape, permute/transpose, expand, slice, concat, gather rows.
// Everything but reshape copies through the strided-copy kernel (tensors stay contiguous).
import { GradPart, record } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import { broadcastStrides, fmt, normAxis, sizeOf, stridesOf, type Shape } from '../shape.js';
import { f32Inputs, indexInput } from './check.js';

const MAX_RANK = 6;

/** Merges adjacent dimensions that are contiguous in both src and dst, so rank ≤ 6 covers most real cases. */
function collapse(shape: number[], src: number[], dst: number[]): [number[], number[], number[]] {
  const s: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const k = s.length - 1;
    if (k >= 0 && a[k] === src[i] * shape[i] && b[k] === dst[i] * shape[i]) {
      s[k] *= shape[i];
      a[k] = src[i];
      b[k] = dst[i];
    } else {
      s.push(shape[i]);
      a.push(src[i]);
      b.push(dst[i]);
    }
  }
  return s.length ? [s, a, b] : [[1], [1], [1]];
}

/** dst[dstOffset + idx·dstStrides] = src[srcOffset + idx·srcStrides] over shape (32-bit elements). */
export function stridedCopy(src: Tensor, dst: Tensor, shape: Shape, srcStrides: number[], dstStrides: number[], srcOffset: number, dstOffset: number, op: string): void {
  if (sizeOf(shape) === 0) return;
  const [s, a, b] = collapse([...shape], srcStrides, dstStrides);
  if (s.length > MAX_RANK) throw new Error(`${op}: needs a rank-${s.length} strided copy; at most ${MAX_RANK} non-contiguous dimensions are supported`);
  src.rt.backend.copyStrided({ src: src.storage, dst: dst.storage, shape: s, srcStrides: a, dstStrides: b, srcOffset, dstOffset });
}

export function copy(a: Tensor): Tensor {
  if (a.released) throw new Error(`copy: input ${a.describe()} was released`);
  const out = a.rt.empty(a.shape, a.dtype, 'copy');
  a.rt.backend.copy(a.storage, 0, out.storage, 0, out.storage.bytes);
  return record(out, 'copy', [a], (g) => [g]);
}

export function reshape(a: Tensor, shape: Shape): Tensor {
  const infer = shape.indexOf(-1);
  let s = [...shape];
  if (infer >= 0) {
    const rest = sizeOf(shape.filter((_, i) => i !== infer));
    s[infer] = rest === 0 ? 0 : a.size / rest;
  }
  if (sizeOf(s) !== a.size || s.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`reshape: cannot view ${a.describe()} as ${fmt(shape)}`);
  const out = a.rt.view(a, s);
  // The engine reshapes gradients to each input's shape, so the view's gradient passes through.
  return record(out, 'reshape', [a], (g) => [g]);
}

export function permute(a: Tensor, dims: number[]): Tensor {
  f32OrI32('permute', a);
  if (dims.length !== a.rank || [...dims].sort().some((d, i) => d !== i)) throw new Error(`permute: ${fmt(dims)} is not a permutation of ${a.rank} axes`);
  const shape = dims.map((d) => a.shape[d]);
  const inStrides = stridesOf(a.shape);
  const out = a.rt.empty(shape, a.dtype, 'permute');
  stridedCopy(a, out, shape, dims.map((d) => inStrides[d]), stridesOf(shape), 0, 0, 'permute');
  const inverse = dims.map((_, i) => dims.indexOf(i));
  return record(out, 'permute', [a], (g) => [permute(g, inverse)]);
}

export function transpose(a: Tensor, d0 = -2, d1 = -1): Tensor {
  const x = normAxis(d0, a.rank, 'transpose');
  const y = normAxis(d1, a.rank, 'transpose');
  const dims = a.shape.map((_, i) => i);
  [dims[x], dims[y]] = [dims[y], dims[x]];
  return permute(a, dims);
}

/** Broadcasts a to `shape` (numpy rules), materialised. */
export function expand(a: Tensor, shape: Shape): Tensor {
  f32Inputs('expand', a);
  if (shape.length < a.rank || a.shape.some((d, i) => d !== 1 && d !== shape[shape.length - a.rank + i])) throw new Error(`expand: cannot broadcast ${a.describe()} to ${fmt(shape)}`);
  const out = a.rt.empty(shape, 'f32', 'expand');
  stridedCopy(a, out, shape, broadcastStrides(a.shape, shape), stridesOf(shape), 0, 0, 'expand');
  return record(out, 'expand', [a], (g) => [a.rt.ops.sumTo(g, a.shape)]);
}

/** a[..., start:end, ...] along axis. */
export function slice(a: Tensor, axis: number, start: number, end: number): Tensor {
  f32OrI32('slice', a);
  const ax = normAxis(axis, a.rank, 'slice');
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= a.shape[ax]))
    throw new Error(`slice: range [${start}, ${end}) is outside axis ${ax} of ${a.describe()}`);
  const shape = [...a.shape];
  shape[ax] = end - start;
  const st = stridesOf(a.shape);
  const out = a.rt.empty(shape, a.dtype, 'slice');
  stridedCopy(a, out, shape, st, stridesOf(shape), start * st[ax], 0, 'slice');
  // The gradient is g in this range and zero elsewhere: the engine places it (autograd.ts).
  return record(out, 'slice', [a], (g) => [new GradPart(g, ax, start)]);
}

/** dst[..., start : start + src.shape[axis], ...] = src along axis, in place and outside autograd. */
export function placeSlice(src: Tensor, dst: Tensor, axis: number, start: number): void {
  const ax = normAxis(axis, dst.rank, 'placeSlice');
  if (src.dtype !== dst.dtype || src.rank !== dst.rank || src.shape.some((d, i) => (i === ax ? start < 0 || start + d > dst.shape[i] : d !== dst.shape[i])))
    throw new Error(`placeSlice: ${src.describe()} does not fit ${dst.describe()} at ${start} of axis ${ax}`);
  const st = stridesOf(dst.shape);
  stridedCopy(src, dst, src.shape, stridesOf(src.shape), st, 0, start * st[ax], 'placeSlice');
}

export function concat(ts: Tensor[], axis: number): Tensor {
  if (ts.length === 0) throw new Error('concat: no tensors');
  const ax = normAxis(axis, ts[0].rank, 'concat');
  for (const t of ts) {
    f32OrI32('concat', t);
    if (t.dtype !== ts[0].dtype || t.rank !== ts[0].rank || t.shape.some((d, i) => i !== ax && d !== ts[0].shape[i]))
      throw new Error(`concat: ${ts.map((x) => x.describe()).join(', ')} differ outside axis ${ax}`);
  }
  const shape = [...ts[0].shape];
  shape[ax] = ts.reduce((s, t) => s + t.shape[ax], 0);
  const out = ts[0].rt.empty(shape, ts[0].dtype, 'concat');
  const outStrides = stridesOf(shape);
  let at = 0;
  for (const t of ts) {
    stridedCopy(t, out, t.shape, stridesOf(t.shape), outStrides, 0, at * outStrides[ax], 'concat');
    at += t.shape[ax];
  }
  const bounds = ts.map((_, i) => ts.slice(0, i).reduce((s, u) => s + u.shape[ax], 0));
  return record(out, 'concat', ts, (g) => ts.map((t, i) => slice(g, ax, bounds[i], bounds[i] + t.shape[ax])));
}

/** out[i, :] = table[idx[i], :] (embedding lookup). Table may be packed bf16/f16 (frozen); out is f32 [...idx.shape, cols]. */
export function gatherRows(table: Tensor, idx: Tensor): Tensor {
  if (table.released) throw new Error(`gatherRows: table ${table.describe()} was released`);
  if (table.rank !== 2) throw new Error(`gatherRows: table must be 2-D [rows, cols], got ${table.describe()}`);
  if (table.dtype === 'i32') throw new Error(`gatherRows: table must be a float tensor, got ${table.describe()}`);
  const [nRows, cols] = table.shape;
  const ids = indexInput('gatherRows', idx, nRows);
  const rt = table.rt;
  const out = rt.empty([...idx.shape, cols], 'f32', 'gatherRows');
  rt.backend.gatherRows({ table: table.storage, tableDtype: table.dtype, idx: idx.storage, out: out.storage, nIdx: ids.length, cols });
  return record(out, 'gatherRows', [table, idx], (g) => {
    if (!table.requiresGrad) return [null, null];
    return [scatterAddRows(g, ids, nRows, cols), null];
  });
}

/** Zeros [nRows, cols] with row ids[i] += g[i, :], summed in ascending i (deterministic). */
function scatterAddRows(g: Tensor, ids: Int32Array, nRows: number, cols: number): Tensor {
  const rt = g.rt;
  const order = Array.from(ids.keys()).sort((x, y) => ids[x] - ids[y] || x - y);
  const rows: number[] = [];
  const offsets: number[] = [];
  order.forEach((pos, j) => {
    if (j === 0 || ids[pos] !== ids[order[j - 1]]) {
      rows.push(ids[pos]);
      offsets.push(j);
    }
  });
  offsets.push(order.length);
  const out = rt.zeros([nRows, cols]);
  if (!rows.length) return out;
  const [tRows, tOffsets, tOrder] = [rt.tensor(rows, [rows.length], 'i32'), rt.tensor(offsets, [offsets.length], 'i32'), rt.tensor(order, [order.length], 'i32')];
  rt.backend.scatterAddRows({ g: g.storage, out: out.storage, rows: tRows.storage, offsets: tOffsets.storage, order: tOrder.storage, nUnique: rows.length, cols });
  tRows.release();
  tOffsets.release();
  tOrder.release();
  return out;
}

function f32OrI32(op: string, t: Tensor): void {
  if (t.released) throw new Error(`${op}: input ${t.describe()} was released`);
  if (t.dtype !== 'f32' && t.dtype !== 'i32') throw new Error(`${op}: expected an f32 or i32 tensor, got ${t.describe()}`);
}

/** dst[rowOffset : rowOffset + rows(src)] = src along axis 0, in place and outside autograd (KV caches). */
export function writeRows(dst: Tensor, src: Tensor, rowOffset: number): void {
  f32Inputs('writeRows', dst, src);
  const rowSize = dst.size / dst.shape[0];
  if (src.size % rowSize || src.shape[src.rank - 1] !== dst.shape[dst.rank - 1]) throw new Error(`writeRows: rows of ${src.describe()} do not fit rows of ${dst.describe()}`);
  const rows = src.size / rowSize;
  if (rowOffset < 0 || rowOffset + rows > dst.shape[0]) throw new Error(`writeRows: rows [${rowOffset}, ${rowOffset + rows}) are outside ${dst.describe()}`);
  dst.rt.backend.copy(src.storage, 0, dst.storage, rowOffset * rowSize * 4, src.size * 4);
}
