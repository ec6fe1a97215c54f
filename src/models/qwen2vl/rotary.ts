// cos/sin tables for the rotate-half RoPE kernel, computed as transformers does in float32:
// inv_freq = 1 / θ^(2i/d), angle = f32(position · inv_freq), table row = [f(angles), f(angles)].
import type { Runtime } from '../../tensor/runtime.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { TextConfig } from './config.js';

const f32 = Math.fround;

/** inv_freq over `dim` rotary dims (dim/2 entries), rounded like torch's float32 arange/pow/reciprocal. */
export function invFreq(dim: number, theta: number): Float32Array {
  return Float32Array.from({ length: dim / 2 }, (_, i) => f32(1 / f32(theta ** f32((2 * i) / dim))));
}

function tables(rt: Runtime, rows: number, dim: number, angle: (row: number, j: number) => number): { cos: Tensor; sin: Tensor } {
  const cos = new Float32Array(rows * dim);
  const sin = new Float32Array(rows * dim);
  const half = dim / 2;
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < half; j++) {
      const a = angle(r, j);
      cos[r * dim + j] = cos[r * dim + j + half] = Math.cos(a);
      sin[r * dim + j] = sin[r * dim + j + half] = Math.sin(a);
    }
  return { cos: rt.tensor(cos, [rows, dim]), sin: rt.tensor(sin, [rows, dim]) };
}

/**
 * Multimodal RoPE: rotary dim j < headDim/2 takes its position from the temporal, height or
 * width id according to mrope_section (e.g. [16, 24, 24]); positions is [3, T].
 */
export function mropeTables(rt: Runtime, positions: Int32Array, T: number, cfg: TextConfig): { cos: Tensor; sin: Tensor } {
  const inv = invFreq(cfg.headDim, cfg.ropeTheta);
  const [s0, s1] = cfg.mropeSection;
  const axis = Int32Array.from({ length: cfg.headDim / 2 }, (_, j) => (j < s0 ? 0 : j < s0 + s1 ? 1 : 2));
  return tables(rt, T, cfg.headDim, (t, j) => f32(positions[axis[j] * T + t] * inv[j]));
}

/** The vision tower's axial 2-D RoPE: the first half of the rotary dims from h, the second from w; positions is [N, 2] (h, w). */
export function visionRotaryTables(rt: Runtime, positions: Int32Array, headDim: number, theta = 10_000): { cos: Tensor; sin: Tensor } {
  const inv = invFreq(headDim / 2, theta);
  const quarter = headDim / 4;
  return tables(rt, positions.length / 2, headDim, (n, j) => (j < quarter ? f32(positions[2 * n] * inv[j]) : f32(positions[2 * n + 1] * inv[j - quarter])));
}
