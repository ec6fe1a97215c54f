// Shapes with explicit strides (binary, copyStrided): validation, the extent a view
// reaches, and the simplified form the kernels index (unit dimensions dropped,
// contiguous runs merged), shared by the WebGPU and wasm wrappers.
import { requireDims } from './operands.js';

/** Highest rank the strided kernels accept. */
export const MAX_RANK = 6;

export const fmtShape = (shape: readonly number[]): string => `[${shape.join(',')}]`;

/** Elements a strided view reaches: 1 + Σ (shape[d] − 1)·stride[d], or 0 when the view is empty. */
export function stridedExtent(shape: readonly number[], strides: readonly number[]): number {
  if (shape.some((d) => d === 0)) return 0;
  return 1 + shape.reduce((acc, d, i) => acc + (d - 1) * strides[i], 0);
}

export interface StridedLayout {
  /** Rank ≥ 1, no extent-1 dimensions, adjacent dimensions merged where every stride set allows. */
  shape: number[];
  /** One list per stride set, in the order given, aligned with `shape`. */
  strides: number[][];
  /** Element count. */
  n: number;
}

/**
 * Validates a shape (rank ≤ MAX_RANK) and its stride sets, then simplifies them: drops
 * extent-1 dimensions and merges dimension d into its outer neighbour whenever
 * stride[outer] = stride[d]·shape[d] in every set. The kernels then index the same
 * elements with fewer div/mods, and a contiguous operand becomes one unit-stride row.
 */
export function stridedLayout(label: string, shape: readonly number[], strideSets: Record<string, readonly number[]>): StridedLayout {
  if (shape.length > MAX_RANK) throw new Error(`${label}: rank ${shape.length} exceeds the maximum ${MAX_RANK}; merge dimensions first`);
  shape.forEach((d, i) => requireDims(label, { [`shape[${i}]`]: d }));
  const sets = Object.entries(strideSets);
  for (const [name, strides] of sets) {
    if (strides.length !== shape.length) throw new Error(`${label}: ${name} has ${strides.length} entries for a rank-${shape.length} shape`);
    strides.forEach((s, i) => requireDims(label, { [`${name}[${i}]`]: s }));
  }
  const n = shape.reduce((a, b) => a * b, 1);
  const dims: number[] = [];
  const out: number[][] = sets.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && sets.every(([, s], k) => out[k][last] === s[d] * shape[d])) {
      dims[last] *= shape[d];
      sets.forEach(([, s], k) => (out[k][last] = s[d]));
    } else {
      dims.push(shape[d]);
      sets.forEach(([, s], k) => out[k].push(s[d]));
    }
  }
  if (dims.length === 0) return { shape: [1], strides: sets.map(() => [0]), n };
  return { shape: dims, strides: out, n };
}
