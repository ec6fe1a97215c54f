// Elementwise functions with their derivatives from the unaryGrad kernel.
import type { UnaryOp } from '../../backend/kernels.js';
import { record } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import { f32Inputs } from './check.js';

export function unaryOp(op: UnaryOp, x: Tensor, alpha = 1): Tensor {
  f32Inputs(op, x);
  const rt = x.rt;
  const out = rt.empty(x.shape, 'f32', op);
  if (out.size) rt.backend.unary({ op, x: x.storage, out: out.storage, n: x.size, alpha });
  return record(out, op, [x], (g) => {
    // Linear ops need not keep x alive: their gradient is the same map applied to g.
    if (op === 'scale' || op === 'neg') return [unaryOp(op, g, alpha)];
    const gx = rt.empty(x.shape, 'f32', `${op} backward`);
    if (gx.size) rt.backend.unaryGrad({ op, x: x.storage, gy: g.storage, gx: gx.storage, n: x.size, alpha });
    return [gx];
  });
}

export const exp = (x: Tensor) => unaryOp('exp', x);
export const log = (x: Tensor) => unaryOp('log', x);
export const sqrt = (x: Tensor) => unaryOp('sqrt', x);
export const rsqrt = (x: Tensor) => unaryOp('rsqrt', x);
export const square = (x: Tensor) => unaryOp('square', x);
export const relu = (x: Tensor) => unaryOp('relu', x);
export const sigmoid = (x: Tensor) => unaryOp('sigmoid', x);
export const tanh = (x: Tensor) => unaryOp('tanh', x);
export const silu = (x: Tensor) => unaryOp('silu', x);
export const quickGelu = (x: Tensor) => unaryOp('quick_gelu', x);
/** GELU; approximate 'tanh' as torch's gelu(approximate='tanh'), 'none' the exact erf form. */
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none') => unaryOp(approximate === 'tanh' ? 'gelu_tanh' : 'gelu_erf', x);
