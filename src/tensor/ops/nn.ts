// Neural-network building blocks over the last axis: softmax, log-softmax, RMSNorm,
// LayerNorm, the SwiGLU product.
import { record } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import { expectShape, f32Inputs } from './check.js';
import { reduceRaw } from './arith.js';

function rowsCols(x: Tensor): [number, number] {
  const cols = x.shape[x.rank - 1] ?? 1;
  return [cols ? x.size / cols : 0, cols];
}

function softmaxLike(x: Tensor, log: boolean): Tensor {
  const op = log ? 'logSoftmax' : 'softmax';
  f32Inputs(op, x);
  if (x.rank === 0) throw new Error(`${op}: needs at least 1 dimension`);
  const rt = x.rt;
  const [rows, cols] = rowsCols(x);
  const out = rt.empty(x.shape, 'f32', op);
  if (out.size) rt.backend.softmax({ x: x.storage, out: out.storage, rows, cols, log });
  return record(out, op, [x], (g) => {
    const gx = rt.empty(x.shape, 'f32', `${op} backward`);
    if (gx.size) rt.backend.softmaxGrad({ y: out.storage, gy: g.storage, gx: gx.storage, rows, cols, log });
    return [gx];
  });
}

export const softmax = (x: Tensor) => softmaxLike(x, false);
export const logSoftmax = (x: Tensor) => softmaxLike(x, true);

/** RMSNorm as Qwen2/LLaMA: x / √(mean(x²) + eps) · w, over the last axis. */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  f32Inputs('rmsNorm', x, weight);
  const [rows, cols] = rowsCols(x);
  expectShape('rmsNorm', 'weight', weight.shape, [cols]);
  const rt = x.rt;
  const out = rt.empty(x.shape, 'f32', 'rmsNorm');
  const rstd = rt.empty([rows], 'f32', 'rmsNorm rstd');
  if (out.size) rt.backend.rmsNorm({ x: x.storage, weight: weight.storage, out: out.storage, rstd: rstd.storage, rows, cols, eps });
  return record(out, 'rmsNorm', [x, weight], (g) => {
    const gx = rt.empty(x.shape, 'f32', 'rmsNorm backward');
    const gwRows = rt.empty(x.shape, 'f32', 'rmsNorm backward');
    rt.backend.rmsNormGrad({ x: x.storage, weight: weight.storage, rstd: rstd.storage, gy: g.storage, gx: gx.storage, gwRows: gwRows.storage, rows, cols });
    const gw = weight.requiresGrad ? reduceRaw(gwRows, 1, rows, cols, 'sum', [cols]) : null;
    gwRows.release();
    return [x.requiresGrad ? gx : (gx.release(), null), gw];
  });
}

/** LayerNorm over the last axis (biased variance), as torch.nn.LayerNorm. */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps: number): Tensor {
  f32Inputs('layerNorm', x, weight, bias);
  const [rows, cols] = rowsCols(x);
  expectShape('layerNorm', 'weight', weight.shape, [cols]);
  expectShape('layerNorm', 'bias', bias.shape, [cols]);
  const rt = x.rt;
  const out = rt.empty(x.shape, 'f32', 'layerNorm');
  const mean = rt.empty([rows], 'f32', 'layerNorm mean');
  const rstd = rt.empty([rows], 'f32', 'layerNorm rstd');
  if (out.size)
    rt.backend.layerNorm({ x: x.storage, weight: weight.storage, bias: bias.storage, out: out.storage, mean: mean.storage, rstd: rstd.storage, rows, cols, eps });
  return record(out, 'layerNorm', [x, weight, bias], (g) => {
    const gx = rt.empty(x.shape, 'f32', 'layerNorm backward');
    const gwRows = rt.empty(x.shape, 'f32', 'layerNorm backward');
    rt.backend.layerNormGrad({ x: x.storage, weight: weight.storage, mean: mean.storage, rstd: rstd.storage, gy: g.storage, gx: gx.storage, gwRows: gwRows.storage, rows, cols });
    const gw = weight.requiresGrad ? reduceRaw(gwRows, 1, rows, cols, 'sum', [cols]) : null;
    gwRows.release();
    const gb = bias.requiresGrad ? reduceRaw(g, 1, rows, cols, 'sum', [cols]) : null;
    return [x.requiresGrad ? gx : (gx.release(), null), gw, gb];
  });
}

/** silu(gate) ⊙ up — the gated MLP product of Qwen2 / LLaMA. */
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  f32Inputs('swiglu', gate, up);
  expectShape('swiglu', 'up', up.shape, gate.shape);
  const rt = gate.rt;
  const out = rt.empty(gate.shape, 'f32', 'swiglu');
  if (out.size) rt.backend.swiglu({ gate: gate.storage, up: up.storage, out: out.storage, n: out.size });
  return record(out, 'swiglu', [gate, up], (g) => {
    const gGate = rt.empty(gate.shape, 'f32', 'swiglu backward');
    const gUp = rt.empty(up.shape, 'f32', 'swiglu backward');
    rt.backend.swigluGrad({ gate: gate.storage, up: up.storage, gy: g.storage, gGate: gGate.storage, gUp: gUp.storage, n: out.size });
    return [gGate, gUp];
  });
}

/** swiglu(gate, up) where x [..., 2·I] holds gate and up side by side (one stacked product made both): out [..., I]. */
export function swigluStacked(x: Tensor): Tensor {
  f32Inputs('swigluStacked', x);
  const width = x.shape[x.rank - 1];
  if (x.rank < 1 || width % 2) throw new Error(`swigluStacked: the last axis of ${x.describe()} must hold gate and up side by side (an even width)`);
  const rt = x.rt;
  const cols = width / 2;
  const rows = x.size / Math.max(width, 1);
  const out = rt.empty([...x.shape.slice(0, -1), cols], 'f32', 'swigluStacked');
  if (out.size) rt.backend.swigluStacked({ x: x.storage, out: out.storage, rows, cols });
  return record(out, 'swigluStacked', [x], (g) => {
    const gx = rt.empty(x.shape, 'f32', 'swigluStacked backward');
    if (gx.size) rt.backend.swigluStackedGrad({ x: x.storage, gy: g.storage, gx: gx.storage, rows, cols });
    return [gx];
  });
}
