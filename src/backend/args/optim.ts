// Argument checks for the optimizer kernels, shared by the WebGPU and wasm wrappers, and
// the AdamW scalars both backends derive on the host (in f64, as torch does in Python).
import { sumSquaresParts, type AdamWArgs, type ClipScaleArgs, type SumSquaresArgs } from '../kernels.js';
import { requireDims, requireElems } from './operands.js';

export function checkSumSquares(a: SumSquaresArgs): string {
  const parts = sumSquaresParts(a.n);
  const label = `sumSquares [${a.n}] → slots ${a.slot}…${a.slot + parts - 1}`;
  requireDims(label, { n: a.n, slot: a.slot });
  requireElems(label, 'x', a.x, a.n, 'n');
  requireElems(label, 'out', a.out, a.slot + parts, 'slot + sumSquaresParts(n)');
  return label;
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
  const label = `adamw [${a.n}] step ${a.step}`;
  requireDims(label, { n: a.n });
  if (!Number.isInteger(a.step) || a.step < 1) throw new Error(`${label}: step must be an integer ≥ 1 (torch counts from 1), got ${a.step}`);
  for (const [name, v] of [['lr', a.lr], ['eps', a.eps], ['weightDecay', a.weightDecay]] as const)
    if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`${label}: ${name} must be a finite number ≥ 0, got ${v}`);
  for (const [name, v] of [['beta1', a.beta1], ['beta2', a.beta2]] as const)
    if (!(v >= 0 && v < 1)) throw new Error(`${label}: ${name} must be in [0, 1), got ${v}`);
  for (const [name, s] of [['param', a.param], ['grad', a.grad], ['m', a.m], ['v', a.v]] as const) requireElems(label, name, s, a.n, 'n');
  requireElems(label, 'scale', a.scale, 1, 'one clip factor');
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
