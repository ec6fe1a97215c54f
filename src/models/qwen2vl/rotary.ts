// The model's rotary tables on the device: src/nn/rope.ts computes them as transformers does,
// this uploads them in the layouts the decoder ([3, T] M-RoPE positions) and the vision tower
// ([N, 2] (h, w) positions) hold.
import type { Runtime } from '../../tensor/runtime.js';
import type { Tensor } from '../../tensor/tensor.js';
import { mropeTables as mrope, visionRopeTables, type RopeTables } from '../../nn/rope.js';
import type { TextConfig } from './config.js';

function upload(rt: Runtime, t: RopeTables): { cos: Tensor; sin: Tensor } {
  return { cos: rt.tensor(t.cos, [t.t, t.d]), sin: rt.tensor(t.sin, [t.t, t.d]) };
}

/** Multimodal RoPE tables for positions [3, T] (temporal, height, width rows). */
export function mropeTables(rt: Runtime, positions: Int32Array, T: number, cfg: TextConfig): { cos: Tensor; sin: Tensor } {
  const rows = [positions.subarray(0, T), positions.subarray(T, 2 * T), positions.subarray(2 * T, 3 * T)] as const;
  return upload(rt, mrope(rows, cfg.headDim, cfg.ropeTheta, cfg.mropeSection));
}

/** The vision tower's 2-D rotary tables for positions [N, 2] (h, w). */
export function visionRotaryTables(rt: Runtime, positions: Int32Array, headDim: number, theta = 10_000): { cos: Tensor; sin: Tensor } {
  const n = positions.length / 2;
  const h = Int32Array.from({ length: n }, (_, i) => positions[2 * i]);
  const w = Int32Array.from({ length: n }, (_, i) => positions[2 * i + 1]);
  return upload(rt, visionRopeTables(h, w, headDim, theta));
}
