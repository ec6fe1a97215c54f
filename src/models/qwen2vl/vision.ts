// The vision tower of Qwen2-VL and Qwen2.5-VL: Conv3d patch embedding (a matmul over the
// preprocessed patches), transformer blocks with 2-D rotary attention over each image
// (Qwen2.5-VL: windows of merge units except in `fullattBlockIndexes`), and the patch merger.
import type { Tensor } from '../../tensor/tensor.js';
import type { UnaryOp } from '../../backend/kernels.js';
import type { QwenVLKind, VisionConfig } from './config.js';

/**
 * y = x·Wᵀ + b (+ LoRA) for the linear layer `name` (weights `name.weight`, `name.bias`); with
 * `residual` (shaped as y), residual + y.
 */
export type Linear = (x: Tensor, name: string, residual?: Tensor) => Tensor;

export type Grid = [number, number, number];

/**
 * (h, w) of every patch in the order the image processor emits them: merge units of
 * mergeSize × mergeSize patches in row-major unit order, repeated for each temporal step.
 */
export function patchPositions(grids: Grid[], mergeSize: number): Int32Array {
  const total = grids.reduce((s, [t, h, w]) => s + t * h * w, 0);
  const out = new Int32Array(total * 2);
  let at = 0;
  for (const [t, h, w] of grids) {
    for (let ti = 0; ti < t; ti++)
      for (let bh = 0; bh < h / mergeSize; bh++)
        for (let bw = 0; bw < w / mergeSize; bw++)
          for (let i = 0; i < mergeSize; i++)
            for (let j = 0; j < mergeSize; j++) {
              out[at++] = bh * mergeSize + i;
              out[at++] = bw * mergeSize + j;
            }
  }
  return out;
}

/** Cumulative patch counts, one sequence per temporal frame of each image (full attention). */
export function fullSeqlens(grids: Grid[]): number[] {
  const cu = [0];
  for (const [t, h, w] of grids) for (let i = 0; i < t; i++) cu.push(cu[cu.length - 1] + h * w);
  return cu;
}

/**
 * Qwen2.5-VL's window partition (transformers' get_window_index): the order of merge units
 * that groups each window's units together, and the cumulative patch counts of the windows
 * (empty windows dropped, as unique_consecutive does).
 */
export function windowPartition(grids: Grid[], cfg: VisionConfig): { unitOrder: Int32Array; cuSeqlens: number[] } {
  const m = cfg.spatialMergeSize;
  const unit = m * m;
  const win = Math.floor(cfg.windowSize! / m / cfg.patchSize);
  const order: number[] = [];
  const cu = [0];
  let base = 0;
  for (const [t, h, w] of grids) {
    const lh = h / m;
    const lw = w / m;
    const padH = win - (lh % win);
    const padW = win - (lw % win);
    const nh = (lh + padH) / win;
    const nw = (lw + padW) / win;
    for (let ti = 0; ti < t; ti++)
      for (let wh = 0; wh < nh; wh++)
        for (let ww = 0; ww < nw; ww++) {
          let count = 0;
          for (let i = 0; i < win; i++)
            for (let j = 0; j < win; j++) {
              const r = wh * win + i;
              const c = ww * win + j;
              if (r < lh && c < lw) {
                order.push(base + ti * lh * lw + r * lw + c);
                count++;
              }
            }
          const next = cu[cu.length - 1] + count * unit;
          if (next !== cu[cu.length - 1]) cu.push(next);
        }
    base += t * lh * lw;
  }
  return { unitOrder: Int32Array.from(order), cuSeqlens: cu };
}

/** Expands an order over merge units to the order over patches (unit u → patches u·unit … u·unit+unit−1). */
export function unitsToPatches(unitOrder: Int32Array, unit: number): Int32Array {
  const out = new Int32Array(unitOrder.length * unit);
  unitOrder.forEach((u, i) => {
    for (let k = 0; k < unit; k++) out[i * unit + k] = u * unit + k;
  });
  return out;
}

export function inversePermutation(p: Int32Array): Int32Array {
  const inv = new Int32Array(p.length);
  p.forEach((v, i) => (inv[v] = i));
  return inv;
}

/** What the tower needs from the model: weights by name, LoRA-aware linear layers, attention and rotary ops. */
export interface VisionDeps {
  cfg: VisionConfig;
  kind: QwenVLKind;
  linear: Linear;
  weight(name: string): Tensor;
  /** cos/sin tables [patches, headDim] for the given (h, w) positions. */
  rotary(positions: Int32Array): { cos: Tensor; sin: Tensor };
}

const P = 'model.visual';

/** pixel_values [patches, C·T·P·P] → image features [patches / merge², outHiddenSize], in patch order. */
export function visionForward(d: VisionDeps, pixels: Tensor, grids: Grid[]): Tensor {
  const { cfg } = d;
  const rt = pixels.rt;
  const { ops } = rt;
  const nPatches = grids.reduce((s, [t, h, w]) => s + t * h * w, 0);
  const patchDim = cfg.inChannels * cfg.temporalPatchSize * cfg.patchSize ** 2;
  if (pixels.rank !== 2 || pixels.shape[0] !== nPatches || pixels.shape[1] !== patchDim)
    throw new Error(`vision: pixel_values ${pixels.describe()} do not match image_grid_thw ${JSON.stringify(grids)} (expected [${nPatches}, ${patchDim}])`);
  for (const [, h, w] of grids)
    if (h % cfg.spatialMergeSize || w % cfg.spatialMergeSize) throw new Error(`vision: grid ${h}×${w} is not a multiple of spatial_merge_size ${cfg.spatialMergeSize}`);
  const unit = cfg.spatialMergeSize ** 2;
  const heads = cfg.numHeads;
  const hd = cfg.hiddenSize / heads;
  const E = cfg.hiddenSize;

  // Conv3d with stride = kernel is one matmul over flattened patches.
  const convW = d.weight(`${P}.patch_embed.proj.weight`);
  let x = ops.matmul(pixels, ops.reshape(convW, [E, patchDim]), { transB: true });

  let positions = patchPositions(grids, cfg.spatialMergeSize);
  const full = fullSeqlens(grids);
  let windows: number[] = full;
  let unitOrder: Int32Array | null = null;
  if (d.kind === 'qwen2_5_vl') {
    const part = windowPartition(grids, cfg);
    unitOrder = part.unitOrder;
    windows = part.cuSeqlens;
    const perm = unitsToPatches(unitOrder, unit);
    x = ops.gatherRows(x, rt.tensor(perm, [perm.length], 'i32'));
    const reordered = new Int32Array(positions.length);
    perm.forEach((p, i) => {
      reordered[2 * i] = positions[2 * p];
      reordered[2 * i + 1] = positions[2 * p + 1];
    });
    positions = reordered;
  }
  const { cos, sin } = d.rotary(positions);
  const scale = hd ** -0.5;

  for (let i = 0; i < cfg.depth; i++) {
    const b = `${P}.blocks.${i}`;
    const cu = d.kind === 'qwen2_5_vl' && !cfg.fullattBlockIndexes.includes(i) ? windows : full;
    const n1 = norm(d, x, `${b}.norm1`);
    const qkv = ops.reshape(d.linear(n1, `${b}.attn.qkv`), [nPatches, 3, heads, hd]);
    const pick = (j: number) => ops.reshape(ops.slice(qkv, 1, j, j + 1), [nPatches, heads, hd]);
    const q = ops.rope(pick(0), cos, sin);
    const k = ops.rope(pick(1), cos, sin);
    const a = ops.attention(q, k, pick(2), { cuSeqlensQ: cu, causal: false, scale });
    x = d.linear(ops.reshape(a, [nPatches, E]), `${b}.attn.proj`, x);
    const n2 = norm(d, x, `${b}.norm2`);
    x =
      d.kind === 'qwen2_5_vl'
        ? d.linear(activate(ops, cfg.hiddenAct, d.linear(n2, `${b}.mlp.gate_proj`), d.linear(n2, `${b}.mlp.up_proj`)), `${b}.mlp.down_proj`, x)
        : d.linear(ops.unaryOp(actOp(cfg.hiddenAct), d.linear(n2, `${b}.mlp.fc1`)), `${b}.mlp.fc2`, x);
  }

  // Merger: norm, group each merge unit's patches into one row, 2-layer MLP with GELU.
  const merged = ops.reshape(norm(d, x, `${P}.merger.ln_q`), [nPatches / unit, unit * E]);
  let y = d.linear(ops.gelu(d.linear(merged, `${P}.merger.mlp.0`)), `${P}.merger.mlp.2`);
  if (unitOrder) y = ops.gatherRows(y, rt.tensor(inversePermutation(unitOrder), [unitOrder.length], 'i32'));
  return y;
}

/** Qwen2.5-VL uses RMSNorm (eps 1e-6) in the tower, Qwen2-VL LayerNorm (eps 1e-6). */
function norm(d: VisionDeps, x: Tensor, name: string): Tensor {
  const { ops } = x.rt;
  return d.kind === 'qwen2_5_vl'
    ? ops.rmsNorm(x, d.weight(`${name}.weight`), 1e-6)
    : ops.layerNorm(x, d.weight(`${name}.weight`), d.weight(`${name}.bias`), 1e-6);
}

/** The gated MLP's activation applied to gate, times up. */
function activate(ops: Tensor['rt']['ops'], act: string, gate: Tensor, up: Tensor): Tensor {
  if (act === 'silu') return ops.swiglu(gate, up);
  return ops.mul(ops.unaryOp(actOp(act), gate), up);
}

export function actOp(act: string): UnaryOp {
  switch (act) {
    case 'silu':
    case 'swish':
      return 'silu';
    case 'quick_gelu':
      return 'quick_gelu';
    case 'gelu':
      return 'gelu_erf';
    case 'gelu_pytorch_tanh':
    case 'gelu_new':
      return 'gelu_tanh';
    default:
      throw new Error(`unsupported activation '${act}' (supported: silu, quick_gelu, gelu, gelu_pytorch_tanh)`);
  }
}
