// transformers' Qwen2-VL/Qwen2.5-VL get_rope_index (v5): 3-D rotary positions (temporal,
// height, width) for a sequence with image tokens. Text runs count up on all three axes;
// an image of llm grid (t, h/m, w/m) gets the meshgrid of its axes offset by the current
// position, and the text after it continues from that position + max(h, w)/m.
import type { QwenVLConfig } from './config.js';
import type { Grid } from './vision.js';

export interface RopeIndex {
  /** [3, T]: temporal, height and width position of each token. */
  positions: Int32Array;
  /** max position + 1 − T: added to the text positions of tokens generated after this prompt. */
  delta: number;
}

export function ropeIndex(cfg: QwenVLConfig, ids: Int32Array, grids: Grid[]): RopeIndex {
  const T = ids.length;
  const m = cfg.vision.spatialMergeSize;
  const out = new Int32Array(3 * T);
  let pos = 0;
  let img = 0;
  let max = -1;
  for (let i = 0; i < T; ) {
    if (ids[i] === cfg.videoTokenId) throw new Error('rope index: video inputs are not supported');
    if (ids[i] !== cfg.imageTokenId) {
      for (let a = 0; a < 3; a++) out[a * T + i] = pos;
      max = Math.max(max, pos);
      pos++;
      i++;
      continue;
    }
    let end = i;
    while (end < T && ids[end] === cfg.imageTokenId) end++;
    const grid = grids[img++];
    if (!grid) throw new Error(`rope index: image ${img} has tokens in the prompt but no image_grid_thw entry (${grids.length} given)`);
    const [gt, gh, gw] = grid;
    const [lh, lw] = [gh / m, gw / m];
    if (end - i !== gt * lh * lw)
      throw new Error(`rope index: image ${img} has ${end - i} image tokens but its grid ${gt}×${gh}×${gw} needs ${gt * lh * lw} (merge size ${m})`);
    let k = i;
    for (let t = 0; t < gt; t++)
      for (let h = 0; h < lh; h++)
        for (let w = 0; w < lw; w++, k++) {
          out[k] = t + pos;
          out[T + k] = h + pos;
          out[2 * T + k] = w + pos;
          max = Math.max(max, t + pos, h + pos, w + pos);
        }
    pos += Math.max(gh, gw) / m;
    i = end;
  }
  if (img !== grids.length) throw new Error(`rope index: ${grids.length} image grids given but the prompt has ${img} images`);
  return { positions: out, delta: max + 1 - T };
}

export interface BatchRopeIndex {
  /** [3, batch, length]: padding positions are 0. */
  positionIds: Int32Array;
  /** Per row: max position + 1 − real tokens (transformers' mrope_position_deltas). */
  ropeDeltas: Int32Array;
}

/**
 * get_rope_index over a padded batch, as transformers 5: each row keeps only the tokens its
 * attention mask marks 1 (left or right padding alike), takes the image grids of its image spans
 * in order (grids are consumed across rows), and gets ropeIndex's positions there; padding gets 0.
 * Images only: video tokens are rejected.
 */
export function batchRopeIndex(cfg: QwenVLConfig, ids: readonly ArrayLike<number>[], grids: Grid[], attentionMask?: readonly ArrayLike<number>[]): BatchRopeIndex {
  const batch = ids.length;
  const length = batch ? ids[0].length : 0;
  const positionIds = new Int32Array(3 * batch * length);
  const ropeDeltas = new Int32Array(batch);
  let img = 0;
  for (let b = 0; b < batch; b++) {
    const row = ids[b];
    const mask = attentionMask?.[b];
    if (row.length !== length || (mask && mask.length !== length))
      throw new Error(`rope index: row ${b} has ${row.length} ids and ${mask?.length ?? length} mask entries; every row needs ${length}`);
    const keep: number[] = [];
    for (let i = 0; i < length; i++) if (!mask || mask[i] === 1) keep.push(i);
    const real = Int32Array.from(keep, (i) => row[i]);
    let spans = 0;
    for (let i = 0; i < real.length; i++) if (real[i] === cfg.imageTokenId && (i === 0 || real[i - 1] !== cfg.imageTokenId)) spans++;
    if (img + spans > grids.length) throw new Error(`rope index: the batch has more image spans than the ${grids.length} image grids given`);
    const r = ropeIndex(cfg, real, grids.slice(img, img + spans));
    img += spans;
    for (let a = 0; a < 3; a++)
      for (let j = 0; j < keep.length; j++) positionIds[(a * batch + b) * length + keep[j]] = r.positions[a * real.length + j];
    ropeDeltas[b] = real.length ? r.delta : 0;
  }
  if (img !== grids.length) throw new Error(`rope index: ${grids.length} image grids given but the batch has ${img} images`);
  return { positionIds, ropeDeltas };
}
