// Argument checks for the optimizer kernels, shared by the WebGPU and wasm wrappers, and
// the AdamW scalars both backends derive on the host (in f64, as torch does in Python).
import { ADAMW_GROUP, SUM_SQUARES_GROUP, sumSquaresParts, type AdamWArgs, type ClipScaleArgs, type SumSquaresArgs } from '../kernels.js';
import type { Storage } from '../storage.js';
import { requireDims, requireElems } from './operands.js';

export function checkSumSquares(a: SumSquaresArgs): string {
  const label = `sumSquares ${a.xs.map((e) => `[${e.n}] → slots ${e.slot}…${e.slot + sumSquaresParts(e.n) - 1}`).join(', ')}`;
  if (a.xs.length < 1 || a.xs.length > SUM_SQUARES_GROUP) throw new Error(`${label}: takes 1 to ${SUM_SQUARES_GROUP} tensors, got ${a.xs.length}`);
  for (const e of a.xs) {
    requireDims(label, { n: e.n, slot: e.slot });
    requireElems(label, 'x', e.x, e.n, 'n');
    requireElems(label, 'out', a.out, e.slot + sumSquaresParts(e.n), 'slot + sumSquaresParts(n)');
  }
  requireDisjoint(label, a.xs.map((e) => [e.slot, e.slot + sumSquaresParts(e.n)]), 'output slots');
  requireDistinct(label, [a.out, ...new Set(a.xs.map((e) => e.x))]);
  return label;
}

/** Element ranges [begin, end) that tensors of one call own must not overlap. */
function requireDisjoint(label: string, ranges: [number, number][], what: string): void {
  ranges.forEach(([lo, hi], i) => {
    if (ranges.some(([l, h], j) => j < i && lo < h && l < hi)) throw new Error(`${label}: two tensors share ${what}`);
  });
}

/** Written storages, then the read ones deduplicated (reads may repeat): none may be bound twice, as WebGPU forbids aliasing a written binding. */
function requireDistinct(label: string, storages: Storage[]): void {
  if (new Set(storages).size !== storages.length) throw new Error(`${label}: a written buffer is also passed as another operand`);
}

export function checkClipScale(a: ClipScaleArgs): string {
  const label = `clipScale [${a.count} norms, maxNorm ${a.maxNorm}]`;
  requireDims(label, { count: a.count });
  if (Number.isNaN(a.maxNorm)) throw new Error(`${label}: maxNorm is NaN (pass ≤ 0 to disable clipping)`);
  requireElems(label, 'sumsq', a.sumsq, a.count, 'count');
  requireElems(label, 'out', a.out, 2, '[scale, norm]');
  return label;
}

/** Per-step constants of torch's _single_tensor_adam (decoupled weight decay), rounded to f32 by the kernels. */
export interface AdamWScalars {
  /** 1 − lr·wd */
  decay: number;
  /** 1 − β1, the weight of exp_avg.lerp_(grad, 1 − β1) */
  w1: number;
  beta2: number;
  /** 1 − β2 */
  w2: number;
  /** lr / (1 − β1^step) */
  stepSize: number;
  /** √(1 − β2^step) */
  bc2Sqrt: number;
  eps: number;
}

export function checkAdamW(a: AdamWArgs): { label: string; scalars: AdamWScalars } {
  const label = `adamw [${a.tensors.map((t) => t.n).join(', ')}] step ${a.step}`;
  if (a.tensors.length < 1 || a.tensors.length > ADAMW_GROUP) throw new Error(`${label}: takes 1 to ${ADAMW_GROUP} tensors, got ${a.tensors.length}`);
  if (!Number.isInteger(a.step) || a.step < 1) throw new Error(`${label}: step must be an integer ≥ 1 (torch counts from 1), got ${a.step}`);
  for (const [name, v] of [['lr', a.lr], ['eps', a.eps], ['weightDecay', a.weightDecay]] as const)
    if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`${label}: ${name} must be a finite number ≥ 0, got ${v}`);
  for (const [name, v] of [['beta1', a.beta1], ['beta2', a.beta2]] as const)
    if (!(v >= 0 && v < 1)) throw new Error(`${label}: ${name} must be in [0, 1), got ${v}`);
  for (const t of a.tensors) {
    requireDims(label, { n: t.n, at: t.at });
    requireElems(label, 'param', t.param, t.n, 'n');
    requireElems(label, 'grad', t.grad, t.n, 'n');
    for (const [name, s] of [['m', a.m], ['v', a.v]] as const) requireElems(label, name, s, t.at + t.n, 'at + n');
  }
  requireDisjoint(label, a.tensors.map((t) => [t.at, t.at + t.n]), 'moment elements');
  requireElems(label, 'scale', a.scale, 1, 'one clip factor');
  requireDistinct(label, [a.m, a.v, ...a.tensors.map((t) => t.param), ...new Set([a.scale, ...a.tensors.map((t) => t.grad)])]);
  const scalars: AdamWScalars = {
    decay: 1 - a.lr * a.weightDecay,
    w1: 1 - a.beta1,
    beta2: a.beta2,
    w2: 1 - a.beta2,
    stepSize: a.lr / (1 - a.beta1 ** a.step),
    bc2Sqrt: Math.sqrt(1 - a.beta2 ** a.step),
    eps: a.eps,
  };
  return { label, scalars };
}
